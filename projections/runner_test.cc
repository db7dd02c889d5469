#include "projections/runner.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/table_properties.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ledger/data_dir.h"
#include "ledger/testing/requests.h"
#include "projections/internal/decode_blocks.h"
#include "projections/keys.h"
#include "tl/v1/views.pb.h"

namespace traceledger::projections {
namespace {

// Counts entries per submitter; a second projection reads the first (a dependency).
class CountBySubmitter : public Projection {
 public:
  explicit CountBySubmitter(uint32_t version = 1) : version_(version) {}
  std::string_view name() const override { return "count"; }
  uint32_t version() const override { return version_; }
  Status Apply(const AppliedEntry& entry, ViewRows& rows) override {
    const std::string key = Key("c").Str(entry.entry->submitter_id()).str();
    TL_ASSIGN_OR_RETURN(std::optional<std::string> old, rows.Get(key));
    const uint64_t count = old.has_value() ? DecodeFixed64BigEndian(*old) + 1 : 1;
    std::string value;
    PutFixed64BigEndian(&value, count);
    rows.Put(key, value);
    return Status::Ok();
  }

 private:
  uint32_t version_;
};

class Milestones : public Projection {
 public:
  std::string_view name() const override { return "milestones"; }
  uint32_t version() const override { return 1; }
  std::vector<std::string> dependencies() const override { return {"count"}; }
  Status Apply(const AppliedEntry& entry, ViewRows& rows) override {
    // Every 10th entry of a submitter, as the count view says at that entry.
    TL_ASSIGN_OR_RETURN(std::optional<std::string> count,
                        rows.Dependency("count").Get(Key("c").Str(entry.entry->submitter_id()).str()));
    if (count.has_value() && DecodeFixed64BigEndian(*count) % 10 == 0) {
      rows.Put(Key("m").U64(entry.sequence).str(), entry.entry->submitter_id());
    }
    return Status::Ok();
  }
};

// Keeps each submitter's latest entry only (deleting the row of the one before), every
// entry's number under a key with no first component, and a row per submitter read back by a
// prefix scan: puts, deletes of rows written in earlier batches, and scans.
class Latest : public Projection {
 public:
  std::string_view name() const override { return "latest"; }
  uint32_t version() const override { return 1; }
  Status Apply(const AppliedEntry& entry, ViewRows& rows) override {
    const std::string& submitter = entry.entry->submitter_id();
    std::vector<std::string> previous;
    TL_RETURN_IF_ERROR(rows.Scan(Key("s").Str(submitter).str(),
                                 [&](std::string_view key, std::string_view) {
                                   previous.emplace_back(key);
                                   return true;
                                 }));
    for (const std::string& key : previous) rows.Delete(key);
    rows.Put(Key("s").Str(submitter).U64(entry.sequence).str(), entry.entry->event_id());
    rows.Put("z" + std::to_string(entry.sequence % 17), std::to_string(entry.sequence));
    return Status::Ok();
  }
};

std::vector<std::unique_ptr<Projection>> Projections(uint32_t count_version = 1) {
  std::vector<std::unique_ptr<Projection>> out;
  out.push_back(std::make_unique<Milestones>());  // registered before its dependency on purpose
  out.push_back(std::make_unique<CountBySubmitter>(count_version));
  return out;
}

std::map<std::string, std::string> Dump(const ViewStore& store, std::string_view view) {
  std::map<std::string, std::string> rows;
  EXPECT_TRUE(store
                  .ForEach(view,
                           [&](std::string_view k, std::string_view v) {
                             rows.emplace(k, v);
                             return true;
                           })
                  .ok());
  return rows;
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("runner_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    ledger_ = std::move(ledger::CreateDataDir((dir_ / "ledger").string(), "runner.test/log", {})).value();
    source_ = LedgerEntrySource(*ledger_);
  }
  void TearDown() override {
    source_.reset();
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Append(int count, int submitters) {
    std::vector<ledger::AppendRequest> requests;
    for (int i = 0; i < count; ++i) {
      ledger::AppendRequest request = ledger::testing::MakeRequest("e" + std::to_string(next_id_++));
      request.submitter_id = "party-" + std::to_string(i % submitters);
      requests.push_back(std::move(request));
    }
    ASSERT_TRUE(ledger_->Append(std::move(requests)).ok());
  }
  std::string Views(std::string_view name) { return (dir_ / name).string(); }
  // A runner of `projections` over the views in Views(name), with those batch options.
  std::unique_ptr<ProjectionRunner> Open(const std::string& name,
                                         std::vector<std::unique_ptr<Projection>> projections,
                                         size_t batch_entries, size_t table_file_min_rows) {
    RunnerOptions options;
    options.batch_entries = batch_entries;
    options.table_file_min_rows = table_file_min_rows;
    return *ProjectionRunner::Open(Views(name), std::move(projections), options);
  }

  std::filesystem::path dir_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<EntrySource> source_;
  int next_id_ = 0;
};

TEST_F(RunnerTest, ARebuiltViewIsByteIdenticalToTheIncrementalOne) {
  RunnerOptions small_batches;
  small_batches.batch_entries = 7;
  auto incremental = *ProjectionRunner::Open(Views("incremental"), Projections(), small_batches);
  for (int round = 0; round < 20; ++round) {
    Append(13, 3);
    ASSERT_TRUE(incremental->CatchUp(*source_).ok());
  }
  auto rebuilt = *ProjectionRunner::Open(Views("rebuilt"), Projections(), {});
  ASSERT_TRUE(rebuilt->CatchUp(*source_).ok());
  ASSERT_TRUE(rebuilt->Rebuild("milestones").ok());  // also rebuilds "count"
  EXPECT_EQ(rebuilt->NextSequence("count"), 0u);
  ASSERT_TRUE(rebuilt->CatchUp(*source_).ok());
  for (std::string_view view : {"count", "milestones"}) {
    const auto a = Dump(incremental->store(), view);
    const auto b = Dump(rebuilt->store(), view);
    EXPECT_FALSE(a.empty());
    EXPECT_EQ(a, b) << view;
  }
  // 20 rounds of 13 entries over 3 submitters: 100 + 80 + 80, a milestone at every 10th of
  // each (26), plus the cursor row.
  const auto counts = Dump(incremental->store(), "count");
  EXPECT_EQ(DecodeFixed64BigEndian(counts.at(Key("c").Str("party-0").str())), 100u);
  EXPECT_EQ(DecodeFixed64BigEndian(counts.at(Key("c").Str("party-2").str())), 80u);
  EXPECT_EQ(Dump(incremental->store(), "milestones").size(), 26u + 1);
}

TEST_F(RunnerTest, TableFilesAndWriteBatchesLeaveTheSameRows) {
  auto open = [&](const std::string& name, size_t batch_entries, size_t table_file_min_rows) {
    std::vector<std::unique_ptr<Projection>> projections = Projections();
    projections.push_back(std::make_unique<Latest>());
    return Open(name, std::move(projections), batch_entries, table_file_min_rows);
  };
  // Always table files, always write batches, and mixed (large batches as files, the small
  // ones as write batches into the same views).
  auto files = open("files", 9, 0);
  auto batches = open("batches", 9, SIZE_MAX);
  auto mixed = open("mixed", 40, 30);
  for (int round = 0; round < 12; ++round) {
    Append(round % 2 == 0 ? 31 : 3, 4);
    for (ProjectionRunner* runner : {files.get(), batches.get(), mixed.get()}) {
      ASSERT_TRUE(runner->CatchUp(*source_).ok());
    }
  }
  for (std::string_view view : {"count", "milestones", "latest"}) {
    const auto expected = Dump(batches->store(), view);
    EXPECT_EQ(Dump(files->store(), view), expected) << view;
    EXPECT_EQ(Dump(mixed->store(), view), expected) << view;
  }
  // One "s" row per submitter is left (the older ones deleted), 17 "z" rows, the cursor.
  EXPECT_EQ(Dump(files->store(), "latest").size(), 4u + 17 + 1);
  // The files were moved into the database: nothing is left beside it.
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "files" / "ingest"));

