#include "ledger/ledger.h"

#include <gtest/gtest.h>
#include <rocksdb/env.h>

#include <filesystem>
#include <random>
#include <thread>

#include "ledger/audit.h"
#include "ledger/base/encoding.h"
#include "ledger/merkle/hasher.h"
#include "ledger/merkle/verify.h"
#include "ledger/testing/faulty_file_system.h"
#include "ledger/testing/reference_merkle.h"
#include "ledger/testing/requests.h"

namespace traceledger::ledger {
namespace {

using testing::MakeRequest;

constexpr std::string_view kOrigin = "ledger.test/log";

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ledger_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    signer_ = *NoteSigner::Generate(kOrigin);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Ledger> CreateLedger(LedgerOptions options = {}) {
    auto ledger = Ledger::Create(dir_.string(), std::string(kOrigin), *signer_, options);
    EXPECT_TRUE(ledger.ok()) << ledger.status().ToString();
    return std::move(ledger).value();
  }
  std::unique_ptr<Ledger> Reopen(LedgerOptions options = {}) {
    auto ledger = Ledger::Open(dir_.string(), *signer_, options);
    EXPECT_TRUE(ledger.ok()) << ledger.status().ToString();
    return std::move(ledger).value();
  }
  static std::vector<AppendRequest> Requests(const std::string& prefix, int count) {
    std::vector<AppendRequest> requests;
    for (int i = 0; i < count; ++i) requests.push_back(MakeRequest(prefix + std::to_string(i)));
    return requests;
  }
  AuditReport Audit() {
    auto store = LogStore::Open(dir_.string(), OpenMode::kReadOnly, {});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    auto report = AuditLog(**store, {});
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return *report;
  }

  std::filesystem::path dir_;
  std::optional<NoteSigner> signer_;
};

TEST_F(LedgerTest, NewLedgerIsEmptyWithASignedEmptyCheckpoint) {
  auto ledger = CreateLedger();
  EXPECT_EQ(ledger->size(), 0u);
  auto note = ledger->LatestCheckpoint();
  ASSERT_TRUE(note.ok());
  auto checkpoint = OpenCheckpoint(*note, ledger->verifier(), kOrigin);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  EXPECT_EQ(checkpoint->tree_size, 0u);
  EXPECT_EQ(checkpoint->root_hash, merkle::EmptyRoot());
  ASSERT_TRUE(ledger->Close().ok());
  ledger.reset();
  auto again = Ledger::Create(dir_.string(), std::string(kOrigin), *signer_, {});
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

TEST_F(LedgerTest, EntriesChainToThePreviousLeafAndReceiptsNameThem) {
  auto ledger = CreateLedger();
  auto results = ledger->Append(Requests("e", 10));
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), 10u);
  Sha256Digest previous{};
  for (uint64_t i = 0; i < 10; ++i) {
    const AppendResult& r = (*results)[i];
    EXPECT_EQ(r.outcome, AppendOutcome::kAppended);
    EXPECT_EQ(r.receipt.sequence, i);
    EXPECT_EQ(r.receipt.event_id, "e" + std::to_string(i));
    const std::string bytes = *ledger->GetEntry(i);
    EXPECT_EQ(merkle::HashLeaf(bytes), r.receipt.leaf_hash);
    EXPECT_EQ(*ledger->LeafHash(i), r.receipt.leaf_hash);
    v1::LedgerEntry entry;
    ASSERT_TRUE(entry.ParseFromString(bytes));
    EXPECT_EQ(entry.sequence(), i);
    EXPECT_EQ(entry.previous_hash(), AsBytes(previous));
    EXPECT_EQ(entry.event(), testing::MakeEventBytes("e" + std::to_string(i)));
    EXPECT_EQ(entry.event_id(), "e" + std::to_string(i));
    previous = r.receipt.leaf_hash;
  }
  EXPECT_EQ(ledger->size(), 10u);
  EXPECT_EQ(ledger->GetEntry(10).status().code(), StatusCode::kOutOfRange);
}

