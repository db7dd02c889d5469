#include "ledger/audit.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <random>

#include "ledger/base/encoding.h"
#include "ledger/ledger.h"
#include "ledger/testing/requests.h"

namespace traceledger::ledger {
namespace {

constexpr std::string_view kOrigin = "audit.test/log";
constexpr int kEntries = 3000;  // several level-0 tiles and one level-1 tile

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("audit_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    signer_ = *NoteSigner::Generate(kOrigin);
    const NoteSigner& signer = *signer_;
    LedgerOptions options;
    options.checkpoint_every_entries = 500;
    auto ledger = *Ledger::Create(dir_.string(), std::string(kOrigin), signer, options);
    for (int b = 0; b < kEntries / 250; ++b) {
      std::vector<AppendRequest> requests;
      for (int i = 0; i < 250; ++i) {
        requests.push_back(testing::MakeRequest("a" + std::to_string(b * 250 + i)));
      }
      ASSERT_TRUE(ledger->Append(std::move(requests)).ok());
    }
    ASSERT_TRUE(ledger->Close().ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  AuditReport Audit() {
    auto store = LogStore::Open(dir_.string(), OpenMode::kReadOnly, {});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    auto report = AuditLog(**store, {});
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return *report;
  }

  // Rewrites one stored value directly in RocksDB, as an attacker with disk access would.
  void Rewrite(Family family, const std::string& key,
               const std::function<void(std::string&)>& change) {
    auto store = *LogStore::Open(dir_.string(), OpenMode::kReadWrite, {});
    std::string value = **store->Get(family, key);
    change(value);
    ASSERT_TRUE(store->db()->Put(rocksdb::WriteOptions(), store->handle(family), key, value).ok());
  }
  void Delete(Family family, const std::string& key) {
    auto store = *LogStore::Open(dir_.string(), OpenMode::kReadWrite, {});
    ASSERT_TRUE(store->db()->Delete(rocksdb::WriteOptions(), store->handle(family), key).ok());
  }

  std::filesystem::path dir_;
  std::optional<NoteSigner> signer_;
};

TEST_F(AuditTest, CleanLogSaysHowManyEntriesWereChecked) {
  AuditReport report = Audit();
  EXPECT_TRUE(report.ok()) << report.findings.front().problem;
  EXPECT_EQ(report.entries_checked, static_cast<uint64_t>(kEntries));
  EXPECT_EQ(report.index_records_checked, static_cast<uint64_t>(kEntries));
  // 12 level-0 tiles (11 full, one of 184) and one level-1 tile.
  EXPECT_EQ(report.tiles_checked, 13u);
  // Size 0 at creation, every 500, and the last at 3000.
  EXPECT_EQ(report.checkpoints_checked, 7u);
}

// Flipping one byte of one stored entry is reported at exactly that sequence number: at the
// first and last entry, on both sides of a tile boundary, and in the middle.
TEST_F(AuditTest, OneFlippedByteInAnEntryIsReportedAtItsSequence) {
  std::mt19937_64 rng(7);
  for (uint64_t target : {uint64_t{0}, uint64_t{255}, uint64_t{256}, uint64_t{1234},
                          uint64_t{kEntries - 1}}) {
    std::string original;
    size_t position = 0;
    Rewrite(Family::kEntries, EntryKey(target), [&](std::string& value) {
      original = value;
      position = rng() % value.size();
      value[position] = static_cast<char>(value[position] ^ (1 << (rng() % 8)));
    });
    AuditReport report = Audit();
    ASSERT_FALSE(report.ok());
    ASSERT_TRUE(report.first_bad_sequence().has_value()) << report.findings.front().problem;
    EXPECT_EQ(*report.first_bad_sequence(), target)
        << "flipped byte " << position << ": " << report.findings.front().problem;
    Rewrite(Family::kEntries, EntryKey(target), [&](std::string& value) { value = original; });
  }
  EXPECT_TRUE(Audit().ok());
}

TEST_F(AuditTest, FlippedEntryByteAtManyPositionsIsAlwaysFoundAtTheEntry) {
  // Fresh copies are expensive; flip and restore the same entry at many byte positions.
  const uint64_t target = 777;
  auto original = [&] {
    auto store = *LogStore::Open(dir_.string(), OpenMode::kReadOnly, {});
    return **store->GetEntry(target);
  }();
  for (size_t position = 0; position < original.size(); position += 23) {
    Rewrite(Family::kEntries, EntryKey(target),
            [&](std::string& value) { value[position] = static_cast<char>(value[position] ^ 0x20); });
    AuditReport report = Audit();
    ASSERT_TRUE(report.first_bad_sequence().has_value());
    EXPECT_EQ(*report.first_bad_sequence(), target) << "byte " << position;
    Rewrite(Family::kEntries, EntryKey(target), [&](std::string& value) { value = original; });
  }
  EXPECT_TRUE(Audit().ok());
}

TEST_F(AuditTest, AlteredTreeNodeIsReportedWithItsTile) {
  // Row 3 of tile 0/2: node 3/(2*32 + 5), covering entries 552..559.
  const size_t offset = 2 + 32 * (256 + 128 + 64 + 5);
  Rewrite(Family::kTiles, TileKey({0, 2}), [&](std::string& v) { v[offset] ^= 1; });
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad_sequence(), 552u);
  EXPECT_NE(report.findings.front().problem.find("tree node 3/69 (tile 0/2)"), std::string::npos)
      << report.findings.front().problem;
}

TEST_F(AuditTest, DeletedEntryIsReportedAsMissing) {
  Delete(Family::kEntries, EntryKey(1500));
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad_sequence(), 1500u);
  EXPECT_NE(report.findings.front().problem.find("missing"), std::string::npos)
      << report.findings.front().problem;
}

// A writer refuses to open a log whose last entry does not match its stored tree, and says
// why; it does not start (or abort on) its threads. The audit names the same entry.
TEST_F(AuditTest, WriterRefusesToOpenALogWhoseLastEntryWasAltered) {
  Rewrite(Family::kEntries, EntryKey(kEntries - 1), [](std::string& v) { v[v.size() - 1] ^= 1; });
  auto opened = Ledger::Open(dir_.string(), *signer_, {});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << opened.status().ToString();
  EXPECT_NE(opened.status().message().find("entry 2999"), std::string::npos)
      << opened.status().ToString();
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad_sequence(), 2999u);
}

