// File: projections/runner.h
//
// ProjectionRunner applies ledger entries, in sequence order, to a set of projections and keeps
// each one's cursor in the same write batch as its rows. It runs in-process behind the ledger
// (the embedded default: an EntrySource over the Ledger object) or in `traceledger project`, a
// separate process following the ledger's RocksDB as a secondary instance
// (docs/ARCHITECTURE.md, "Projections"). Each entry is decoded once and its EventFacts shared.
//
// Thread-compatible: one thread calls CatchUp/Follow/Rebuild; readers use store().
#ifndef TRACELEDGER_PROJECTIONS_RUNNER_H_
#define TRACELEDGER_PROJECTIONS_RUNNER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ledger/base/status.h"
#include "ledger/ledger.h"
#include "projections/event_decoder.h"
#include "projections/projection.h"
#include "projections/view_store.h"

namespace traceledger::projections {

class TaskThread;

// Where committed entries come from. The runner calls it from one thread at a time, not always
// the same one (CatchUp reads the next batch on a thread of its own).
class EntrySource {
 public:
  virtual ~EntrySource() = default;
  // Entries [0, size()) are committed and never change.
  virtual uint64_t size() = 0;
  virtual Status Scan(uint64_t from, uint64_t to,
                      const std::function<bool(uint64_t, std::string_view)>& visit) = 0;
  // Waits (at most `timeout`) for size() to pass `seen`; followers refresh here.
  virtual bool WaitForMore(uint64_t seen, std::chrono::milliseconds timeout) = 0;
};

// A Ledger in this process (writer or follower). `ledger` must outlive the source.
std::unique_ptr<EntrySource> LedgerEntrySource(ledger::Ledger& ledger);

struct RunnerOptions {
  // At most this many entries are applied, in memory, before the views are written (fewer
  // when the runner follows the head). A catch-up or rebuild writes ~7 rows per entry: large
  // batches make large table files, which the views database merges far more cheaply than many
  // small ones (docs/BENCHMARKS.md, "Projections"). Memory: the decoded entries and their
  // rows, the next batch's entries (read and decoded while this one is applied), the batch
  // before's entries (freed meanwhile), and what the batch before wrote and read (kept for
  // this batch's reads); plus the views' key filters, 2 bytes per stored key. Memory freed
  // during a catch-up is kept for its next batches and given back when a catch-up of more
  // than a batch ends (CatchUp).
  // Why 200,000: the more entries a batch holds, the more of a row's rewrites (a holding, a
  // serial's state) stay in memory and the more reads the batch before answers; the cost is
  // the batch's fresh memory, which transparent huge pages (cmake/jemalloc_options.cc) made
  // cheap. projection_bench, 10 M events, both at once: CPU of the build 26.1 against 28.5 us
  // per entry with 100,000, rebuild 23.6 against 25.1; peak RSS 4.1 against 3.2 GB
  // (docs/BENCHMARKS.md, "session 23"; without huge pages 200,000 had been slower, "session
  // 21").
  size_t batch_entries = 200000;
  EventDecoder decoder = DefaultEventDecoder();
  // Threads applying a batch: views that share no dependency are applied side by side (each
  // group writes its rows and cursors in a write of its own); every thread also decodes a
  // share of the entries. 0: one per core, at most kMaxApplyThreads.
  size_t apply_threads = 0;
  // A write of at least this many rows (one thread's views of one batch) goes into the views
  // database as ingested table files, skipping the memtable and its log (ViewStore::Write);
  // smaller ones, as when following the head, as a write batch. 0: always table files.
  size_t table_file_min_rows = 20000;
  // After a CatchUp that applied at least this many entries to a view (a long catch-up, a
  // rebuild), the views it wrote are compacted in the background
  // (ViewStore::SettleInBackground): reads, traces above all, are faster in one sorted run
  // than in the level-0 files and memtable a catch-up leaves. 0: never.
  uint64_t settle_after_entries = 100000;
  // Called by CatchUp after each batch is written, on the thread calling CatchUp, with the
  // sequence the views are applied through (every view's next sequence is at least that) and
  // the head CatchUp goes to: a long catch-up or rebuild reports its progress without being
  // cut into calls (each CatchUp reads its first batch before applying it; later batches are
  // read while the one before is applied). Null: nothing is called.
  std::function<void(uint64_t applied_through, uint64_t head)> progress;
};

inline constexpr size_t kMaxApplyThreads = 8;

class ProjectionRunner {
 public:
  // Opens the views database in `views_dir` for `projections` (names unique). A projection
  // whose stored version differs is emptied and will be rebuilt from sequence 0.
  static Result<std::unique_ptr<ProjectionRunner>> Open(
      const std::string& views_dir, std::vector<std::unique_ptr<Projection>> projections,
      RunnerOptions options);
  ~ProjectionRunner();

