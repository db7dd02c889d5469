// projection_bench: how fast every view is built from the ledger, how long a rebuild takes, and
// how long a trace takes, over a generated mixed supply chain (tools/gen).
//
//   projection_bench [--events 10000000] [--seed 1] [--dir /tmp/projection_bench]
//                    [--encoding protobuf|json] [--traces 1000] [--batch-entries 200000]
//                    [--keep]
//
// Phases, each printed with its figures:
//  1. generate the chain and append it to a new ledger (batches of 1,000, durable);
//  2. reference, same run: a runner with one projection that does nothing, i.e. reading every
//     entry from the ledger, decoding the event and computing its facts — the floor under any
//     view;
//  3. build every view (projections::AllViews()) from sequence 0;
//  4. rebuild every view (ProjectionRunner::Rebuild, then catch up) and check the rebuilt rows
//     are byte-identical to the first build's; after the build and the rebuild, the process's
//     CPU time during it (every thread), what the views' background compactions read, wrote
//     and took (RocksDB's cfstats), then how long the compaction the runner starts after a
//     catch-up (settle) was waited for, and its work;
//  5. trace --traces random lots (LGTIN classes, or class + ILMD lot) backward, forward and both,
//     with the default limits; latency percentiles overall and for answers of at most 10,000
//     nodes.
// Results go to stdout as Markdown; progress to stderr.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <sys/resource.h>

#include <google/protobuf/util/json_util.h>
#include <rocksdb/db.h>

#include "ingest/event_decoder.h"
#include "ledger/data_dir.h"
#include "ledger/testing/machine.h"
#include "projections/all_views.h"
#include "projections/chain/genealogy.h"
#include "projections/chain/trace.h"
#include "projections/event_facts.h"
#include "projections/runner.h"
#include "tools/gen/supply_chain.h"