  // A reopened store reads the ingested rows and cursors.
  const auto before = Dump(files->store(), "latest");
  files.reset();
  files = open("files", 9, 0);
  EXPECT_EQ(files->NextSequence("latest"), ledger_->size());
  EXPECT_EQ(Dump(files->store(), "latest"), before);
}

TEST_F(RunnerTest, ALongCatchUpLeavesItsViewsCompactedAndAShortOneAsWritten) {
  // Rows written as write batches (in the memtable) and as table files (level 0), by catch-ups
  // of fewer than settle_after_entries entries, then of more.
  auto open = [&](const std::string& name, size_t table_file_min_rows, uint64_t settle) {
    std::vector<std::unique_ptr<Projection>> projections = Projections();
    projections.push_back(std::make_unique<Latest>());
    RunnerOptions options;
    options.batch_entries = 10;
    options.table_file_min_rows = table_file_min_rows;
    options.settle_after_entries = settle;
    return *ProjectionRunner::Open(Views(name), std::move(projections), options);
  };
  auto batches = open("batches", SIZE_MAX, 100);
  auto files = open("files", 0, 100);
  auto never = open("never", 0, 0);
  // Where a view's rows are: rows in the memtable, level-0 files (each a sorted run), and the
  // other levels holding files.
  struct Runs {
    uint64_t memtable_entries = 0;
    uint64_t level0_files = 0;
    int levels = 0;
  };
  auto runs = [](ProjectionRunner& runner, std::string_view view) {
    rocksdb::DB* db = runner.store().db();
    rocksdb::ColumnFamilyHandle* family = runner.store().family(view);
    auto property = [&](const std::string& name) {
      std::string value;
      EXPECT_TRUE(db->GetProperty(family, name, &value)) << name;
      return std::stoull(value);
    };
    Runs out;
    out.memtable_entries = property("rocksdb.num-entries-active-mem-table");
    out.level0_files = property("rocksdb.num-files-at-level0");
    for (int level = 1; level < 7; ++level) {
      out.levels += property("rocksdb.num-files-at-level" + std::to_string(level)) > 0 ? 1 : 0;
    }
    return out;
  };
  for (int round = 0; round < 3; ++round) {
    Append(30, 4);
    for (ProjectionRunner* runner : {batches.get(), files.get(), never.get()}) {
      ASSERT_TRUE(runner->CatchUp(*source_).ok());
      EXPECT_FALSE(runner->settle_started());
      ASSERT_TRUE(runner->WaitUntilSettled().ok());  // none started: returns at once
    }
  }
  // As written: in the memtable; in several sorted runs.
  EXPECT_GT(runs(*batches, "latest").memtable_entries, 0u);
  const Runs written = runs(*files, "latest");
  EXPECT_GT(written.level0_files + static_cast<uint64_t>(written.levels), 1u);
  Append(150, 4);
  for (ProjectionRunner* runner : {batches.get(), files.get(), never.get()}) {
    ASSERT_TRUE(runner->CatchUp(*source_).ok());
    EXPECT_EQ(runner->settle_started(), runner != never.get());
    ASSERT_TRUE(runner->WaitUntilSettled().ok());
  }
  // Settled: one sorted run, the same rows as the views left as written.
  for (std::string_view view : {"count", "milestones", "latest"}) {
    for (ProjectionRunner* runner : {batches.get(), files.get()}) {
      const Runs settled = runs(*runner, view);
      EXPECT_EQ(settled.memtable_entries, 0u) << view;
      EXPECT_EQ(settled.level0_files, 0u) << view;
      EXPECT_EQ(settled.levels, 1) << view;
      EXPECT_EQ(Dump(runner->store(), view), Dump(never->store(), view)) << view;
    }
  }
}

// Reads, changes and deletes a few rows per entry, chosen by the entry's number from a small
// set of keys, so that rows are read in one batch, written or deleted in the next, read absent,
// and so on: its rows depend on every read answering what the view holds at that entry.
// Keeps the latest entry's row only ("t" rows), and writes then deletes a row of each entry's
// own ("g" rows): deletes of rows stored by an earlier batch, and of rows never stored.
class Churn : public Projection {
 public:
  std::string_view name() const override { return "churn"; }
  uint32_t version() const override { return 1; }
  Status Apply(const AppliedEntry& entry, ViewRows& rows) override {
    if (entry.sequence > 0) rows.Delete(Key("t").U64(entry.sequence - 1).str());
    rows.Put(Key("t").U64(entry.sequence).str(), "latest");
    rows.Put(Key("g").U64(entry.sequence).str(), "gone");
    rows.Delete(Key("g").U64(entry.sequence).str());
    return Status::Ok();
  }
};

uint64_t TombstonesInTableFiles(const ViewStore& store, std::string_view view) {
  rocksdb::TablePropertiesCollection tables;
  EXPECT_TRUE(store.db()->GetPropertiesOfAllTables(store.family(view), &tables).ok());
  uint64_t deletions = 0;
  for (const auto& [file, properties] : tables) deletions += properties->num_deletions;
  return deletions;
}

TEST_F(RunnerTest, OnlyRowsTheViewStoredLeaveATombstoneWhenDeleted) {
  auto open = [&](const std::string& name, size_t table_file_min_rows) {
    std::vector<std::unique_ptr<Projection>> projections;
    projections.push_back(std::make_unique<Churn>());
    RunnerOptions options;
    options.batch_entries = 10;
    options.table_file_min_rows = table_file_min_rows;
    options.settle_after_entries = 0;  // the table files stay as ingested
    return *ProjectionRunner::Open(Views(name), std::move(projections), options);
  };
  auto files = open("files", 0);
  auto batches = open("batches", SIZE_MAX);
  Append(50, 3);
  ASSERT_TRUE(files->CatchUp(*source_).ok());
  ASSERT_TRUE(batches->CatchUp(*source_).ok());
  // Five batches: each after the first deletes the row the one before stored last. The other
  // 45 "t" deletes and the 50 "g" ones are of rows put in the same batch, never stored.
  EXPECT_EQ(TombstonesInTableFiles(files->store(), "churn"), 4u);
  const std::map<std::string, std::string> latest = {
      {std::string(kCursorKey), Dump(files->store(), "churn").at(std::string(kCursorKey))},
      {Key("t").U64(49).str(), "latest"}};
  EXPECT_EQ(Dump(files->store(), "churn"), latest);
  EXPECT_EQ(Dump(batches->store(), "churn"), latest);

  // Reopened, a runner does not know which keys the view holds: every delete is written, and
  // the stored row is gone.
  files.reset();
  files = open("files", 0);
  Append(1, 3);
  ASSERT_TRUE(files->CatchUp(*source_).ok());
  EXPECT_EQ(TombstonesInTableFiles(files->store(), "churn"), 4u + 2);  // "t" 49, "g" 50
  EXPECT_EQ(Dump(files->store(), "churn").count(Key("t").U64(49).str()), 0u);
  EXPECT_EQ(Dump(files->store(), "churn").at(Key("t").U64(50).str()), "latest");
}

class ReadModifyWrite : public Projection {
 public:
  std::string_view name() const override { return "rmw"; }
  uint32_t version() const override { return 1; }
  Status Apply(const AppliedEntry& entry, ViewRows& rows) override {
    const uint64_t mixed = (entry.sequence + 1) * 0x9E3779B97F4A7C15ULL;
    const std::string key = Key("k").U64(mixed % 23).str();
    const std::string other = Key("k").U64((mixed >> 20) % 23).str();
    TL_ASSIGN_OR_RETURN(std::optional<std::string> value, rows.Get(key));
    TL_ASSIGN_OR_RETURN(std::optional<std::string> seen, rows.Get(other));
    if (!value.has_value()) {
      rows.Put(key, "1");
    } else if (std::stoull(*value) % 4 == 3) {
      rows.Delete(key);
    } else {
      rows.Put(key, std::to_string(std::stoull(*value) + 1 + (seen.has_value() ? 1 : 0)));
    }
    // A row only some entries write, read by others before and after.
    if (mixed % 5 == 0) rows.Put(Key("s").U64(entry.sequence).str(), seen.value_or("none"));
    // Groups of rows read by prefix scans: a group is empty for a while, gets rows, loses them
    // all (deleted), gets rows again; the count seen is kept.
    const std::string group = Key("g").Str("object-" + std::to_string((mixed >> 8) % 13)).str();
    std::vector<std::string> members;
    TL_RETURN_IF_ERROR(rows.Scan(group, [&](std::string_view member, std::string_view) {
      members.emplace_back(member);
      return true;
    }));
    if (members.size() >= 3 || (mixed >> 12) % 7 == 0) {
      for (const std::string& member : members) rows.Delete(member);
    } else if ((mixed >> 16) % 3 != 0) {
      rows.Put(group + std::to_string(entry.sequence), "member");
    }
    rows.Put(Key("n").U64(entry.sequence).str(), std::to_string(members.size()));
    return Status::Ok();
  }
};

TEST_F(RunnerTest, ReadsAcrossBatchesAnswerWhatTheViewHoldsAtEachEntry) {
  // The runner answers point reads from what the batch before wrote and read: small batches
  // (many of them), written as table files or as write batches, must leave the rows one batch
  // leaves.
  auto open = [&](const std::string& name, size_t batch_entries, size_t table_file_min_rows) {
    std::vector<std::unique_ptr<Projection>> projections;
    projections.push_back(std::make_unique<ReadModifyWrite>());
    return Open(name, std::move(projections), batch_entries, table_file_min_rows);
  };
  auto files = open("files", 4, 0);
  auto batches = open("batches", 7, SIZE_MAX);
  for (int round = 0; round < 10; ++round) {
    Append(37, 3);
    ASSERT_TRUE(files->CatchUp(*source_).ok());
    ASSERT_TRUE(batches->CatchUp(*source_).ok());
  }
  auto whole = open("whole", 100000, 0);
  ASSERT_TRUE(whole->CatchUp(*source_).ok());
  const auto expected = Dump(whole->store(), "rmw");
  EXPECT_GT(expected.size(), 23u);
  EXPECT_EQ(Dump(files->store(), "rmw"), expected);
  EXPECT_EQ(Dump(batches->store(), "rmw"), expected);
}

// CountBySubmitter that fails once, the first time it meets entry `fail_at`.
class CountFailingOnce : public CountBySubmitter {
 public:
  explicit CountFailingOnce(uint64_t fail_at) : fail_at_(fail_at) {}
  Status Apply(const AppliedEntry& entry, ViewRows& rows) override {
    if (entry.sequence == fail_at_ && !failed_) {
      failed_ = true;
      return Status::Unavailable("failing once on purpose");
    }
    return CountBySubmitter::Apply(entry, rows);
  }