TEST_F(AuditTest, AlteredCheckpointSignatureIsReported) {
  Rewrite(Family::kCheckpoints, CheckpointKey(1000), [](std::string& note) {
    note[note.size() - 5] = note[note.size() - 5] == 'A' ? 'B' : 'A';
  });
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_FALSE(report.first_bad_sequence().has_value());
  EXPECT_NE(report.findings.front().problem.find("checkpoint at size 1000"), std::string::npos)
      << report.findings.front().problem;
}

TEST_F(AuditTest, EventIdIndexGapsAreReported) {
  auto store = *LogStore::Open(dir_.string(), OpenMode::kReadOnly, {});
  v1::LedgerEntry entry;
  ASSERT_TRUE(entry.ParseFromString(**store->GetEntry(42)));
  store.reset();
  Delete(Family::kEventIds, EventIdKey(entry.event_id()));
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad_sequence(), 42u);
  EXPECT_NE(report.findings.front().problem.find("not in the index"), std::string::npos);
}

// The index is keyed by a hash of the id, so readers compare the entry it points at: an index
// record pointing at another entry is reported by the audit and refused by lookups.
TEST_F(AuditTest, IndexRecordPointingAtAnotherEntryIsCaught) {
  std::string key;
  {
    auto store = *LogStore::Open(dir_.string(), OpenMode::kReadOnly, {});
    v1::LedgerEntry entry;
    ASSERT_TRUE(entry.ParseFromString(**store->GetEntry(100)));
    key = EventIdKey(entry.event_id());
  }
  Rewrite(Family::kEventIds, key, [](std::string& value) {
    value = std::string("\0\0\0\0\0\0\0\x65", 8);  // entry 101
  });
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad_sequence(), 100u) << report.findings.front().problem;
  auto ledger = Ledger::Open(dir_.string(), std::nullopt, {});
  ASSERT_TRUE(ledger.ok());
  auto found = (*ledger)->FindEvent("a100");
  EXPECT_EQ(found.status().code(), StatusCode::kDataLoss) << found.status().ToString();
  EXPECT_EQ(*(*ledger)->FindEvent("a102"), std::optional<uint64_t>(102));
}

}  // namespace
}  // namespace traceledger::ledger
