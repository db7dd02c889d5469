// File: ledger/data_dir.h
//
// A ledger data directory (docs/formats/storage.md):
//   DIR/db/               the RocksDB database (LogStore)
//   DIR/checkpoint.key    the checkpoint signing key, signed-note private key text, mode 0600
//   DIR/checkpoint.vkey   its verifier key, for anyone who checks checkpoints
// These helpers keep that layout in one place for the CLI and the servers.
#ifndef TRACELEDGER_LEDGER_DATA_DIR_H_
#define TRACELEDGER_LEDGER_DATA_DIR_H_

#include <memory>
#include <string>

#include "ledger/base/status.h"
#include "ledger/ledger.h"
#include "ledger/signed_note.h"

namespace traceledger::ledger {

std::string DatabasePath(const std::string& data_dir);
std::string SigningKeyPath(const std::string& data_dir);
std::string VerifierKeyPath(const std::string& data_dir);

enum class Access { kReadWrite, kReadOnly };

// Generates a signing key named `origin`, writes the key files and creates an empty ledger.
// AlreadyExists if DIR already holds a ledger or key.
Result<std::unique_ptr<Ledger>> CreateDataDir(const std::string& data_dir,
                                              const std::string& origin, LedgerOptions options);
// Opens the ledger in DIR; kReadWrite loads DIR/checkpoint.key.
Result<std::unique_ptr<Ledger>> OpenDataDir(const std::string& data_dir, Access access,
                                            LedgerOptions options);

Result<std::string> ReadFileToString(const std::string& path);
// Writes via a temporary file, fsync and rename; `mode` e.g. 0600. AlreadyExists if present
// and `overwrite` is kNo.
enum class Overwrite { kNo, kYes };
Status WriteFileAtomically(const std::string& path, std::string_view content, unsigned mode,
                           Overwrite overwrite);

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_DATA_DIR_H_
