// ledger_bench: durable append rate, proof generation/verification rate and audit rate of the
// ledger, each beside a reference measured in the same run (raw RocksDB WriteBatch with sync,
// raw SHA-256), so the figures can be compared on a noisy shared machine.
//
//   ledger_bench [--dir DIR] [--entries N] [--seconds S]
//
// Results go to stdout as a Markdown table (docs/BENCHMARKS.md records them).
#include <openssl/evp.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sys/utsname.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ledger/testing/machine.h"
#include "ledger/audit.h"
#include "ledger/base/encoding.h"
#include "ledger/ledger.h"
#include "ledger/merkle/hasher.h"
#include "ledger/merkle/verify.h"
#include "ledger/testing/requests.h"

namespace traceledger::ledger {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kEventBytes = 300;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Row {
  std::string what;
  double rate;
  std::string unit;
  std::string note;
};
std::vector<Row> rows;

void Report(std::string what, double rate, std::string unit, std::string note = "") {
  std::fprintf(stderr, "  %-62s %12.0f %s %s\n", what.c_str(), rate, unit.c_str(), note.c_str());
  rows.push_back({std::move(what), rate, std::move(unit), std::move(note)});
}


// Reference 1: SHA-256 of 300-byte messages straight through OpenSSL EVP, one core.
void BenchRawSha256(double seconds) {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string message(kEventBytes, 'x');
  unsigned char out[32];
  uint64_t count = 0;
  const auto start = Clock::now();
  while (Since(start) < seconds) {
    for (int i = 0; i < 10000; ++i) {
      message[i % kEventBytes] = static_cast<char>(count);
      EVP_DigestInit_ex2(ctx, md, nullptr);
      EVP_DigestUpdate(ctx, message.data(), message.size());
      unsigned int len = 0;
      EVP_DigestFinal_ex(ctx, out, &len);
      ++count;
    }
  }
  Report("reference: raw SHA-256 of 300-byte messages, 1 core", count / Since(start), "hashes/s");
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md);
}

// Reference 2: raw RocksDB, WriteBatch of 1000 x 300-byte values, WAL synced, one writer.
void BenchRawRocksDb(const std::string& dir, uint64_t entries) {
  std::filesystem::remove_all(dir);
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir, &raw).ok()) {
    std::fprintf(stderr, "cannot open raw rocksdb in %s\n", dir.c_str());
    std::exit(3);
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  std::vector<std::string> values;
  for (uint64_t i = 0; i < 1000; ++i) values.push_back(testing::MakeEventBytes("raw" + std::to_string(i), kEventBytes));
  rocksdb::WriteOptions sync;
  sync.sync = true;
  const auto start = Clock::now();
  for (uint64_t base = 0; base < entries; base += 1000) {
    rocksdb::WriteBatch batch;
    for (uint64_t i = 0; i < 1000; ++i) {
      std::string key;
      PutFixed64BigEndian(&key, base + i);
      (void)batch.Put(key, values[i]);
    }
    if (!db->Write(sync, &batch).ok()) std::exit(3);
  }
  Report("reference: raw RocksDB WriteBatch(1000 x 300 B, sync)", entries / Since(start),
         "entries/s");
  db.reset();
  std::filesystem::remove_all(dir);
}

// Event ids as real submitters make them: random UUID URNs, so the event-id index sees random
// keys (sequential ids would make its inserts look cheaper than they are).
std::string RandomEventId(std::mt19937_64& rng) {
  const std::string hex = HexEncode(std::string_view(
      reinterpret_cast<const char*>(std::array<uint64_t, 2>{rng(), rng()}.data()), 16));
  return "urn:uuid:" + hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) +
         "-" + hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

enum class Ids { kRandomUuids, kSequential };

