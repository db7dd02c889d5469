// pending_rows_bench: the cost of the runner's in-memory rows (PendingRows) on the shapes of a
// catch-up batch, beside a reference measured in the same run:
//   BM_UnorderedMapReference  std::unordered_map<std::string, std::string> inserts (reference)
//   BM_PutNewKeys             PendingRows::Put of new keys (history rows: the common write)
//   BM_ForEachInOrder         PendingRows::ForEachInOrder over those rows (the table file's order)
//   BM_ForEachInOrderMixed    the same over genealogy-shaped rows: out-edges, in-edges, holder
//                             rows, by-party rows and contents, of serials, lots and cases
// 600,000 keys "h" object 0x00 time sequence over 200,000 objects, as one view's rows of a few
// 100,000-entry batches: far more than the caches hold, as in the runner. Each iteration fills a
// PendingRows that is cleared and reused (as the runner does), one of three in turn, so a table
// is not still cached from the iteration before.
//
//   cmake --preset release && cmake --build build/release --target pending_rows_bench
//   build/release/projections/pending_rows_bench --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "projections/internal/pending_rows.h"
#include "projections/keys.h"

namespace traceledger::projections {
namespace {

constexpr size_t kKeys = 600000;
constexpr uint64_t kObjects = 200000;
constexpr std::string_view kValue = "0123456789abcdefghij0123456789";  // a short history item

const std::vector<std::string>& Keys() {
  static const std::vector<std::string> keys = [] {
    std::mt19937_64 random(1);
    std::vector<std::string> out;
    out.reserve(kKeys);
    for (size_t i = 0; i < kKeys; ++i) {
      const std::string object =
          "urn:epc:id:sgtin:9521101.000001." + std::to_string(random() % kObjects);
      const auto time = static_cast<int64_t>(random() % 1000000000);
      out.push_back(Key("h").Str(object).Time(time).U64(i).str());
    }
    return out;
  }();
  return keys;
}

// Genealogy-shaped keys: what a batch of the mixed chain writes to that view, in kinds and key
// shapes (several tags, ids of several schemes and lengths, parties, times and sequences).
const std::vector<std::string>& MixedKeys() {
  static const std::vector<std::string> keys = [] {
    std::mt19937_64 random(2);
    auto object = [&] {
      switch (random() % 3) {
        case 0: return "urn:epc:id:sgtin:9521101.000001." + std::to_string(random() % 150000);
        case 1:
          return "urn:epc:class:lgtin:9521101.0" + std::to_string(random() % 40) + "." +
                 std::to_string(random() % 3000);
        default: return "urn:epc:id:sscc:9521101." + std::to_string(random() % 20000);
      }
    };
    auto party = [&] { return "urn:epc:id:pgln:9521101." + std::to_string(random() % 900); };
    std::vector<std::string> out;
    out.reserve(kKeys);
    for (size_t i = 0; i < kKeys; ++i) {
      const auto time = static_cast<int64_t>(random() % 1000000000);
      switch (random() % 6) {
        case 0:
        case 1:
          out.push_back(Key("o").Str(object()).Time(time).U64(i).Str("shipped").Str(party()).str());
          break;
        case 2:
          out.push_back(Key("i").Str(object()).Time(time).U64(i).Str("transform").Str(object())
                            .str());
          break;
        case 3:  // a holder row: the latest time there is
          out.push_back(Key("o").Str(object()).Time(INT64_MAX).U64(0).Str(party()).str());
          break;
        case 4: out.push_back(Key("p").Str(party()).Str(object()).str()); break;
        default: out.push_back(Key("c").Str(object()).Str(object()).str()); break;
      }
    }
    return out;
  }();
  return keys;
}

void BM_UnorderedMapReference(benchmark::State& state) {
  const std::vector<std::string>& keys = Keys();
  for (auto _ : state) {
    std::unordered_map<std::string, std::string> rows;
    rows.reserve(keys.size());
    for (const std::string& key : keys) rows.insert_or_assign(key, std::string(kValue));
    benchmark::DoNotOptimize(rows.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * keys.size()));
}

void BM_PutNewKeys(benchmark::State& state) {
  const std::vector<std::string>& keys = Keys();
  PendingRows rows[3];
  size_t turn = 0;
  for (auto _ : state) {
    PendingRows& pending = rows[turn++ % 3];
    pending.Clear();
    for (const std::string& key : keys) pending.Put(key, kValue);
    benchmark::DoNotOptimize(pending.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * keys.size()));
}

void ForEachInOrder(benchmark::State& state, const std::vector<std::string>& keys) {
  PendingRows rows[3];
  for (PendingRows& pending : rows) {
    for (const std::string& key : keys) pending.Put(key, kValue);
  }
  size_t turn = 0;
  for (auto _ : state) {
    uint64_t bytes = 0;
    rows[turn++ % 3].ForEachInOrder(
        [&](const PendingRows::Row& row) { bytes += row.key().size() + row.value().size(); });
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * keys.size()));
}

void BM_ForEachInOrder(benchmark::State& state) { ForEachInOrder(state, Keys()); }
void BM_ForEachInOrderMixed(benchmark::State& state) { ForEachInOrder(state, MixedKeys()); }

BENCHMARK(BM_UnorderedMapReference)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PutNewKeys)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ForEachInOrder)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ForEachInOrderMixed)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace traceledger::projections

BENCHMARK_MAIN();
