// Invariant 5 (nothing acknowledged is lost, no half batch): a writer appending from two
// threads is killed with SIGKILL at random moments, over and over. After every restart the
// ledger opens, the audit is clean, every receipt the writer printed (it prints only after a
// batch is durable) is present with the same sequence and leaf hash, and every batch is either
// wholly present or wholly absent. Set TL_TEST_SEED to replay a run.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>

#include "ledger/audit.h"
#include "ledger/base/encoding.h"
#include "ledger/data_dir.h"
#include "ledger/ledger.h"

extern char** environ;

namespace traceledger::ledger {
namespace {

constexpr int kKills = 25;

struct Acked {
  uint64_t sequence;
  std::string leaf_hex;
};

// Runs the writer for `run_ms`, then SIGKILLs it; returns everything it printed.
std::string RunAndKill(const std::vector<std::string>& args, int run_ms) {
  int pipe_fds[2];
  EXPECT_EQ(::pipe(pipe_fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  std::string output;
  char buffer[1 << 16];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(run_ms);
  bool killed = false;
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    if (!killed && now >= deadline) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    const int timeout =
        killed ? 1000
               : static_cast<int>(
                     std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count()) + 1;
    pollfd fd{pipe_fds[0], POLLIN, 0};
    const int ready = ::poll(&fd, 1, timeout);
    if (ready == 0) {
      if (killed) break;  // bounded: the pipe stayed quiet for a second after the kill
      continue;
    }
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof(buffer));
    if (n <= 0) break;  // EOF: the writer is gone
    output.append(buffer, static_cast<size_t>(n));
  }
  if (!killed) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(pipe_fds[0]);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "writer exited by itself (status " << status << ") before it was killed";
  return output;
}

TEST(CrashTest, SigkillNeverLosesAcknowledgedEntriesOrLeavesHalfABatch) {
  const char* env = std::getenv("TL_TEST_SEED");
  const uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device()();
  std::fprintf(stderr, "crash_test seed: TL_TEST_SEED=%llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("crash_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    auto ledger = CreateDataDir(dir.string(), "crash.test/log", {});
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  }
  const NoteSigner signer =
      *NoteSigner::FromPrivateKeyText(*ReadFileToString(SigningKeyPath(dir.string())));

  std::map<std::string, Acked> acked;
  uint64_t total_acked = 0;
  for (int run = 0; run < kKills; ++run) {
    const int run_ms = 30 + static_cast<int>(rng() % 270);
    const std::string output =
        RunAndKill({TL_CRASH_WRITER_PATH, DatabasePath(dir.string()), SigningKeyPath(dir.string()),
                    std::to_string(run), std::to_string(rng())},
                   run_ms);
    // Only complete lines are acknowledgements the test received.
    std::istringstream lines(output.substr(0, output.rfind('\n') + 1));
    std::string id;
    uint64_t sequence;
    std::string leaf;
    while (lines >> id >> sequence >> leaf) {
      acked[id] = {sequence, leaf};
      ++total_acked;
    }

    auto ledger = Ledger::Open(DatabasePath(dir.string()), signer, {});
    ASSERT_TRUE(ledger.ok()) << "run " << run << ": " << ledger.status().ToString();
    for (const auto& [event_id, receipt] : acked) {
      auto found = (*ledger)->FindEvent(event_id);
      ASSERT_TRUE(found.ok() && found->has_value())
          << "run " << run << ": acknowledged " << event_id << " is lost";
      ASSERT_EQ(**found, receipt.sequence) << event_id;
      ASSERT_EQ(HexEncode(*(*ledger)->LeafHash(receipt.sequence)), receipt.leaf_hex) << event_id;
    }
    // Every batch of this run is wholly present or wholly absent.
    std::map<std::string, int> batch_counts;  // "r-t-b-n" prefix -> entries present
    {
      const std::string prefix = "r" + std::to_string(run) + "-";
      ASSERT_TRUE((*ledger)
                      ->ScanEntries(0, UINT64_MAX,
                                    [&](uint64_t, std::string_view bytes) {
                                      v1::LedgerEntry entry;
                                      EXPECT_TRUE(entry.ParseFromString(std::string(bytes)));
                                      const std::string& event_id = entry.event_id();
                                      if (event_id.rfind(prefix, 0) == 0) {
                                        batch_counts[event_id.substr(0, event_id.rfind('-'))]++;
                                      }
                                      return true;
                                    })
                      .ok());
    }
    for (const auto& [batch, count] : batch_counts) {
      const int want = std::stoi(batch.substr(batch.rfind("-n") + 2));
      ASSERT_EQ(count, want) << "run " << run << ": batch " << batch << " is partly written";
    }
    ASSERT_TRUE((*ledger)->Close().ok());
    ledger->reset();

    auto store = LogStore::Open(DatabasePath(dir.string()), OpenMode::kReadOnly, {});
    ASSERT_TRUE(store.ok());
    auto report = AuditLog(**store, {});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_TRUE(report->ok()) << "run " << run << ": " << report->findings.front().problem;
  }
  std::fprintf(stderr, "crash_test: %d kills, %llu acknowledged receipts checked\n", kKills,
               static_cast<unsigned long long>(total_acked));
  EXPECT_GT(total_acked, 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace traceledger::ledger