std::vector<std::vector<AppendRequest>> MakeBatches(const std::string& prefix, uint64_t entries,
                                                    size_t batch, Ids ids = Ids::kRandomUuids) {
  std::mt19937_64 rng(std::hash<std::string>()(prefix));
  std::vector<std::vector<AppendRequest>> batches;
  for (uint64_t i = 0; i < entries; i += batch) {
    std::vector<AppendRequest> requests;
    for (uint64_t j = i; j < std::min<uint64_t>(entries, i + batch); ++j) {
      requests.push_back(testing::MakeRequest(
          ids == Ids::kRandomUuids ? RandomEventId(rng) : prefix + std::to_string(j), kEventBytes));
    }
    batches.push_back(std::move(requests));
  }
  return batches;
}

// Appends `batches` keeping at most `window` calls in flight; returns entries/s.
double AppendAll(Ledger& ledger, std::vector<std::vector<AppendRequest>> batches, size_t window) {
  std::mutex mu;
  std::condition_variable cv;
  size_t in_flight = 0;
  uint64_t appended = 0;
  bool failed = false;
  const auto start = Clock::now();
  for (auto& batch : batches) {
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return in_flight < window; });
      ++in_flight;
    }
    ledger.AppendAsync({std::move(batch), {}, {}}, [&](Result<std::vector<AppendResult>> result) {
      std::lock_guard<std::mutex> lock(mu);
      --in_flight;
      if (!result.ok()) {
        failed = true;
      } else {
        appended += result->size();
      }
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return in_flight == 0; });
  const double seconds = Since(start);
  if (failed) {
    std::fprintf(stderr, "append failed\n");
    std::exit(3);
  }
  return appended / seconds;
}

bool append_only = false;  // --append-only: just the batch-1000 pipelined phase (profiling)