namespace traceledger::tools {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

[[noreturn]] void Die(const std::string& what, const Status& status) {
  std::fprintf(stderr, "projection_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  std::exit(1);
}

struct Config {
  uint64_t events = 10'000'000;
  uint64_t seed = 1;
  std::string dir = "/tmp/projection_bench";
  v1::EventEncoding encoding = v1::EVENT_ENCODING_PROTOBUF;
  size_t traces = 1000;
  size_t batch_entries = projections::RunnerOptions().batch_entries;  // the runner's default
  bool keep = false;
};

// The catch-up under way, reported by the runners' progress callback (RunnerOptions::progress)
// about every 5 % of the ledger. One CatchUp call applies the whole ledger, as `traceledger
// project` does: calls of a few batches each would read every call's first batch before
// applying it, instead of while the batch before is applied.
struct Progress {
  const char* what = "";
  Clock::time_point start;
  uint64_t step = 1;
  uint64_t next_report = 0;
};

void Report(Progress& progress, uint64_t applied_through, uint64_t head) {
  if (applied_through < progress.next_report && applied_through < head) return;
  const double seconds = Since(progress.start);
  std::fprintf(stderr, "  %s: %llu / %llu entries, %.1f s, %.0f entries/s\n", progress.what,
               static_cast<unsigned long long>(applied_through),
               static_cast<unsigned long long>(head), seconds,
               static_cast<double>(applied_through) / seconds);
  progress.next_report = (applied_through / progress.step + 1) * progress.step;
}

// Catches `runner` (made with Options(config, &progress)) up with `source`, reporting progress;
// returns the seconds it took.
double CatchUpWithProgress(projections::ProjectionRunner& runner, projections::EntrySource& source,
                           Progress& progress, const char* what) {
  progress.what = what;
  progress.start = Clock::now();
  progress.step = std::max<uint64_t>(100'000, source.size() / 20);
  progress.next_report = progress.step;
  auto applied = runner.CatchUp(source);
  if (!applied.ok()) Die(what, applied.status());
  return Since(progress.start);
}

class NoOpProjection final : public projections::Projection {
 public:
  std::string_view name() const override { return "noop"; }
  uint32_t version() const override { return 1; }
  Status Apply(const projections::AppliedEntry& entry, projections::ViewRows&) override {
    applied_ += entry.facts != nullptr;
    return Status::Ok();
  }
  uint64_t applied() const { return applied_; }

 private:
  uint64_t applied_ = 0;
};

projections::RunnerOptions Options(const Config& config, Progress* progress) {
  projections::RunnerOptions options;
  options.batch_entries = config.batch_entries;
  options.progress = [progress](uint64_t applied_through, uint64_t head) {
    Report(*progress, applied_through, head);
  };
  options.decoder = ingest::DecodeStoredEventInto;
  return options;
}

// FNV-1a over every row (key and value) of every view: equal digests, equal rows.
std::map<std::string, std::pair<uint64_t, uint64_t>> Digests(
    const projections::ProjectionRunner& runner) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> out;
  for (const std::string& name : runner.names()) {
    uint64_t hash = 1469598103934665603ULL;
    uint64_t rows = 0;
    auto mix = [&](std::string_view bytes) {
      for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ULL;
      hash = (hash ^ 0xff) * 1099511628211ULL;  // separator
    };
    Status s = runner.store().ForEach(name, [&](std::string_view k, std::string_view v) {
      mix(k);
      mix(v);
      ++rows;
      return true;
    });
    if (!s.ok()) Die("reading view " + name, s);
    out[name] = {hash, rows};
  }
  return out;
}

// RocksDB's background compactions of the views so far (every view's column family, since it
// was last created): the work that competes with applying entries for the cores.
struct CompactionWork {
  double read_gb = 0;
  double write_gb = 0;
  double seconds = 0;
  double cpu_seconds = 0;
};
CompactionWork ViewCompactions(const projections::ProjectionRunner& runner) {
  CompactionWork work;
  rocksdb::DB* db = runner.store().db();
  for (const std::string& name : runner.names()) {
    std::map<std::string, std::string> stats;
    if (!db->GetMapProperty(runner.store().family(name), "rocksdb.cfstats", &stats)) continue;
    auto stat = [&](const char* key) {
      auto it = stats.find(key);
      return it == stats.end() ? 0.0 : std::atof(it->second.c_str());
    };
    work.read_gb += stat("compaction.Sum.ReadGB");
    work.write_gb += stat("compaction.Sum.WriteGB");
    work.seconds += stat("compaction.Sum.CompSec");
    work.cpu_seconds += stat("compaction.Sum.CompMergeCPU");
  }
  return work;
}

// CPU time of every thread of the process so far (user and system), in seconds.
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The CPU a phase took, per entry, beside its wall time: the work it did, whatever share of the
// cores the machine's other tenants left it (though its cache misses still vary with them:
// 24.3-25.9 us/entry over three 1 M-event builds of one binary, docs/BENCHMARKS.md).
void PrintCpu(const char* phase, uint64_t entries, double cpu_seconds) {
  std::printf("| CPU of the %s (every thread, compactions included) | %llu | CPU %.1f s | "
              "%.1f us/entry |\n",
              phase, static_cast<unsigned long long>(entries), cpu_seconds,
              cpu_seconds * 1e6 / static_cast<double>(entries));
}

void PrintCompactions(const char* phase, const CompactionWork& work) {
  std::printf("| views' compactions during the %s | read %.1f GB, wrote %.1f GB | %.1f | CPU %.1f s |\n",
              phase, work.read_gb, work.write_gb, work.seconds, work.cpu_seconds);
}

// Waits for the compaction the runner starts after a catch-up (settle_after_entries); returns
// its table row: the wall time waited after the catch-up returned, and its compactions.
std::string WaitForSettle(projections::ProjectionRunner& runner) {
  const CompactionWork before = ViewCompactions(runner);
  const auto start = Clock::now();
  if (Status s = runner.WaitUntilSettled(); !s.ok()) Die("compacting the views", s);
  const double waited = Since(start);
  const CompactionWork after = ViewCompactions(runner);
  char line[256];
  std::snprintf(line, sizeof(line),
                "| then compacting the views (settle), waited for | read %.1f GB, wrote %.1f GB "
                "| %.1f | CPU %.1f s |\n",
                after.read_gb - before.read_gb, after.write_gb - before.write_gb, waited,
                after.cpu_seconds - before.cpu_seconds);
  return line;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index =
      std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())));
  return values[index];
}

bool IsLot(std::string_view id) {
  return id.find(":lgtin:") != std::string_view::npos || id.find("#lot=") != std::string_view::npos;
}

