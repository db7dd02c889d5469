// File: ledger/checkpoint.h
//
// C2SP tlog-checkpoint v1.0.0 bodies (docs/formats/checkpoint.md):
//   <origin>\n<tree size, decimal>\n<base64 root hash>\n[extension lines\n]
// signed as a C2SP signed note (ledger/signed_note.h). Pure functions.
#ifndef TRACELEDGER_LEDGER_CHECKPOINT_H_
#define TRACELEDGER_LEDGER_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/base/status.h"
#include "ledger/base/types.h"
#include "ledger/signed_note.h"

namespace traceledger::ledger {

inline constexpr size_t kMaxCheckpointExtensions = 16;

struct Checkpoint {
  std::string origin;
  uint64_t tree_size = 0;
  Sha256Digest root_hash{};
  std::vector<std::string> extensions;  // extra lines, without their '\n'

  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// An origin is non-empty, printable ASCII without spaces or '+' (a scheme-less URL-like name).
Status ValidateOrigin(std::string_view origin);

// The note text of `checkpoint` (ends in '\n'). Requires a valid origin and extensions.
std::string FormatCheckpoint(const Checkpoint& checkpoint);

// Parses note text. Returns InvalidArgument naming the bad line.
Result<Checkpoint> ParseCheckpoint(std::string_view text);

// Verifies the signed note with `verifier` and parses it; also requires origin == the key
// name's log (the origin line must equal `verifier.name()` unless `expected_origin` is given).
Result<Checkpoint> OpenCheckpoint(std::string_view signed_note, const NoteVerifier& verifier,
                                  std::string_view expected_origin);

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_CHECKPOINT_H_