  // Applies every entry committed now; returns how many entries it went through. Stops early
  // (OK) when `stop` becomes true. After more than a batch, gives the memory the process has
  // freed back to the system (jemalloc keeps it otherwise) and logs how much.
  Result<uint64_t> CatchUp(EntrySource& source, const std::atomic<bool>* stop = nullptr);
  // CatchUp, then wait for more, until `stop`.
  Status Follow(EntrySource& source, const std::atomic<bool>& stop);
  // Waits for the views' compaction after a catch-up (RunnerOptions::settle_after_entries),
  // if one is running; its first error, if any.
  Status WaitUntilSettled() { return store_->WaitUntilSettled(); }
  bool SettledWithin(std::chrono::milliseconds timeout) { return store_->SettledWithin(timeout); }
  // Whether the last CatchUp started the views' compaction (it may be done by now).
  bool settle_started() const { return settle_started_; }
  // Empties `name` and every view it depends on; the next CatchUp rebuilds them from 0.
  Status Rebuild(std::string_view name);

  // The next sequence each projection will apply.
  uint64_t NextSequence(std::string_view name) const;
  // Entries behind `head` for the slowest projection.
  uint64_t Lag(uint64_t head) const;
  std::vector<std::string> names() const;
  const ViewStore& store() const { return *store_; }

 private:
  struct Slot {
    std::unique_ptr<Projection> projection;
    uint64_t next = 0;  // next sequence to apply
    // The rows of the batch being applied; kept between batches so that its memory is reused
    // (made on first use).
    std::unique_ptr<PendingRows> pending;
    // What the batch before wrote and read (ViewReader::KnownRows), kept while `known_valid`:
    // that batch's write succeeded and the view was not reset since. `reading` is filled by
    // this batch's reads.
    std::unique_ptr<PendingRows> written;
    std::unique_ptr<PendingRows> read;
    std::unique_ptr<PendingRows> reading;
    std::unique_ptr<PendingRows> read_empty;
    std::unique_ptr<PendingRows> reading_empty;
    bool known_valid = false;
    // Every key (and first component) written to the view since the runner saw it empty, while
    // `keys_complete` (ViewReader::KnownRows::stored_keys): the view was empty when this runner
    // opened it or reset it. A view opened with rows has none and reads the database.
    std::unique_ptr<KeyFilter> stored_keys;
    std::unique_ptr<KeyFilter> stored_prefixes;
    bool keys_complete = false;
  };
  // Views connected by dependencies, applied by one thread in slot order.
  struct Group {
    std::vector<size_t> slots;  // ascending
    double seconds = 0;         // recent apply time (an average), to share work out
  };
  struct DecodedEntry;
  struct DecodedBatch;
  class BatchLoad;
  ProjectionRunner();
  // Applies the entries [from, to) loaded by a BatchLoad and writes the views. Each apply thread,
  // once done, helps decode `next` (the batch after, being loaded; null if none). `head`: the
  // end of the entries being caught up with (to size the key filters).
  Status ApplyBatch(const std::vector<DecodedEntry>& entries, uint64_t to, uint64_t head,
                    BatchLoad* next);
  size_t ApplyThreads() const;
  // The apply thread i + 1 (this one is thread 0), started on first use.
  TaskThread& Helper(size_t i);
  // CatchUp without the settle.
  Result<uint64_t> ApplyCommitted(EntrySource& source, const std::atomic<bool>* stop);
  // Applies `entries` to the groups `groups` and writes their rows and cursors (next = to).
  Status ApplyGroups(const std::vector<size_t>& groups, const std::vector<DecodedEntry>& entries,
                     uint64_t to, uint64_t head);

  RunnerOptions options_;
  std::unique_ptr<ViewStore> store_;
  std::vector<Slot> slots_;  // dependencies before dependents
  std::vector<Group> groups_;
  bool settle_started_ = false;  // by the last CatchUp
  // The runner's threads, for as long as it lives (TaskThread says why): the apply threads
  // after this one, the loader of the next batch and the freer of the last (both at nice 19).
  // Last, so that they end before the members their tasks use.
  std::vector<std::unique_ptr<TaskThread>> helpers_;
  std::unique_ptr<TaskThread> loader_;
  std::unique_ptr<TaskThread> reaper_;
};

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_RUNNER_H_