 private:
  uint64_t fail_at_;
  bool failed_ = false;
};

TEST_F(RunnerTest, ABatchThatFailedHalfwayLeavesNothingForTheRetryToRead) {
  // The runner reads a view's rows of the batch written before from memory: the half-applied
  // rows of a batch that failed (never written) must not be read as if they were.
  Append(50, 2);
  std::vector<std::unique_ptr<Projection>> projections;
  projections.push_back(std::make_unique<CountFailingOnce>(25));
  // Table files, as a catch-up writes them.
  auto runner = Open("v", std::move(projections), /*batch_entries=*/10, /*table_file_min_rows=*/0);
  const Result<uint64_t> failed = runner->CatchUp(*source_);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("count at entry 25"), std::string::npos)
      << failed.status().message();
  EXPECT_EQ(runner->NextSequence("count"), 20u);  // batches [0, 10) and [10, 20) written
  ASSERT_EQ(*runner->CatchUp(*source_), 30u);
  const auto counts = Dump(runner->store(), "count");
  EXPECT_EQ(DecodeFixed64BigEndian(counts.at(Key("c").Str("party-0").str())), 25u);
  EXPECT_EQ(DecodeFixed64BigEndian(counts.at(Key("c").Str("party-1").str())), 25u);
}

TEST_F(RunnerTest, CursorsSurviveAReopenAndNothingIsAppliedTwice) {
  Append(50, 1);
  {
    auto runner = *ProjectionRunner::Open(Views("v"), Projections(), {});
    ASSERT_EQ(*runner->CatchUp(*source_), 50u);
  }
  Append(25, 1);
  auto runner = *ProjectionRunner::Open(Views("v"), Projections(), {});
  EXPECT_EQ(runner->NextSequence("count"), 50u);
  EXPECT_EQ(runner->Lag(ledger_->size()), 25u);
  ASSERT_EQ(*runner->CatchUp(*source_), 25u);
  const auto counts = Dump(runner->store(), "count");
  EXPECT_EQ(DecodeFixed64BigEndian(counts.at(Key("c").Str("party-0").str())), 75u);
  EXPECT_EQ(runner->Lag(ledger_->size()), 0u);
}

