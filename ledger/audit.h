// File: ledger/audit.h
//
// AuditLog re-verifies a whole ledger from its stored bytes, trusting nothing derived:
//  - every entry decodes, holds its own sequence, and chains to the previous entry's leaf hash;
//  - every stored tree node (every row of every tile) equals the hash recomputed from the
//    entries, and no tile lies beyond the tree;
//  - every stored checkpoint carries a valid signature by the log's key, its origin, and the
//    root of the recomputed tree at its size;
//  - the event-id index maps every entry's event id to that entry and nothing else.
// It reports the first bad sequence number and what is wrong with it. Entries are checked by
// several threads in tile-aligned ranges. Read-only; safe beside a running writer (it audits
// the state at the moment it opened).
#ifndef TRACELEDGER_LEDGER_AUDIT_H_
#define TRACELEDGER_LEDGER_AUDIT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ledger/base/status.h"
#include "ledger/log_store.h"
#include "ledger/signed_note.h"
#include "tl/v1/ledger.pb.h"

namespace traceledger::ledger {

struct AuditOptions {
  // Threads checking entries; 0 = one per core.
  unsigned threads = 0;
  // Called now and then from an audit thread with (entries checked, entries in the log).
  std::function<void(uint64_t, uint64_t)> progress;
};

struct AuditFinding {
  // The entry the problem is in or first affects; absent for problems of no single entry
  // (a checkpoint, a stray tile or index record).
  std::optional<uint64_t> sequence;
  std::string problem;
};

// At most this many findings are kept (the lowest sequences first).
inline constexpr size_t kMaxAuditFindings = 100;

struct AuditReport {
  uint64_t entries_checked = 0;
  uint64_t tiles_checked = 0;
  uint64_t checkpoints_checked = 0;
  uint64_t index_records_checked = 0;
  // Sorted: findings with a sequence first, by sequence; then the others.
  std::vector<AuditFinding> findings;
  bool ok() const { return findings.empty(); }
  // The first finding's sequence, if it has one.
  std::optional<uint64_t> first_bad_sequence() const;
};

// Audits the log in `store`. The Status is non-OK only when the audit itself could not run
// (I/O errors); everything wrong with the data is a finding in the report.
Result<AuditReport> AuditLog(const LogStore& store, const AuditOptions& options);

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_AUDIT_H_