int Run(const Config& config) {
  std::printf("# projection_bench\n\nmachine: %s\nevents: %llu mixed (seed %llu), stored as %s\n\n",
              ledger::testing::MachineDescription().c_str(),
              static_cast<unsigned long long>(config.events),
              static_cast<unsigned long long>(config.seed),
              config.encoding == v1::EVENT_ENCODING_JSON ? "JSON" : "protobuf");
  std::filesystem::remove_all(config.dir);
  std::filesystem::create_directories(config.dir);

  // 1. Generate and append; keep a reservoir of lots for the traces.
  auto ledger = ledger::CreateDataDir(config.dir + "/ledger", "bench.traceledger/log", {});
  if (!ledger.ok()) Die("creating the ledger", ledger.status());
  gen::Options gen_options;
  gen_options.profile = gen::Profile::kMixed;
  gen_options.events = config.events;
  gen_options.seed = config.seed;
  std::mt19937_64 rng(config.seed);
  std::vector<std::string> lots;
  uint64_t lots_seen = 0;
  std::vector<ledger::AppendRequest> batch;
  uint64_t appended = 0;
  const auto append_start = Clock::now();
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    appended += batch.size();
    auto results = (*ledger)->Append(std::move(batch));
    batch.clear();
    if (!results.ok()) return results.status();
    if (appended % 1'000'000 == 0) {
      std::fprintf(stderr, "  append: %llu events, %.1f s\n",
                   static_cast<unsigned long long>(appended), Since(append_start));
    }
    return Status::Ok();
  };
  Status generated = gen::Generate(gen_options, [&](const v1::Event& event) -> Status {
    const projections::EventFacts facts = projections::FactsOf(event);
    if (facts.movement == projections::Movement::kCommission ||
        facts.movement == projections::Movement::kTransform) {
      for (const auto* list : {&facts.objects, &facts.outputs}) {
        for (const projections::ObjectQuantity& object : *list) {
          if (!IsLot(object.object_id)) continue;
          ++lots_seen;
          if (lots.size() < config.traces) {
            lots.push_back(object.object_id);
          } else if (const uint64_t slot = rng() % lots_seen; slot < config.traces) {
            lots[slot] = object.object_id;
          }
        }
      }
    }
    ledger::AppendRequest& request = batch.emplace_back();
    request.event_id = event.event_id();
    request.submitter_id = event.submitter_id();
    request.encoding = config.encoding;
    if (config.encoding == v1::EVENT_ENCODING_JSON) {
      if (!google::protobuf::util::MessageToJsonString(event, &request.event).ok()) {
        return Status::Internal("event " + event.event_id() + " does not print as JSON");
      }
    } else if (!event.SerializeToString(&request.event)) {
      return Status::Internal("event " + event.event_id() + " does not serialize");
    }
    request.source.mutable_file()->set_path("projection_bench");
    return batch.size() >= 1000 ? flush() : Status::Ok();
  });
  if (!generated.ok()) Die("generating", generated);
  if (Status s = flush(); !s.ok()) Die("appending", s);
  const double append_seconds = Since(append_start);
  auto source = projections::LedgerEntrySource(**ledger);
  const uint64_t total = source->size();
  std::printf("| phase | entries | seconds | entries/s |\n|---|---:|---:|---:|\n");
  std::printf("| generate + append to the ledger (batches of 1,000, durable) | %llu | %.1f | %.0f |\n",
              static_cast<unsigned long long>(total), append_seconds,
              static_cast<double>(total) / append_seconds);
  std::fflush(stdout);

  Progress progress;

  // 2. Reference: read, decode and compute facts only.
  {
    std::vector<std::unique_ptr<projections::Projection>> noop;
    noop.push_back(std::make_unique<NoOpProjection>());
    auto runner = projections::ProjectionRunner::Open(config.dir + "/noop", std::move(noop),
                                                      Options(config, &progress));
    if (!runner.ok()) Die("opening the reference runner", runner.status());
    const double seconds = CatchUpWithProgress(**runner, *source, progress, "reference");
    std::printf("| reference: read + decode + facts, no view | %llu | %.1f | %.0f |\n",
                static_cast<unsigned long long>(total), seconds,
                static_cast<double>(total) / seconds);
    std::fflush(stdout);
  }

  // 3. Build every view.
  auto runner = projections::ProjectionRunner::Open(
      config.dir + "/views", projections::AllViews(), Options(config, &progress));
  if (!runner.ok()) Die("opening the views", runner.status());
  const double build_cpu_start = ProcessCpuSeconds();
  const double build_seconds = CatchUpWithProgress(**runner, *source, progress, "build");
  const double build_cpu = ProcessCpuSeconds() - build_cpu_start;
  std::printf("| build all views (%zu) | %llu | %.1f | %.0f |\n", (*runner)->names().size(),
              static_cast<unsigned long long>(total), build_seconds,
              static_cast<double>(total) / build_seconds);
  PrintCpu("build", total, build_cpu);
  PrintCompactions("build", ViewCompactions(**runner));
  std::printf("%s", WaitForSettle(**runner).c_str());
  std::fflush(stdout);
  const auto built = Digests(**runner);

  // 4. Rebuild every view and compare.
  const auto rebuild_start = Clock::now();
  const double rebuild_cpu_start = ProcessCpuSeconds();
  for (const std::string& name : (*runner)->names()) {
    if (Status s = (*runner)->Rebuild(name); !s.ok()) Die("rebuilding " + name, s);
  }
  CatchUpWithProgress(**runner, *source, progress, "rebuild");
  const double rebuild_seconds = Since(rebuild_start);  // the drops included
  const double rebuild_cpu = ProcessCpuSeconds() - rebuild_cpu_start;
  const CompactionWork rebuild_compactions = ViewCompactions(**runner);
  const std::string rebuild_settle = WaitForSettle(**runner);
  const auto rebuilt = Digests(**runner);
  const bool identical = built == rebuilt;
  std::printf("| rebuild all views from 0 (rows %s) | %llu | %.1f | %.0f |\n",
              identical ? "byte-identical to the first build" : "DIFFER from the first build",
              static_cast<unsigned long long>(total), rebuild_seconds,
              static_cast<double>(total) / rebuild_seconds);
  PrintCpu("rebuild", total, rebuild_cpu);
  PrintCompactions("rebuild", rebuild_compactions);  // the dropped families' work is gone
  std::printf("%s", rebuild_settle.c_str());
  std::printf("\n");
  uint64_t rows = 0;
  // The digest, to compare the rows of two builds of the bench (same --events and --seed).
  std::printf("| view | rows | FNV-1a of the rows |\n|---|---:|---|\n");
  for (const auto& [name, digest] : built) {
    std::printf("| %s | %llu | %016llx |\n", name.c_str(),
                static_cast<unsigned long long>(digest.second),
                static_cast<unsigned long long>(digest.first));
    rows += digest.second;
  }
  std::printf("| all | %llu | |\n\n", static_cast<unsigned long long>(rows));
  std::fflush(stdout);

  // 5. Traces.
  const projections::ViewReader genealogy = (*runner)->store().Reader(projections::kGenealogyView);
  std::printf("%zu random lots out of %llu; default limits (depth %u, %zu nodes)\n\n", lots.size(),
              static_cast<unsigned long long>(lots_seen), projections::TraceLimits{}.max_depth,
              projections::TraceLimits{}.max_nodes);
  std::printf("| direction | traces | nodes p50 | nodes max | truncated | p50 ms | p99 ms | max ms "
              "| p99 ms (<= 10,000 nodes) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (projections::TraceDirection direction :
       {projections::TraceDirection::kBackward, projections::TraceDirection::kForward,
        projections::TraceDirection::kBoth}) {
    std::vector<double> all_ms, small_ms, nodes;
    size_t truncated = 0;
    for (const std::string& lot : lots) {
      const auto start = Clock::now();
      auto result = projections::Trace(genealogy, lot, direction, {});
      const double ms = Since(start) * 1000;
      if (!result.ok()) Die("tracing " + lot, result.status());
      all_ms.push_back(ms);
      nodes.push_back(result->nodes_size());
      if (result->nodes_size() <= 10000) small_ms.push_back(ms);
      truncated += result->truncated();
    }
    std::printf("| %s | %zu | %.0f | %.0f | %zu | %.2f | %.2f | %.2f | %.2f |\n",
                std::string(projections::TraceDirectionName(direction)).c_str(), all_ms.size(),
                Percentile(nodes, 0.5), Percentile(nodes, 1.0), truncated,
                Percentile(all_ms, 0.5), Percentile(all_ms, 0.99), Percentile(all_ms, 1.0),
                Percentile(small_ms, 0.99));
    std::fflush(stdout);
  }
  runner->reset();
  source.reset();
  if (Status s = (*ledger)->Close(); !s.ok()) Die("closing the ledger", s);
  ledger->reset();
  if (!config.keep) std::filesystem::remove_all(config.dir);
  return identical ? 0 : 1;
}

}  // namespace
}  // namespace traceledger::tools