// A view a runner does not run (a tool's or a test's subset, another build's view) is left as it
// is: its rows and cursor stay for the runner that runs it. Only retired views are dropped
// (kRetiredViews, ViewStoreTest).
TEST_F(RunnerTest, AViewThisRunnerDoesNotRunIsLeftAsItIs) {
  Append(30, 3);
  std::map<std::string, std::string> milestones;
  {
    auto runner = *ProjectionRunner::Open(Views("v"), Projections(), {});
    ASSERT_EQ(*runner->CatchUp(*source_), 30u);
    milestones = Dump(runner->store(), "milestones");
    EXPECT_FALSE(milestones.empty());
  }
  Append(6, 3);
  std::vector<std::unique_ptr<Projection>> count_only;
  count_only.push_back(std::make_unique<CountBySubmitter>());
  {
    auto runner = ProjectionRunner::Open(Views("v"), std::move(count_only), {});
    ASSERT_TRUE(runner.ok()) << runner.status().ToString();
    ASSERT_EQ(*(*runner)->CatchUp(*source_), 6u);
    EXPECT_EQ((*runner)->NextSequence("count"), 36u);
    EXPECT_EQ(DecodeFixed64BigEndian(Dump((*runner)->store(), "count").at(
                  Key("c").Str("party-0").str())),
              12u);
  }
  // Run again, it goes on from its cursor, its rows as they were.
  auto runner = *ProjectionRunner::Open(Views("v"), Projections(), {});
  EXPECT_EQ(runner->NextSequence("milestones"), 30u);
  EXPECT_EQ(Dump(runner->store(), "milestones"), milestones);
  ASSERT_EQ(*runner->CatchUp(*source_), 6u);
  EXPECT_EQ(runner->NextSequence("milestones"), 36u);
}

