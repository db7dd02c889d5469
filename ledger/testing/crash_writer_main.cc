// ledger_crash_writer DB_DIR SIGNING_KEY_FILE RUN_ID SEED
//
// Test helper for ledger/crash_test.cc: appends batches from two threads forever and prints a
// receipt line "<event id> <sequence> <leaf hash hex>" for every event only after Append has
// returned (i.e. after the batch is durable). The test kills it with SIGKILL at random moments.
// Event ids are "r<run>-t<thread>-b<batch>-n<batch size>-<i>" so the test can check that no
// batch was half written.
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "ledger/base/encoding.h"
#include "ledger/data_dir.h"
#include "ledger/ledger.h"
#include "ledger/testing/requests.h"

using namespace traceledger;          // NOLINT(google-build-using-namespace): test binary
using namespace traceledger::ledger;  // NOLINT(google-build-using-namespace)

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s DB_DIR SIGNING_KEY_FILE RUN_ID SEED\n", argv[0]);
    return 2;
  }
  const std::string db_dir = argv[1];
  const std::string run = argv[3];
  const uint64_t seed = std::stoull(argv[4]);
  auto key_text = ReadFileToString(argv[2]);
  if (!key_text.ok()) {
    std::fprintf(stderr, "%s\n", key_text.status().ToString().c_str());
    return 1;
  }
  auto signer = NoteSigner::FromPrivateKeyText(*key_text);
  LedgerOptions options;
  options.checkpoint_every_entries = 50;
  options.checkpoint_interval_ms = 20;
  auto ledger = Ledger::Open(db_dir, *signer, options);
  if (!ledger.ok()) {
    std::fprintf(stderr, "open: %s\n", ledger.status().ToString().c_str());
    return 1;
  }
  std::mutex out_mu;
  auto work = [&](int thread) {
    std::mt19937_64 rng(seed * 31 + static_cast<uint64_t>(thread));
    for (uint64_t batch = 0;; ++batch) {
      const int n = 1 + static_cast<int>(rng() % 100);
      const std::string prefix = "r" + run + "-t" + std::to_string(thread) + "-b" +
                                 std::to_string(batch) + "-n" + std::to_string(n) + "-";
      std::vector<AppendRequest> requests;
      for (int i = 0; i < n; ++i) {
        requests.push_back(testing::MakeRequest(prefix + std::to_string(i), 200 + rng() % 300));
      }
      auto results = (*ledger)->Append(std::move(requests));
      if (!results.ok()) {
        std::fprintf(stderr, "append: %s\n", results.status().ToString().c_str());
        std::_Exit(1);
      }
      std::string lines;
      for (const AppendResult& r : *results) {
        lines += r.receipt.event_id + " " + std::to_string(r.receipt.sequence) + " " +
                 HexEncode(r.receipt.leaf_hash) + "\n";
      }
      std::lock_guard<std::mutex> lock(out_mu);
      size_t written = 0;
      while (written < lines.size()) {
        const ssize_t w = ::write(1, lines.data() + written, lines.size() - written);
        if (w <= 0) std::_Exit(1);
        written += static_cast<size_t>(w);
      }
    }
  };
  std::thread a(work, 0);
  std::thread b(work, 1);
  a.join();
  b.join();
  return 0;
}