// Invariant 4 (exactly once): the same events appended again, in the same process or after a
// restart, get identical receipts and append nothing.
TEST_F(LedgerTest, AppendingTheSameEventsTwiceYieldsIdenticalReceiptsAndNoNewEntries) {
  std::vector<AppendResult> first;
  {
    auto ledger = CreateLedger();
    first = *ledger->Append(Requests("dup", 50));
    auto second = ledger->Append(Requests("dup", 50));
    ASSERT_TRUE(second.ok());
    for (size_t i = 0; i < first.size(); ++i) {
      EXPECT_EQ((*second)[i].outcome, AppendOutcome::kDuplicate);
      EXPECT_EQ((*second)[i].receipt, first[i].receipt);
    }
    EXPECT_EQ(ledger->size(), 50u);
  }
  auto ledger = Reopen();
  auto third = ledger->Append(Requests("dup", 50));
  ASSERT_TRUE(third.ok());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ((*third)[i].outcome, AppendOutcome::kDuplicate);
    EXPECT_EQ((*third)[i].receipt, first[i].receipt);
  }
  EXPECT_EQ(ledger->size(), 50u);
  // Duplicates inside one call and across concurrent in-flight calls.
  std::vector<AppendRequest> twice = Requests("x", 3);
  twice.push_back(MakeRequest("x1"));
  auto within = *ledger->Append(twice);
  EXPECT_EQ(within[3].outcome, AppendOutcome::kDuplicate);
  EXPECT_EQ(within[3].receipt, within[1].receipt);
  EXPECT_EQ(ledger->size(), 53u);
  ASSERT_TRUE(ledger->Close().ok());
  EXPECT_TRUE(Audit().ok());
}

TEST_F(LedgerTest, SameEventIdWithOtherBytesOrSubmitterIsAConflict) {
  auto ledger = CreateLedger();
  const AppendResult original = (*ledger->Append({MakeRequest("id-1")}))[0];
  AppendRequest other_bytes = MakeRequest("id-1");
  other_bytes.event += " ";
  AppendRequest other_submitter = MakeRequest("id-1");
  other_submitter.submitter_id = "9521234000009";
  auto results = ledger->Append({other_bytes, other_submitter});
  ASSERT_TRUE(results.ok());
  for (const AppendResult& r : *results) {
    EXPECT_EQ(r.outcome, AppendOutcome::kConflict);
    EXPECT_EQ(r.receipt, original.receipt);
  }
  EXPECT_EQ(ledger->size(), 1u);
}

TEST_F(LedgerTest, MalformedRequestsAreRefusedWholeAndChangeNothing) {
  LedgerOptions options;
  options.max_batch_records = 10;
  options.max_event_bytes = 1000;
  auto ledger = CreateLedger(options);
  struct Case {
    std::function<void(AppendRequest&)> mutate;
    StatusCode code;
    std::string want;
  };
  const std::vector<Case> cases = {
      {[](AppendRequest& r) { r.event_id.clear(); }, StatusCode::kInvalidArgument,
       "request 1: event_id is empty"},
      {[](AppendRequest& r) { r.event_id = std::string(257, 'x'); },
       StatusCode::kInvalidArgument, "event_id has 257 bytes"},
      {[](AppendRequest& r) { r.submitter_id.clear(); }, StatusCode::kInvalidArgument,
       "submitter_id is empty"},
      {[](AppendRequest& r) { r.encoding = v1::EVENT_ENCODING_UNSPECIFIED; },
       StatusCode::kInvalidArgument, "encoding is unspecified"},
      {[](AppendRequest& r) { r.event = std::string(1001, 'x'); }, StatusCode::kInvalidArgument,
       "more than max_event_bytes 1000"},
  };
  for (const Case& c : cases) {
    std::vector<AppendRequest> requests = Requests("ok", 3);
    c.mutate(requests[1]);
    auto result = ledger->Append(requests);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), c.code);
    EXPECT_NE(result.status().message().find(c.want), std::string::npos)
        << result.status().message();
  }
  auto too_many = ledger->Append(Requests("many", 11));
  EXPECT_EQ(too_many.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ledger->size(), 0u);
  EXPECT_FALSE(*ledger->FindEvent("ok0"));
}

