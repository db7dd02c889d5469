// File: api/server/ledger_json.cc
#include "api/server/ledger_json.h"

#include <google/protobuf/util/json_util.h>

#include <string>
#include <vector>

#include "ledger/base/encoding.h"
#include "ledger/merkle/hasher.h"
#include "tl/v1/ledger.pb.h"

namespace traceledger::api {
namespace {

using nlohmann::json;

json HexList(const std::vector<Sha256Digest>& hashes) {
  json out = json::array();
  for (const Sha256Digest& h : hashes) out.push_back(HexEncode(h));
  return out;
}

}  // namespace

Result<json> InclusionProofJson(ledger::Ledger& ledger, uint64_t seq, uint64_t tree_size) {
  auto proof = ledger.ProveInclusion(seq, tree_size);
  if (!proof.ok()) return proof.status();
  auto leaf = ledger.LeafHash(seq);
  if (!leaf.ok()) return leaf.status();
  auto root = ledger.RootHash(tree_size);
  if (!root.ok()) return root.status();
  return json{{"tree_size", tree_size},
              {"leaf_index", seq},
              {"leaf_hash", HexEncode(*leaf)},
              {"root_hash", HexEncode(*root)},
              {"path", HexList(*proof)}};
}

Result<json> ConsistencyProofJson(ledger::Ledger& ledger, uint64_t from, uint64_t to) {
  auto proof = ledger.ProveConsistency(from, to);
  if (!proof.ok()) return proof.status();
  auto from_root = ledger.RootHash(from);
  if (!from_root.ok()) return from_root.status();
  auto root = ledger.RootHash(to);
  if (!root.ok()) return root.status();
  return json{{"from", from},
              {"to", to},
              {"from_root_hash", HexEncode(*from_root)},
              {"root_hash", HexEncode(*root)},
              {"path", HexList(*proof)}};
}

Result<json> EntryJson(const ledger::Ledger& ledger, uint64_t seq) {
  auto bytes = ledger.GetEntry(seq);
  if (!bytes.ok()) return bytes.status();
  v1::LedgerEntry entry;
  if (!entry.ParseFromString(*bytes)) {
    return Status::DataLoss("entry " + std::to_string(seq) + " does not decode");
  }
  std::string source_json;
  if (!google::protobuf::util::MessageToJsonString(entry.source(), &source_json).ok()) {
    source_json = "null";
  }
  json out = {{"seq", entry.sequence()},
              {"leaf_hash", HexEncode(ledger::merkle::HashLeaf(*bytes))},
              {"previous_hash", HexEncode(entry.previous_hash())},
              {"record_time_unix_micros", entry.record_time_unix_micros()},
              {"event_id", entry.event_id()},
              {"submitter_id", entry.submitter_id()},
              {"event_encoding", v1::EventEncoding_Name(entry.event_encoding())},
              {"source", json::parse(source_json, nullptr, false)},
              {"entry_base64", Base64Encode(*bytes)}};
  if (entry.event_encoding() != v1::EVENT_ENCODING_PROTOBUF) {
    out["event"] = entry.event();
  } else {
    out["event_base64"] = Base64Encode(entry.event());
  }
  return out;
}

}  // namespace traceledger::api
