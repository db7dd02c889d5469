// File: api/server/ledger_json.h
//
// The JSON of ledger reads, shared by the HTTP API (GET /ledger/...) and `tracectl` so that both
// answer exactly the same documents (docs/formats/merkle-tree.md, ledger-entry.md):
//   inclusion    {tree_size, leaf_index, leaf_hash, root_hash, path[]}
//   consistency  {from, to, from_root_hash, root_hash, path[]}
//   entry        {seq, leaf_hash, previous_hash, record_time_unix_micros, event_id,
//                 submitter_id, event_encoding, source, entry_base64, event | event_base64}
// Hashes are lowercase hex. Thread-safe as the Ledger is.
#ifndef TRACELEDGER_API_SERVER_LEDGER_JSON_H_
#define TRACELEDGER_API_SERVER_LEDGER_JSON_H_

#include <cstdint>

#include <nlohmann/json.hpp>

#include "ledger/base/status.h"
#include "ledger/ledger.h"

namespace traceledger::api {

// Proof that entry `seq` is in the tree of `tree_size` entries. InvalidArgument unless
// seq < tree_size; OutOfRange if tree_size > ledger.size().
Result<nlohmann::json> InclusionProofJson(ledger::Ledger& ledger, uint64_t seq, uint64_t tree_size);
// Proof that the tree of `from` entries is a prefix of the tree of `to`. InvalidArgument unless
// from <= to; OutOfRange if to > ledger.size().
Result<nlohmann::json> ConsistencyProofJson(ledger::Ledger& ledger, uint64_t from, uint64_t to);
// Entry `seq` with its exact bytes (base64). OutOfRange past the end; DataLoss if it does not
// decode.
Result<nlohmann::json> EntryJson(const ledger::Ledger& ledger, uint64_t seq);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_SERVER_LEDGER_JSON_H_
