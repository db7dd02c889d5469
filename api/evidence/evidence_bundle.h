// File: api/evidence/evidence_bundle.h
//
// Evidence bundles for courts (docs/formats/evidence-bundle.md): one self-contained text file
// holding chosen ledger entries' exact bytes, their leaf indexes, their inclusion proofs
// against one signed checkpoint, that checkpoint and the log's verifier key, so that a third
// party can check offline (no server, no database) that the log committed to those events.
// Also the offline check that a newer checkpoint extends an older one (consistency proof).
//
// BuildEvidenceBundle() reads a Ledger (thread-safe, as the Ledger is). The Verify functions
// are pure: they never throw, never touch disk, and report what failed in their verdicts.
#ifndef TRACELEDGER_API_EVIDENCE_EVIDENCE_BUNDLE_H_
#define TRACELEDGER_API_EVIDENCE_EVIDENCE_BUNDLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/base/status.h"
#include "ledger/ledger.h"

namespace traceledger::api {

// First line of every bundle of this version.
inline constexpr std::string_view kEvidenceBundleHeader = "traceledger.org/evidence-bundle@v1";
// Most entries in one bundle (the server answers 400 above it).
inline constexpr size_t kMaxBundleEntries = 10000;
// Largest bundle built or accepted, in bytes (the server answers 413 above it).
inline constexpr size_t kMaxBundleBytes = size_t{64} << 20;
// Longest title, in bytes before percent-encoding.
inline constexpr size_t kMaxBundleTitleBytes = 256;
// Most hashes in one inclusion proof: one per level of a 2^64-leaf tree.
inline constexpr size_t kMaxInclusionProofHashes = 64;

// Builds a bundle of the committed entries `sequences` (duplicates removed, sorted) against
// the newest signed checkpoint covering all of them; if none does yet and the ledger is
// writable, signs one (Ledger::Checkpoint()). `title` (e.g. "recall R-1", may be empty) is a
// label: the log does not attest it; it is covered only by the bundle's sha256 line. The
// bundle is verified before it is returned.
// Returns InvalidArgument for an empty list, more than kMaxBundleEntries sequences or a title
// over kMaxBundleTitleBytes; OutOfRange for a sequence not committed; FailedPrecondition if
// no checkpoint covers them and the ledger is read-only; ResourceExhausted over
// kMaxBundleBytes; DataLoss if stored data fails a check (the entry or checkpoint is corrupt,
// or a stored event no longer decodes to its event id).
Result<std::string> BuildEvidenceBundle(ledger::Ledger& ledger, std::vector<uint64_t> sequences,
                                        std::string_view title);

// The sequences of committed events, in the order given. NotFound naming the first id that is
// not in the log; InvalidArgument for an empty list or more than kMaxBundleEntries ids.
Result<std::vector<uint64_t>> SequencesOfEvents(const ledger::Ledger& ledger,
                                                const std::vector<std::string>& event_ids);

struct EntryVerdict {
  uint64_t index = 0;                    // the leaf index (= ledger sequence) stated
  std::string event_id;                  // as stated by the bundle's event-id line
  std::string submitter_id;              // from the entry, if it decodes
  int64_t record_time_unix_micros = 0;   // from the entry, if it decodes
  bool ok = false;
  std::string problem;  // what failed, if !ok, e.g. "index 3: inclusion proof leads to ..."
};

struct BundleVerdict {
  bool ok = false;       // the bundle parsed, its checkpoint and every entry verified
  std::string problem;   // bundle-level failures (parse, key, signature, sha256), "; "-joined
  std::string origin;    // of the checkpoint, once it parsed
  uint64_t tree_size = 0;
  std::string root_hash_hex;
  std::string title;     // decoded; not attested by the log
  std::vector<EntryVerdict> entries;
};

// Offline verification of `bundle` with the log's verifier key text `vkey` (obtained
// independently of the bundle): the format (strict: one encoding per bundle), the embedded
// key equals `vkey`, the checkpoint's signature by it, each entry decodes as a LedgerEntry
// whose sequence equals its index and event_id equals the event-id line, the entry's event
// decodes (ingest::DecodeEvent with the entry's encoding) to that event id, each inclusion
// proof leads to the checkpoint's root, and the sha256 line matches the bytes before it.
// Entries are judged even when another part fails; an entry is ok only if the checkpoint
// verified too.
BundleVerdict VerifyEvidenceBundle(std::string_view bundle, std::string_view vkey);

struct ConsistencyVerdict {
  bool ok = false;
  std::string problem;  // what failed, if !ok
  std::string origin;
  uint64_t old_size = 0;
  uint64_t new_size = 0;
};

// Offline check that the checkpoint `new_note` extends `old_note` (both C2SP signed notes that
// must verify with `vkey`): `proof_json` is the JSON of `tracectl prove consistency` and of
// the HTTP consistency endpoint: {"from", "to", "path": [hex...]} and optionally
// "from_root_hash" and "root_hash" (lowercase hex), which must then match the notes' roots.
// from/to must equal the notes' tree sizes; the path must be the RFC 9162 consistency proof.
ConsistencyVerdict VerifyCheckpointConsistency(std::string_view vkey, std::string_view old_note,
                                               std::string_view new_note,
                                               std::string_view proof_json);

// Percent-encoding of event ids and titles in bundles: bytes 0x21..0x7E other than '%' stand
// for themselves, every other byte is "%" and two uppercase hex digits. Exposed for tests.
std::string PercentEncode(std::string_view bytes);
// Inverse of PercentEncode; InvalidArgument unless `text` is exactly PercentEncode of the
// result (so each byte string has one encoding).
Result<std::string> PercentDecode(std::string_view text);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_EVIDENCE_EVIDENCE_BUNDLE_H_