TEST_F(LedgerTest, RootsAndProofsMatchTheReferenceTreeAcrossRestarts) {
  std::mt19937_64 rng(12345);
  std::vector<Sha256Digest> leaves;
  auto ledger = CreateLedger();
  int next = 0;
  while (leaves.size() < 3000) {
    const int batch = 1 + static_cast<int>(rng() % 300);
    auto results = *ledger->Append(Requests("p" + std::to_string(next) + "-", batch));
    next++;
    for (const AppendResult& r : results) leaves.push_back(r.receipt.leaf_hash);
    if (next % 5 == 0) {  // reopen now and then: recovery must rebuild the same tree
      ASSERT_TRUE(ledger->Close().ok());
      ledger.reset();
      ledger = Reopen();
    }
  }
  const uint64_t n = leaves.size();
  for (int trial = 0; trial < 200; ++trial) {
    const uint64_t size = 1 + rng() % n;
    const uint64_t index = rng() % size;
    const Sha256Digest root = testing::ReferenceRoot(leaves, 0, size);
    ASSERT_EQ(*ledger->RootHash(size), root) << size;
    auto proof = ledger->ProveInclusion(index, size);
    ASSERT_TRUE(proof.ok()) << proof.status().ToString();
    ASSERT_EQ(*proof, testing::ReferencePath(leaves, index, 0, size));
    ASSERT_TRUE(merkle::VerifyInclusion(index, size, leaves[index], *proof, root).ok());
    const uint64_t from = rng() % (size + 1);
    auto consistency = ledger->ProveConsistency(from, size);
    ASSERT_TRUE(consistency.ok());
    ASSERT_EQ(*consistency, testing::ReferenceConsistency(leaves, from, size));
  }
  EXPECT_EQ(ledger->ProveInclusion(0, n + 1).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ledger->ProveConsistency(1, n + 1).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ledger->ProveInclusion(n, n).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(ledger->Close().ok());
  AuditReport report = Audit();
  EXPECT_TRUE(report.ok()) << report.findings.front().problem;
  EXPECT_EQ(report.entries_checked, n);
}

// A log whose size is a multiple of the tile width (256) ends in a complete level-0 tile that
// the tree builder does not keep; reopening must read the last leaf from the store. (Found by
// the crash test: a kill that left 4,096 entries made the next open fail.)
TEST_F(LedgerTest, ReopensWhenTheLogEndsExactlyAtATileBoundary) {
  std::vector<Sha256Digest> leaves;
  auto ledger = CreateLedger();
  for (int size : {256, 512, 65536}) {
    while (leaves.size() < static_cast<size_t>(size)) {
      const int batch = static_cast<int>(std::min<size_t>(1000, size - leaves.size()));
      auto results = *ledger->Append(Requests("t" + std::to_string(leaves.size()) + "-", batch));
      for (const AppendResult& r : results) leaves.push_back(r.receipt.leaf_hash);
    }
    ASSERT_TRUE(ledger->Close().ok());
    ledger.reset();
    auto reopened = Ledger::Open(dir_.string(), *signer_, {});
    ASSERT_TRUE(reopened.ok()) << "size " << size << ": " << reopened.status().ToString();
    ledger = std::move(reopened).value();
    ASSERT_EQ(ledger->size(), static_cast<uint64_t>(size));
    EXPECT_EQ(*ledger->RootHash(size), testing::ReferenceRoot(leaves, 0, size)) << size;
  }
  // And it goes on appending to the same tree.
  auto results = *ledger->Append(Requests("after-", 3));
  for (const AppendResult& r : results) leaves.push_back(r.receipt.leaf_hash);
  EXPECT_EQ(*ledger->RootHash(leaves.size()), testing::ReferenceRoot(leaves, 0, leaves.size()));
  ASSERT_TRUE(ledger->Close().ok());
  AuditReport report = Audit();
  EXPECT_TRUE(report.ok()) << report.findings.front().problem;
}

TEST_F(LedgerTest, CheckpointsEveryNEntriesAreAllKeptAndVerify) {
  LedgerOptions options;
  options.checkpoint_every_entries = 100;
  options.checkpoint_interval_ms = 3600 * 1000;
  auto ledger = CreateLedger(options);
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(ledger->Append(Requests("c" + std::to_string(i) + "-", 50)).ok());
  for (uint64_t size : {100u, 200u, 300u}) {
    auto note = ledger->CheckpointAt(size);
    ASSERT_TRUE(note.ok()) << size;
    auto checkpoint = OpenCheckpoint(*note, ledger->verifier(), kOrigin);
    ASSERT_TRUE(checkpoint.ok());
    EXPECT_EQ(checkpoint->tree_size, size);
    EXPECT_EQ(checkpoint->root_hash, *ledger->RootHash(size));
  }
  EXPECT_EQ(ledger->CheckpointAt(150).status().code(), StatusCode::kNotFound);
  // An explicit checkpoint covers the rest; closing with nothing new adds none.
  auto latest = OpenCheckpoint(*ledger->Checkpoint(), ledger->verifier(), kOrigin);
  EXPECT_EQ(latest->tree_size, 350u);
  EXPECT_EQ(latest->root_hash, *ledger->RootHash(350));
  ASSERT_TRUE(ledger->Close().ok());
  ledger.reset();
  ledger = Reopen(options);
  EXPECT_EQ(OpenCheckpoint(*ledger->LatestCheckpoint(), ledger->verifier(), kOrigin)->tree_size,
            350u);
}

TEST_F(LedgerTest, ClosingSignsACheckpointOfUncoveredEntries) {
  LedgerOptions options;
  options.checkpoint_every_entries = 1000;
  options.checkpoint_interval_ms = 3600 * 1000;
  auto ledger = CreateLedger(options);
  ASSERT_TRUE(ledger->Append(Requests("z", 7)).ok());
  EXPECT_EQ(OpenCheckpoint(*ledger->LatestCheckpoint(), ledger->verifier(), kOrigin)->tree_size,
            0u);
  ASSERT_TRUE(ledger->Close().ok());
  ledger.reset();
  ledger = Reopen(options);
  EXPECT_EQ(OpenCheckpoint(*ledger->LatestCheckpoint(), ledger->verifier(), kOrigin)->tree_size,
            7u);
}

TEST_F(LedgerTest, ACheckpointIsSignedWhenTheIntervalPassesWithoutNewAppends) {
  LedgerOptions options;
  options.checkpoint_every_entries = 1000000;
  options.checkpoint_interval_ms = 50;
  auto ledger = CreateLedger(options);
  ASSERT_TRUE(ledger->Append(Requests("t", 3)).ok());
  // Bounded wait: the sequencer's timer must sign within a few intervals.
  uint64_t covered = 0;
  for (int i = 0; i < 500 && covered < 3; ++i) {
    covered = OpenCheckpoint(*ledger->LatestCheckpoint(), ledger->verifier(), kOrigin)->tree_size;
    if (covered < 3) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(covered, 3u);
}

TEST_F(LedgerTest, ConcurrentAppendersGetDistinctSequencesAndNothingIsLost) {
  auto ledger = CreateLedger();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::vector<std::vector<AppendResult>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kPerThread / 100; ++b) {
        auto r = ledger->Append(
            Requests("t" + std::to_string(t) + "b" + std::to_string(b) + "-", 100));
        ASSERT_TRUE(r.ok());
        results[t].insert(results[t].end(), r->begin(), r->end());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<bool> seen(kThreads * kPerThread, false);
  for (const auto& per_thread : results) {
    for (const AppendResult& r : per_thread) {
      ASSERT_EQ(r.outcome, AppendOutcome::kAppended);
      ASSERT_LT(r.receipt.sequence, seen.size());
      ASSERT_FALSE(seen[r.receipt.sequence]);
      seen[r.receipt.sequence] = true;
      EXPECT_EQ(*ledger->FindEvent(r.receipt.event_id), r.receipt.sequence);
    }
  }
  EXPECT_EQ(ledger->size(), static_cast<uint64_t>(kThreads * kPerThread));
  ASSERT_TRUE(ledger->Close().ok());
  EXPECT_TRUE(Audit().ok());
}

TEST_F(LedgerTest, SourcePositionsCommitWithTheirEntries) {
  auto ledger = CreateLedger();
  ASSERT_TRUE(ledger->Append(Requests("k", 2), {{"kafka/events/0", 42}}).ok());
  // A batch of nothing but positions (all its messages were rejected) still stores them.
  ASSERT_TRUE(ledger->Append({}, {{"kafka/events/0", 57}, {"kafka/events/1", 3}}).ok());
  ASSERT_TRUE(ledger->Close().ok());
  ledger.reset();
  ledger = Reopen();
  EXPECT_EQ(**ledger->GetSourcePosition("kafka/events/0"), 57);
  EXPECT_EQ(**ledger->GetSourcePosition("kafka/events/1"), 3);
  EXPECT_FALSE(ledger->GetSourcePosition("kafka/events/2")->has_value());
  EXPECT_EQ(ledger->size(), 2u);
}

TEST_F(LedgerTest, ReadOnlyOpenReadsAndProvesButRefusesAppends) {
  {
    auto ledger = CreateLedger();
    ASSERT_TRUE(ledger->Append(Requests("r", 20)).ok());
  }
  auto ledger = Ledger::Open(dir_.string(), std::nullopt, {});
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  EXPECT_TRUE((*ledger)->read_only());
  EXPECT_EQ((*ledger)->size(), 20u);
  EXPECT_TRUE((*ledger)->ProveInclusion(3, 20).ok());
  auto refused = (*ledger)->Append(Requests("no", 1));
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(LedgerTest, OpeningWithAnotherKeyIsRefused) {
  { auto ledger = CreateLedger(); }
  auto other = *NoteSigner::Generate(kOrigin);
  auto ledger = Ledger::Open(dir_.string(), other, {});
  EXPECT_EQ(ledger.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(LedgerTest, RejectionsAndConflictsGoToTheOutboxWithTheirPositions) {
  auto ledger = CreateLedger();
  ASSERT_TRUE(ledger->Append(Requests("ok", 2)).ok());
  AppendCall call;
  call.requests = Requests("new", 1);
  AppendRequest conflicting = MakeRequest("ok0");
  conflicting.event += " changed";
  conflicting.source.mutable_kafka()->set_topic("events");
  conflicting.source.mutable_kafka()->set_offset(9);
  conflicting.on_conflict = OnConflict::kAnswerAndRecordRejection;
  call.requests.push_back(conflicting);
  AppendRequest quiet_conflict = MakeRequest("ok1");
  quiet_conflict.event += " changed";  // kAnswer: answered, not recorded
  call.requests.push_back(quiet_conflict);
  v1::Rejection invalid;
  invalid.set_rule("bad_identifier");
  invalid.set_field("/objectEvent/epcList/0");
  invalid.set_reason("GTIN 09521234543214: check digit 4, want 3");
  invalid.set_payload("raw bytes");
  invalid.mutable_source()->mutable_kafka()->set_offset(8);
  call.rejections.push_back(invalid);
  call.positions.push_back({"kafka/events/0", 10});
  auto results = ledger->Append(std::move(call));
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  EXPECT_EQ((*results)[0].outcome, AppendOutcome::kAppended);
  EXPECT_EQ((*results)[1].outcome, AppendOutcome::kConflict);
  EXPECT_EQ((*results)[2].outcome, AppendOutcome::kConflict);
  ASSERT_EQ(ledger->rejection_count(), 2u);
  std::vector<v1::Rejection> stored;
  ASSERT_TRUE(ledger
                  ->ScanRejections(0, 100,
                                   [&](uint64_t sequence, std::string_view bytes) {
                                     v1::Rejection r;
                                     EXPECT_TRUE(r.ParseFromString(std::string(bytes)));
                                     EXPECT_EQ(r.sequence(), sequence);
                                     stored.push_back(r);
                                     return true;
                                   })
                  .ok());
  ASSERT_EQ(stored.size(), 2u);
  // Outbox sequences follow the order the batch meets them: the call's requests (where the
  // conflict is found), then its own rejections.
  EXPECT_EQ(stored[0].rule(), "conflict");
  EXPECT_EQ(stored[0].event_id(), "ok0");
  EXPECT_EQ(stored[0].source().kafka().offset(), 9);
  EXPECT_NE(stored[0].reason().find("already logged at entry 0"), std::string::npos);
  EXPECT_EQ(stored[1].rule(), "bad_identifier");
  EXPECT_EQ(stored[1].payload(), "raw bytes");
  EXPECT_GT(stored[1].rejected_unix_micros(), 0);
  ASSERT_TRUE(ledger->Close().ok());
  ledger.reset();
  ledger = Reopen();
  EXPECT_EQ(ledger->rejection_count(), 2u);
  EXPECT_EQ(**ledger->GetSourcePosition("kafka/events/0"), 10);
  AppendCall more;
  more.rejections.push_back(invalid);
  ASSERT_TRUE(ledger->Append(std::move(more)).ok());
  EXPECT_EQ(ledger->rejection_count(), 3u);
  EXPECT_EQ(ledger->size(), 3u);
}

TEST_F(LedgerTest, WaitForCommitWakesOnNewEntries) {
  auto ledger = CreateLedger();
  EXPECT_FALSE(ledger->WaitForCommit(0, 0, std::chrono::milliseconds(10)));
  std::thread appender([&] { ASSERT_TRUE(ledger->Append(Requests("w", 3)).ok()); });
  EXPECT_TRUE(ledger->WaitForCommit(0, 0, std::chrono::seconds(30)));
  appender.join();
  EXPECT_EQ(ledger->size(), 3u);
  std::vector<uint64_t> scanned;
  ASSERT_TRUE(ledger
                  ->ScanEntries(1, 100,
                                [&](uint64_t sequence, std::string_view bytes) {
                                  EXPECT_EQ(merkle::HashLeaf(bytes), *ledger->LeafHash(sequence));
                                  scanned.push_back(sequence);
                                  return true;
                                })
                  .ok());
  EXPECT_EQ(scanned, (std::vector<uint64_t>{1, 2}));
}

// Failure model: when the disk fails, the ledger stops (every later caller gets the cause and
// nothing more is written), and after a reopen every acknowledged event is there and the log
// audits clean.
TEST_F(LedgerTest, AFailedWalWriteStopsTheLedgerAndLosesNothingAcknowledged) {
  auto faulty = std::make_shared<testing::FaultyFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(faulty);
  LedgerOptions options;
  options.store.env = env.get();
  std::vector<AppendResult> acknowledged;
  {
    auto ledger = CreateLedger(options);
    acknowledged = *ledger->Append(Requests("before", 100));
    faulty->FailWal(true);
    auto failed = ledger->Append(Requests("during", 100));
    ASSERT_FALSE(failed.ok());
    EXPECT_NE(failed.status().message().find("ledger stopped after a failed write"),
              std::string::npos)
        << failed.status().message();
    EXPECT_NE(failed.status().message().find("injected WAL"), std::string::npos);
    faulty->FailWal(false);
    // The disk works again, but the ledger stays stopped until it is reopened.
    auto after = ledger->Append(Requests("after", 10));
    ASSERT_FALSE(after.ok());
    EXPECT_NE(after.status().message().find("reopen"), std::string::npos);
    EXPECT_EQ(ledger->size(), 100u);
    EXPECT_FALSE(ledger->Close().ok());
  }
  auto ledger = Reopen();
  for (const AppendResult& r : acknowledged) {
    EXPECT_EQ(*ledger->FindEvent(r.receipt.event_id), r.receipt.sequence);
  }
  EXPECT_FALSE(*ledger->FindEvent("after0"));
  // The events of the failed call were never acknowledged; appending them now works once.
  auto retried = ledger->Append(Requests("during", 100));
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  ASSERT_TRUE(ledger->Close().ok());
  ledger.reset();
  AuditReport report = Audit();
  EXPECT_TRUE(report.ok()) << report.findings.front().problem;
  EXPECT_EQ(report.entries_checked, 200u);
}

}  // namespace
}  // namespace traceledger::ledger
