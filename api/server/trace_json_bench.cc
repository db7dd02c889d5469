// File: api/server/trace_json_bench.cc
//
// The body of GET /trace/{id} for an answer the size of the generated chain test's largest
// (8,593 nodes forward; here 8,600 nodes, 32,000 edges and 6,000 holders with ids as long as
// the generator's): TraceJson against the path it replaced (protobuf's JSON printer, parsed into
// nlohmann::json, two keys added, dumped), measured in the same run.
//
//   bash tools/scripts/build.sh release api_trace_json_bench
//   build/release/api/server/api_trace_json_bench
#include <string>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "api/server/proto_json.h"
#include "api/server/trace_json.h"

namespace traceledger::api {
namespace {

v1::TraceResult LargeAnswer() {
  v1::TraceResult trace;
  trace.set_root_id("urn:epc:class:lgtin:4012345.012345.TANK-0001");
  const auto id = [](int i) {
    return "urn:epc:id:sgtin:4012345.012345." + std::to_string(100000 + i);
  };
  const auto party = [](int i) { return "urn:epc:id:pgln:4012345." + std::to_string(10000 + i); };
  for (int i = 0; i < 8600; ++i) {
    v1::TraceNode* node = trace.add_nodes();
    node->set_id(i % 10 == 0 ? party(i) : id(i));
    node->set_kind(i % 10 == 0 ? v1::NODE_KIND_PARTY : v1::NODE_KIND_OBJECT);
    node->set_time_unix_micros(1767225600000000 + 1000 * i);
    node->set_depth(static_cast<uint32_t>(i % 30));
    node->set_direction(i == 0 ? "root" : "forward");
  }
  for (int i = 0; i < 32000; ++i) {
    v1::TraceEdge* edge = trace.add_edges();
    edge->set_from(id(i % 8600));
    edge->set_to(i % 3 == 0 ? party(i % 860) : id((i * 7) % 8600));
    edge->set_kind(i % 3 == 0 ? "received" : "transformed_into");
    edge->set_sequence(100000 + static_cast<uint64_t>(i));
    edge->set_time_unix_micros(1767225600000000 + 1000 * i);
    edge->set_quantity(i % 2 == 0 ? 12.5 : 40);
    edge->set_uom("KGM");
    edge->set_party(party(i % 860));
  }
  for (int i = 0; i < 6000; ++i) {
    v1::TraceHolder* holder = trace.add_holders();
    holder->set_party(party(i % 860));
    holder->set_object_id(id(i));
    holder->set_quantity(3);
    holder->set_uom("KGM");
    holder->set_location("urn:epc:id:sgln:4012345." + std::to_string(10000 + i % 860) + ".0");
    holder->set_sold_to_consumers(i % 5 == 0);
  }
  return trace;
}

void BM_TraceJson(benchmark::State& state) {
  const v1::TraceResult trace = LargeAnswer();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = TraceJson(trace, "forward", 120000);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_TraceJson)->Unit(benchmark::kMillisecond);

// Reference: what GET /trace/{id} did before, and every other route still does (proto_json.h).
void BM_TraceJsonThroughProtobufAndJson(benchmark::State& state) {
  const v1::TraceResult trace = LargeAnswer();
  size_t bytes = 0;
  for (auto _ : state) {
    nlohmann::json out = ProtoJson(trace);
    if (!out.is_object()) {
      state.SkipWithError("protobuf did not print the answer");
      break;
    }
    out["direction"] = "forward";
    out["views_applied"] = 120000;
    std::string text = DumpJson(out);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_TraceJsonThroughProtobufAndJson)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace traceledger::api

BENCHMARK_MAIN();
