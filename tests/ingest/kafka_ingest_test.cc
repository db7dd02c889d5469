// Exactly-once ingestion from a real Apache Kafka broker (the ctest fixture "kafka"), through
// the `traceledger ingest` binary as operators run it:
//  1. 100,000 events with 10 % duplicate event ids and 1 % malformed messages of every kind:
//     the ledger holds exactly the unique valid events, the rejected topic holds each malformed
//     message once with its rule, the audit is clean;
//  2. the same while the worker is SIGKILLed at random moments (at least 5 times);
//  3. the same while the broker is stopped and restarted mid-way;
//  and in each, traceledger.ledger ends up holding every entry once, in sequence order per key.
// Randomized parts print their seed; TL_TEST_SEED replays one.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "ingest/kafka_client.h"
#include "ingest/testing/event_stream.h"
#include "ingest/testing/kafka_test_client.h"
#include "ledger/audit.h"
#include "ledger/base/encoding.h"
#include "ledger/data_dir.h"
#include "ledger/merkle/hasher.h"
#include "tl/v1/ledger.pb.h"

extern char** environ;

namespace traceledger::ingest {
namespace {

using Clock = std::chrono::steady_clock;
using testing::KafkaTestClient;
using testing::StreamMessage;

constexpr uint64_t kMessages = 100000;
constexpr auto kCompletionTimeout = std::chrono::seconds(240);

uint64_t Seed() {
  const char* env = std::getenv("TL_TEST_SEED");
  const uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device()();
  std::fprintf(stderr, "kafka_ingest_test seed: TL_TEST_SEED=%llu\n",
               static_cast<unsigned long long>(seed));
  return seed;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One worker process: `traceledger ingest` with this scenario's topics; its log goes to
// `log_path` (appended, so that every run of a kill test is kept).
class Worker {
 public:
  Worker(std::vector<std::string> args, const std::string& log_path) : args_(std::move(args)) {
    std::vector<char*> argv;
    for (std::string& a : args_) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Worker() { Kill(); }
  // SIGKILL and wait. No-op once the process is gone.
  void Kill() {
    if (pid_ <= 0) return;  // never signal pid 0 or -1: that would hit other processes
    ::kill(pid_, SIGKILL);
    Wait();
  }
  // SIGTERM and wait: returns the exit status, or -1 if the process had already exited.
  int Stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    return Wait();
  }
  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
    pid_ = -1;
    return false;
  }

 private:
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  std::vector<std::string> args_;
  pid_t pid_ = -1;
};

class KafkaIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = Seed();
    auto bootstrap = testing::FixtureBootstrap();
    ASSERT_TRUE(bootstrap.ok()) << bootstrap.status().ToString();
    bootstrap_ = *bootstrap;
    auto client = KafkaTestClient::Connect(bootstrap_);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
    topic_ = testing::UniqueName("events");
    group_ = testing::UniqueName("ingest");
    rejected_topic_ = testing::UniqueName("rejected");
    ledger_topic_ = testing::UniqueName("ledger");
    ASSERT_TRUE(client_->CreateTopic(topic_, 4).ok());
    dir_ = std::filesystem::temp_directory_path() / testing::UniqueName("ledger");
    std::filesystem::remove_all(dir_);
    {
      auto ledger = ledger::CreateDataDir(dir_.string(), "kafka.test/log", {});
      ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    }
    known_submitters_ = (dir_ / "known-submitters.txt").string();
    std::ofstream known(known_submitters_);
    for (const std::string& id : testing::KnownSubmitters()) known << id << "\n";
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "worker log (tail):\n%s\n", WorkerLog().c_str());
    std::filesystem::remove_all(dir_);
    std::filesystem::remove(dir_.string() + ".worker.log");
  }

  // Generates the stream; remembers what the ledger must end up holding.
  void GenerateStream() {
    testing::StreamOptions options;
    options.messages = kMessages;
    options.seed = seed_;
    options.now_unix_micros = NowMicros();
    stream_ = testing::GenerateStream(options);
    for (const StreamMessage& m : stream_) {
      if (m.malformation.has_value()) {
        expected_rejections_.insert({m.payload, std::string(testing::ExpectedRule(*m.malformation))});
      } else {
        expected_ids_.insert(m.event_id);
      }
    }
    ASSERT_EQ(expected_rejections_.size() + expected_ids_.size() +
                  std::count_if(stream_.begin(), stream_.end(),
                                [](const StreamMessage& m) { return m.duplicate; }),
              kMessages);
  }
  // Produces stream_[begin, end).
  void Produce(size_t begin, size_t end) {
    std::vector<testing::ProducedMessage> messages;
    messages.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) messages.push_back({stream_[i].key, stream_[i].payload, {}});
    ASSERT_TRUE(client_->Produce(topic_, messages).ok());
  }
  void ProduceStream() {
    GenerateStream();
    const auto start = Clock::now();
    Produce(0, stream_.size());
    std::fprintf(stderr, "produced %llu messages in %.1f s: %zu unique valid, %zu malformed\n",
                 static_cast<unsigned long long>(kMessages),
                 std::chrono::duration<double>(Clock::now() - start).count(),
                 expected_ids_.size(), expected_rejections_.size());
  }
  // Unique valid event ids in stream_[0, end).
  size_t UniqueValidIn(size_t end) {
    std::set<std::string> ids;
    for (size_t i = 0; i < end; ++i) {
      if (!stream_[i].malformation.has_value()) ids.insert(stream_[i].event_id);
    }
    return ids.size();
  }
  // Entries in the ledger (opened read-only; call while no worker runs for an exact count).
  uint64_t LedgerSize() {
    auto store = ledger::LogStore::Open(ledger::DatabasePath(dir_.string()),
                                        ledger::OpenMode::kReadOnly, {});
    if (!store.ok()) return 0;
    return (*store)->CountEntries().ok() ? *(*store)->CountEntries() : 0;
  }

  std::unique_ptr<Worker> StartWorker() {
    return std::make_unique<Worker>(
        std::vector<std::string>{
        TL_TRACELEDGER_PATH, "ingest", "--data", dir_.string(), "--brokers", bootstrap_,
        "--topic", topic_, "--group", group_, "--instance-id", group_ + "-worker",
        "--rejected-topic", rejected_topic_, "--ledger-topic", ledger_topic_,
        "--known-submitters", known_submitters_, "--report-interval-ms", "300",
        "--consumer-config", "session.timeout.ms=6000"},
        (dir_.string() + ".worker.log"));
  }
  std::string WorkerLog() {
    std::ifstream in(dir_.string() + ".worker.log");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
  }

  // Messages whose offsets the worker has made durable (it commits them to Kafka after).
  int64_t Done() {
    auto committed = client_->CommittedOffsets(group_, topic_);
    if (!committed.ok()) return 0;
    int64_t done = 0;
    for (const auto& [partition, offset] : *committed) done += offset;
    return done;
  }

  // Bounded wait until every message is durable and both topics are complete.
  void WaitForCompletion(Worker& worker) {
    const auto deadline = Clock::now() + kCompletionTimeout;
    const int64_t total = static_cast<int64_t>(kMessages);
    while (Clock::now() < deadline) {
      ASSERT_TRUE(worker.Running()) << "the worker exited by itself; its log ends:\n"
                                    << WorkerLog();
      const auto ledger_count = client_->MessageCount(ledger_topic_);
      const auto rejected_count = client_->MessageCount(rejected_topic_);
      if (Done() == total && ledger_count.ok() &&
          *ledger_count >= static_cast<int64_t>(expected_ids_.size()) && rejected_count.ok() &&
          *rejected_count >= static_cast<int64_t>(expected_rejections_.size())) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    FAIL() << "ingestion did not complete within " << kCompletionTimeout.count() << " s: "
           << Done() << " of " << total << " messages durable";
  }

  void VerifyExactlyOnce() {
    // The ledger: exactly the unique valid events, each once; the audit is clean.
    auto store = ledger::LogStore::Open(ledger::DatabasePath(dir_.string()),
                                        ledger::OpenMode::kReadOnly, {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto report = ledger::AuditLog(**store, {});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_TRUE(report->ok()) << report->findings.front().problem;
    ASSERT_EQ(report->entries_checked, expected_ids_.size());
    std::set<std::string> logged;
    std::map<uint64_t, std::string> entry_bytes;
    ASSERT_TRUE((*store)
                    ->Scan(ledger::Family::kEntries, 0, UINT64_MAX,
                           [&](uint64_t sequence, std::string_view bytes) {
                             v1::LedgerEntry entry;
                             EXPECT_TRUE(entry.ParseFromString(std::string(bytes)));
                             EXPECT_TRUE(logged.insert(entry.event_id()).second)
                                 << entry.event_id() << " logged twice";
                             EXPECT_TRUE(entry.source().has_kafka());
                             entry_bytes[sequence] = std::string(bytes);
                             return true;
                           })
                    .ok());
    EXPECT_EQ(logged, expected_ids_);

    // The rejected topic: every malformed message once, with the rule it broke.
    auto rejected = client_->ConsumeAll(rejected_topic_, std::chrono::seconds(60));
    ASSERT_TRUE(rejected.ok()) << rejected.status().ToString();
    std::multiset<std::pair<std::string, std::string>> got_rejections;
    std::set<std::string> rejected_offsets;
    for (const testing::ConsumedMessage& m : *rejected) {
      const auto rule = KafkaHeader(m.headers, "traceledger-rule");
      const auto reason = KafkaHeader(m.headers, "traceledger-reason");
      const auto partition = KafkaHeader(m.headers, "traceledger-source-partition");
      const auto offset = KafkaHeader(m.headers, "traceledger-source-offset");
      ASSERT_TRUE(rule && reason && partition && offset);
      EXPECT_FALSE(reason->empty());
      EXPECT_EQ(KafkaHeader(m.headers, "traceledger-source-topic"), topic_);
      EXPECT_TRUE(rejected_offsets.insert(*partition + "/" + *offset).second)
          << "source message " << *partition << "/" << *offset << " rejected twice";
      got_rejections.insert({m.value, *rule});
    }
    EXPECT_EQ(rejected->size(), expected_rejections_.size());
    EXPECT_TRUE(got_rejections == expected_rejections_) << "rejections differ from the stream";

    // The ledger topic: every entry once, with its exact bytes, in sequence order per key.
    auto published = client_->ConsumeAll(ledger_topic_, std::chrono::seconds(60));
    ASSERT_TRUE(published.ok()) << published.status().ToString();
    ASSERT_EQ(published->size(), entry_bytes.size());
    std::set<uint64_t> sequences;
    std::map<std::string, uint64_t> last_per_key;
    for (const testing::ConsumedMessage& m : *published) {
      const auto seq_header = KafkaHeader(m.headers, "traceledger-seq");
      ASSERT_TRUE(seq_header.has_value());
      const uint64_t seq = std::stoull(*seq_header);
      ASSERT_TRUE(sequences.insert(seq).second) << "entry " << seq << " published twice";
      ASSERT_EQ(m.value, entry_bytes[seq]) << "entry " << seq << " bytes differ";
      EXPECT_EQ(KafkaHeader(m.headers, "traceledger-leaf-hash"),
                HexEncode(ledger::merkle::HashLeaf(m.value)));
      auto [it, first] = last_per_key.emplace(m.key, seq);
      if (!first) {
        EXPECT_GT(seq, it->second) << "key " << m.key << " out of sequence order";
        it->second = seq;
      }
    }
    EXPECT_EQ(*sequences.rbegin(), entry_bytes.size() - 1);
  }

  uint64_t seed_ = 0;
  std::string bootstrap_;
  std::unique_ptr<KafkaTestClient> client_;
  std::string topic_, group_, rejected_topic_, ledger_topic_, known_submitters_;
  std::filesystem::path dir_;
  std::vector<StreamMessage> stream_;
  std::set<std::string> expected_ids_;
  std::multiset<std::pair<std::string, std::string>> expected_rejections_;
};

TEST_F(KafkaIngestTest, EveryUniqueValidEventOnceAndEveryMalformedMessageRejectedOnce) {
  ProduceStream();
  auto worker = StartWorker();
  WaitForCompletion(*worker);
  if (HasFatalFailure()) return;
  const int status = worker->Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  VerifyExactlyOnce();
}

// Events arrive in twenty waves of 5,000. Before each wave a worker is started and allowed to
// catch up; the wave is produced, and the worker is SIGKILLed a random 0-30 ms later, while it
// is working through the wave. A kill counts only if the ledger, read after it, lacks events
// of the wave, i.e. the worker was killed in the middle of ingesting; at least 5 are required.
TEST_F(KafkaIngestTest, SigkilledWorkerRestartsWithTheSameExactlyOnceResult) {
  GenerateStream();
  std::mt19937_64 rng(seed_);
  constexpr size_t kWaves = 20;
  int kills = 0;
  int kills_mid_ingestion = 0;
  for (size_t wave = 0; wave < kWaves; ++wave) {
    const size_t begin = stream_.size() * wave / kWaves;
    const size_t end = stream_.size() * (wave + 1) / kWaves;
    auto worker = StartWorker();
    // Bounded wait until it has caught up with everything produced so far.
    const auto catch_up = Clock::now() + std::chrono::seconds(60);
    while (Done() < static_cast<int64_t>(begin) && Clock::now() < catch_up) {
      ASSERT_TRUE(worker->Running()) << WorkerLog();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_GE(Done(), static_cast<int64_t>(begin)) << "the worker did not catch up";
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // its consumer is fetching
    Produce(begin, end);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 30));
    worker->Kill();
    ++kills;
    if (LedgerSize() < UniqueValidIn(end)) ++kills_mid_ingestion;
  }
  std::fprintf(stderr, "killed the worker %d times, %d of them in the middle of ingesting\n",
               kills, kills_mid_ingestion);
  EXPECT_GE(kills_mid_ingestion, 5);
  auto worker = StartWorker();
  WaitForCompletion(*worker);
  if (HasFatalFailure()) return;
  EXPECT_EQ(worker->Stop() >> 8, 0);
  VerifyExactlyOnce();
}

TEST_F(KafkaIngestTest, WorkerRidesOutABrokerRestart) {
  ProduceStream();
  auto worker = StartWorker();
  // Restart the broker once ingestion is under way (bounded wait for some progress).
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Done() < static_cast<int64_t>(kMessages / 5) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const char* script = std::getenv("TL_KAFKA_BROKER_SCRIPT");
  const char* broker_dir = std::getenv("TL_KAFKA_BROKER_DIR");
  ASSERT_TRUE(script != nullptr && broker_dir != nullptr);
  const int64_t at = Done();
  const std::string restart = std::string("bash ") + script + " restart " + broker_dir + " > /dev/null";
  ASSERT_EQ(std::system(restart.c_str()), 0);
  std::fprintf(stderr, "restarted the broker with %lld of %llu messages durable\n",
               static_cast<long long>(at), static_cast<unsigned long long>(kMessages));
  WaitForCompletion(*worker);
  if (HasFatalFailure()) return;
  EXPECT_EQ(worker->Stop() >> 8, 0);
  VerifyExactlyOnce();
}

}  // namespace
}  // namespace traceledger::ingest