TEST_F(RunnerTest, ProgressIsReportedAfterEachBatchIsWritten) {
  Append(25, 2);
  RunnerOptions options;
  options.batch_entries = 10;
  ProjectionRunner* runner = nullptr;
  std::vector<std::pair<uint64_t, uint64_t>> reports;
  options.progress = [&](uint64_t applied_through, uint64_t head) {
    reports.emplace_back(applied_through, head);
    // Written by then: every view is applied through what is reported.
    for (const std::string& name : runner->names()) {
      EXPECT_GE(runner->NextSequence(name), applied_through) << name;
    }
    EXPECT_EQ(runner->Lag(head), head - applied_through);
  };
  auto opened = *ProjectionRunner::Open(Views("v"), Projections(), options);
  runner = opened.get();
  ASSERT_EQ(*runner->CatchUp(*source_), 25u);
  const std::vector<std::pair<uint64_t, uint64_t>> want = {{10, 25}, {20, 25}, {25, 25}};
  EXPECT_EQ(reports, want);
  reports.clear();
  ASSERT_EQ(*runner->CatchUp(*source_), 0u);  // nothing to apply: nothing reported
  EXPECT_TRUE(reports.empty());
}

// Records what each entry looked like to the views: its event's id, or that it had none.
class Decoded : public Projection {
 public:
  std::string_view name() const override { return "decoded"; }
  uint32_t version() const override { return 1; }
  Status Apply(const AppliedEntry& entry, ViewRows& rows) override {
    const bool whole = entry.event != nullptr && entry.facts != nullptr;
    rows.Put(Key("d").U64(entry.sequence).str(), whole ? entry.event->event_id() : "none");
    return Status::Ok();
  }
};

