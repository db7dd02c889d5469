// ingest_validator_bench: the per-message cost of the Kafka ingest worker's hot path,
// DecodeAndValidate(bytes, EVENT_ENCODING_PROTOBUF, ctx), beside its parts and a reference
// measured in the same run:
//   BM_RawParse                   Event::ParseFromArray only (the reference)
//   BM_DecodeProtobuf             DecodeEvent: parse + the unknown-field walk
//   BM_DecodeAndValidate          decode + every rule, valid events (the common case)
//   BM_DecodeAndValidateInvalid   decode + rules up to a bad GTIN check digit (the error path)
// Payloads are ~300-byte valid events from ingest::testing::MakeValidEvent, as ingest_bench
// sends them.
//
//   cmake -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DTL_BUILD_BENCHMARKS=ON
//   cmake --build build-rel --target ingest_validator_bench
//   build-rel/ingest/ingest_validator_bench --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ingest/event_decoder.h"
#include "ingest/event_validator.h"
#include "ingest/testing/event_stream.h"

namespace traceledger::ingest {
namespace {

namespace v1 = traceledger::v1;

constexpr size_t kPayloads = 10000;
constexpr size_t kPayloadBytes = 300;
// A fixed clock, so that every run validates the same bytes against the same "now".
constexpr int64_t kNowUnixMicros = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z
// A GS1 Digital Link whose GTIN 09521234543214 ends in check digit 4; the right one is 3.
constexpr std::string_view kBadGtinEpc = "https://id.gs1.org/01/09521234543214/21/1001";

ValidationContext Context() {
  ValidationContext ctx;
  ctx.now_unix_micros = kNowUnixMicros;
  const std::vector<std::string>& known = testing::KnownSubmitters();
  ctx.is_known_submitter = [&known](std::string_view id) {
    return std::find(known.begin(), known.end(), id) != known.end();
  };
  return ctx;
}

// Exits if `payload` does not give the expected outcome: a benchmark of a path that is not
// taken would measure nothing.
void CheckOutcome(const std::string& payload, bool want_valid) {
  const auto result = DecodeAndValidate(payload, v1::EVENT_ENCODING_PROTOBUF, Context());
  if (std::holds_alternative<v1::Event>(result) == want_valid) return;
  std::fprintf(stderr, "ingest_validator_bench: payload is %s, want %s\n",
               want_valid ? "invalid" : "valid", want_valid ? "valid" : "invalid");
  std::exit(2);
}

const std::vector<std::string>& ValidPayloads() {
  static const std::vector<std::string> payloads = [] {
    std::vector<std::string> list;
    list.reserve(kPayloads);
    for (uint64_t i = 0; i < kPayloads; ++i) {
      list.push_back(testing::MakeValidEvent(i, kNowUnixMicros, kPayloadBytes).SerializeAsString());
      CheckOutcome(list.back(), /*want_valid=*/true);
    }
    return list;
  }();
  return payloads;
}

// The valid ObjectEvents with an EPC list, their first EPC replaced by kBadGtinEpc: the
// validator checks the whole envelope and common part first, then rejects
// /objectEvent/epcList/0.
const std::vector<std::string>& InvalidPayloads() {
  static const std::vector<std::string> payloads = [] {
    std::vector<std::string> list;
    for (uint64_t i = 0; list.size() < kPayloads; ++i) {
      v1::Event event = testing::MakeValidEvent(i, kNowUnixMicros, kPayloadBytes);
      if (!event.has_object_event() || event.object_event().epc_list().empty()) continue;
      event.mutable_object_event()->set_epc_list(0, std::string(kBadGtinEpc));
      list.push_back(event.SerializeAsString());
      CheckOutcome(list.back(), /*want_valid=*/false);
    }
    return list;
  }();
  return payloads;
}

// Runs `body` once per iteration over the payloads in turn (so that caches see a stream, not
// one message), and reports messages/s and bytes/s.
template <typename Body>
void RunOver(benchmark::State& state, const std::vector<std::string>& payloads, Body body) {
  size_t next = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string& payload = payloads[next];
    body(payload);
    bytes += payload.size();
    next = next + 1 == payloads.size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_RawParse(benchmark::State& state) {
  RunOver(state, ValidPayloads(), [](const std::string& payload) {
    v1::Event event;
    const bool parsed = event.ParseFromArray(payload.data(), static_cast<int>(payload.size()));
    benchmark::DoNotOptimize(parsed);
    benchmark::DoNotOptimize(event);
  });
}
BENCHMARK(BM_RawParse);

void BM_DecodeProtobuf(benchmark::State& state) {
  RunOver(state, ValidPayloads(), [](const std::string& payload) {
    Result<v1::Event> decoded = DecodeEvent(payload, v1::EVENT_ENCODING_PROTOBUF);
    benchmark::DoNotOptimize(decoded);
  });
}
BENCHMARK(BM_DecodeProtobuf);

void BM_DecodeAndValidate(benchmark::State& state) {
  const ValidationContext ctx = Context();
  RunOver(state, ValidPayloads(), [&ctx](const std::string& payload) {
    auto result = DecodeAndValidate(payload, v1::EVENT_ENCODING_PROTOBUF, ctx);
    benchmark::DoNotOptimize(result);
  });
}
BENCHMARK(BM_DecodeAndValidate);

void BM_DecodeAndValidateInvalid(benchmark::State& state) {
  const ValidationContext ctx = Context();
  RunOver(state, InvalidPayloads(), [&ctx](const std::string& payload) {
    auto result = DecodeAndValidate(payload, v1::EVENT_ENCODING_PROTOBUF, ctx);
    benchmark::DoNotOptimize(result);
  });
}
BENCHMARK(BM_DecodeAndValidateInvalid);

}  // namespace
}  // namespace traceledger::ingest

BENCHMARK_MAIN();