int main(int argc, char** argv) {
  traceledger::tools::Config config;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const bool has_value = i + 1 < argc;
    if (flag == "--events" && has_value) {
      config.events = std::strtoull(argv[++i], nullptr, 10);
    } else if (flag == "--seed" && has_value) {
      config.seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (flag == "--dir" && has_value) {
      config.dir = argv[++i];
    } else if (flag == "--traces" && has_value) {
      config.traces = std::strtoull(argv[++i], nullptr, 10);
    } else if (flag == "--encoding" && has_value) {
      const std::string value = argv[++i];
      if (value == "json") {
        config.encoding = traceledger::v1::EVENT_ENCODING_JSON;
      } else if (value != "protobuf") {
        std::fprintf(stderr, "projection_bench: --encoding must be protobuf or json, not %s\n",
                     value.c_str());
        return 2;
      }
    } else if (flag == "--batch-entries" && has_value) {
      config.batch_entries = std::strtoull(argv[++i], nullptr, 10);
    } else if (flag == "--keep") {
      config.keep = true;
    } else {
      std::fprintf(stderr,
                   "usage: projection_bench [--events 10000000] [--seed 1] "
                   "[--dir /tmp/projection_bench] [--encoding protobuf|json] [--traces 1000] "
                   "[--batch-entries 200000] [--keep]\nunknown or incomplete flag: %s\n",
                   flag.c_str());
      return 2;
    }
  }
  if (config.events == 0 || config.traces == 0 || config.batch_entries == 0) {
    std::fprintf(stderr,
                 "projection_bench: --events, --traces and --batch-entries must be positive\n");
    return 2;
  }
  return traceledger::tools::Run(config);
}