// Reads from a ledger, failing every Scan that starts at or after `fail_from`.
class FailingSource : public EntrySource {
 public:
  FailingSource(EntrySource& source, uint64_t fail_from) : source_(source), fail_from_(fail_from) {}
  uint64_t size() override { return source_.size(); }
  Status Scan(uint64_t from, uint64_t to,
              const std::function<bool(uint64_t, std::string_view)>& visit) override {
    if (from >= fail_from_) return Status::Unavailable("disk went away");
    return source_.Scan(from, to, visit);
  }
  bool WaitForMore(uint64_t seen, std::chrono::milliseconds timeout) override {
    return source_.WaitForMore(seen, timeout);
  }

 private:
  EntrySource& source_;
  uint64_t fail_from_;
};

TEST_F(RunnerTest, EveryEntryIsDecodedWhicheverThreadDecodesIt) {
  // Batches of 1,000 are decoded 256 entries at a time by the loader and the apply threads;
  // the last batch and the last chunk of each are partial.
  for (int count : {1000, 1000, 600}) Append(count, 3);
  std::vector<std::unique_ptr<Projection>> projections;
  projections.push_back(std::make_unique<Decoded>());
  projections.push_back(std::make_unique<CountBySubmitter>());
  RunnerOptions options;
  options.batch_entries = 1000;
  options.apply_threads = 2;
  auto runner = *ProjectionRunner::Open(Views("v"), std::move(projections), options);
  ASSERT_EQ(*runner->CatchUp(*source_), 2600u);
  // A catch-up of more than a batch gives back the blocks its batches were decoded into.
  EXPECT_EQ(DecodeBlocks::kept_bytes(), 0u);
  const std::map<std::string, std::string> rows = Dump(runner->store(), "decoded");
  ASSERT_EQ(rows.size(), 2601u);  // and the cursor
  for (uint64_t sequence = 0; sequence < 2600; ++sequence) {
    const auto row = rows.find(Key("d").U64(sequence).str());
    ASSERT_NE(row, rows.end()) << sequence;
    EXPECT_EQ(row->second, "e" + std::to_string(sequence)) << sequence;
  }
}