void Run(const std::string& dir, uint64_t entries, double seconds) {
  if (append_only) {
    const std::string db_dir = dir + "/ledger";
    std::filesystem::remove_all(db_dir);
    auto signer = *NoteSigner::Generate("bench.example/log");
    auto ledger = *Ledger::Create(db_dir, "bench.example/log", signer, {});
    Report("ledger append, batch 1000, 4 calls in flight",
           AppendAll(*ledger, MakeBatches("only-", entries, 1000), 4), "entries/s");
    return;
  }
  std::fprintf(stderr, "machine: %s\n", ledger::testing::MachineDescription().c_str());
  BenchRawSha256(seconds);
  BenchRawRocksDb(dir + "/raw", 200000);

  const std::string db_dir = dir + "/ledger";
  std::filesystem::remove_all(db_dir);
  auto signer = *NoteSigner::Generate("bench.example/log");
  LedgerOptions options;
  auto ledger = *Ledger::Create(db_dir, "bench.example/log", signer, options);

  // Durable appends at batch sizes 1, 100, 1000: one synchronous caller, then with calls
  // pipelined (group commit merges concurrent calls into one write batch).
  uint64_t phase = 0;
  auto phase_prefix = [&] { return "bench-" + std::to_string(phase++) + "-"; };
  Report("ledger append, batch 1, 1 caller waiting for each",
         AppendAll(*ledger, MakeBatches(phase_prefix(), 2000, 1), 1), "entries/s");
  Report("ledger append, batch 1, 1000 calls in flight (group commit)",
         AppendAll(*ledger, MakeBatches(phase_prefix(), 100000, 1), 1000), "entries/s");
  Report("ledger append, batch 100, 1 caller waiting for each",
         AppendAll(*ledger, MakeBatches(phase_prefix(), 50000, 100), 1), "entries/s");
  Report("ledger append, batch 100, 20 calls in flight",
         AppendAll(*ledger, MakeBatches(phase_prefix(), 200000, 100), 20), "entries/s");
  Report("ledger append, batch 1000, 1 caller waiting for each",
         AppendAll(*ledger, MakeBatches(phase_prefix(), 200000, 1000), 1), "entries/s");
  const uint64_t rest = entries > ledger->size() ? entries - ledger->size() : 0;
  Report("ledger append, batch 1000, 4 calls in flight",
         AppendAll(*ledger, MakeBatches(phase_prefix(), rest, 1000), 4), "entries/s",
         "(" + std::to_string(rest) + " entries)");
  // For comparison: ids that arrive in key order (e.g. a submitter's counter) are cheaper for
  // the event-id index than random UUIDs.
  Report("ledger append, batch 1000, 4 calls in flight, sequential ids",
         AppendAll(*ledger, MakeBatches(phase_prefix(), 300000, 1000, Ids::kSequential), 4),
         "entries/s", "(300000 entries, for comparison)");
  // And the raw reference again, now that the machine is warm, to bracket the ledger figures.
  BenchRawRocksDb(dir + "/raw", 200000);

  // Proofs at the full size.
  const uint64_t size = ledger->size();
  std::mt19937_64 rng(1);
  const int proofs = 200000;
  std::vector<uint64_t> indexes(proofs);
  for (auto& i : indexes) i = rng() % size;
  for (unsigned threads : {1u, 2u}) {
    std::atomic<uint64_t> done{0};
    const auto start = Clock::now();
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (size_t i = t; i < indexes.size(); i += threads) {
          auto proof = ledger->ProveInclusion(indexes[i], size);
          if (!proof.ok()) std::exit(3);
          done.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    for (auto& w : workers) w.join();
    Report("inclusion proof generation at " + std::to_string(size) + " entries, " +
               std::to_string(threads) + " thread(s)",
           done / Since(start), "proofs/s");
  }
  const Sha256Digest root = *ledger->RootHash(size);
  std::vector<std::vector<Sha256Digest>> generated;
  std::vector<Sha256Digest> leaves;
  for (int i = 0; i < 20000; ++i) {
    generated.push_back(*ledger->ProveInclusion(indexes[i], size));
    leaves.push_back(*ledger->LeafHash(indexes[i]));
  }
  {
    uint64_t verified = 0;
    const auto start = Clock::now();
    while (Since(start) < seconds) {
      for (size_t i = 0; i < generated.size(); ++i) {
        if (!merkle::VerifyInclusion(indexes[i], size, leaves[i], generated[i], root).ok()) {
          std::exit(3);
        }
        ++verified;
      }
    }
    Report("inclusion proof verification at " + std::to_string(size) + " entries, 1 thread",
           verified / Since(start), "proofs/s");
  }
  if (!ledger->Close().ok()) std::exit(3);
  ledger.reset();

  for (unsigned threads : {1u, 2u}) {
    auto store = *LogStore::Open(db_dir, OpenMode::kReadOnly, {});
    AuditOptions audit_options;
    audit_options.threads = threads;
    const auto start = Clock::now();
    auto report = AuditLog(*store, audit_options);
    const double elapsed = Since(start);
    if (!report.ok() || !report->ok()) {
      std::fprintf(stderr, "audit failed\n");
      std::exit(3);
    }
    Report("audit of " + std::to_string(report->entries_checked) + " entries, " +
               std::to_string(threads) + " thread(s)",
           report->entries_checked / elapsed, "entries/s");
  }
  std::filesystem::remove_all(db_dir);

  std::printf("Machine: %s\n\n| measurement | rate | unit |\n|---|---:|---|\n",
              testing::MachineDescription().c_str());
  for (const Row& row : rows) {
    std::printf("| %s %s | %.0f | %s |\n", row.what.c_str(), row.note.c_str(), row.rate,
                row.unit.c_str());
  }
}

}  // namespace
}  // namespace traceledger::ledger

int main(int argc, char** argv) {
  std::string dir = "/tmp/ledger_bench";
  uint64_t entries = 1000000;
  double seconds = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--dir") {
      dir = argv[i + 1];
    } else if (flag == "--entries") {
      entries = std::stoull(argv[i + 1]);
    } else if (flag == "--append-only") {
      traceledger::ledger::append_only = std::string(argv[i + 1]) == "1";
    } else if (flag == "--seconds") {
      seconds = std::stod(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: ledger_bench [--dir DIR] [--entries N] [--seconds S]\n");
      return 2;
    }
  }
  std::filesystem::create_directories(dir);
  traceledger::ledger::Run(dir, entries, seconds);
  return 0;
}