TEST_F(RunnerTest, ABatchThatCannotBeReadStopsTheCatchUpAfterTheBatchesBefore) {
  for (int count : {1000, 1000, 600}) Append(count, 3);
  RunnerOptions options;
  options.batch_entries = 1000;
  auto runner = *ProjectionRunner::Open(Views("v"), Projections(), options);
  // The second batch is read while the first is applied: the first is written, then the
  // catch-up stops with the read's error.
  FailingSource failing(*source_, 1000);
  const Result<uint64_t> failed = runner->CatchUp(failing);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "disk went away");
  EXPECT_EQ(runner->NextSequence("count"), 1000u);
  EXPECT_EQ(runner->NextSequence("milestones"), 1000u);
  // The first batch cannot be read either: nothing is applied.
  FailingSource from_the_start(*source_, 0);
  ASSERT_FALSE(runner->CatchUp(from_the_start).ok());
  EXPECT_EQ(runner->NextSequence("count"), 1000u);
  // Readable again: the rest, as if nothing had happened.
  ASSERT_EQ(*runner->CatchUp(*source_), 1600u);
  auto fresh = Open("fresh", Projections(), 100000, 20000);
  ASSERT_EQ(*fresh->CatchUp(*source_), 2600u);
  for (const char* view : {"count", "milestones"}) {
    EXPECT_EQ(Dump(runner->store(), view), Dump(fresh->store(), view)) << view;
  }
}

TEST_F(RunnerTest, ANewVersionRebuildsTheViewAndWhatDependsOnIt) {
  Append(30, 2);
  {
    auto runner = *ProjectionRunner::Open(Views("v"), Projections(1), {});
    ASSERT_TRUE(runner->CatchUp(*source_).ok());
  }
  auto runner = *ProjectionRunner::Open(Views("v"), Projections(2), {});
  EXPECT_EQ(runner->NextSequence("count"), 0u);
  EXPECT_EQ(runner->NextSequence("milestones"), 0u);
  ASSERT_EQ(*runner->CatchUp(*source_), 30u);
  EXPECT_EQ(DecodeFixed64BigEndian(Dump(runner->store(), "count").at(Key("c").Str("party-1").str())),
            15u);
}

TEST_F(RunnerTest, AFollowerInAnotherInstanceSeesNewEntriesAfterRefresh) {
  Append(10, 1);
  auto follower = ledger::Ledger::OpenFollower(ledger::DatabasePath((dir_ / "ledger").string()),
                                               (dir_ / "follower").string(), {});
  ASSERT_TRUE(follower.ok()) << follower.status().ToString();
  auto source = LedgerEntrySource(**follower);
  EXPECT_EQ(source->size(), 10u);
  Append(5, 1);
  EXPECT_TRUE(source->WaitForMore(10, std::chrono::seconds(20)));
  EXPECT_EQ(source->size(), 15u);
  auto runner = *ProjectionRunner::Open(Views("v"), Projections(), {});
  ASSERT_EQ(*runner->CatchUp(*source), 15u);
}

TEST_F(RunnerTest, MissingOrCircularDependenciesAreRefused) {
  std::vector<std::unique_ptr<Projection>> only_dependent;
  only_dependent.push_back(std::make_unique<Milestones>());
  auto runner = ProjectionRunner::Open(Views("v"), std::move(only_dependent), {});
  EXPECT_EQ(runner.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace traceledger::projections
