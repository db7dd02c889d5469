// File: projections/view_store.h
//
// ViewStore: the views database (a RocksDB of its own, e.g. DIR/views, never the ledger's):
// one column family per projection, holding its rows and, under kCursorKey, its cursor.
// Dropping a view drops its column family. Thread-safe (RocksDB's guarantees).
#ifndef TRACELEDGER_PROJECTIONS_VIEW_STORE_H_
#define TRACELEDGER_PROJECTIONS_VIEW_STORE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ledger/base/status.h"
#include "projections/projection.h"
#include "tl/v1/views.pb.h"

namespace rocksdb {
class Cache;
struct Options;
}

namespace traceledger::projections {

// The cursor's key: 0x00 sorts before every row key (rows never start with 0x00).
inline constexpr std::string_view kCursorKey = std::string_view("\0cursor", 7);

class PendingRows;  // projections/internal/pending_rows.h

// One view's part of a ViewStore::Write: the rows of a batch and the cursor that goes with them.
struct ViewWrite {
  std::string_view view;
  const PendingRows* rows = nullptr;
  std::string_view cursor;  // the cursor row's value
  // If set: a superset of the keys the view holds in the database (the runner's filter of every
  // key written since it saw the view empty). A deleted row whose key it does not hold was
  // never stored, so its tombstone is not written.
  const KeyFilter* stored_keys = nullptr;
};

// Views that earlier versions kept and this one does not (the holdings, until genealogy version
// 5): their column families are dropped when the views database is opened for writing.
inline constexpr std::string_view kRetiredViews[] = {"holdings"};

class ViewStore {
 public:
  enum class Mode { kReadWrite, kReadOnly };
  // Opens (creating in kReadWrite) the views database with a column family per view. In
  // kReadWrite, views in the database that are not in `views` are dropped if retired
  // (kRetiredViews), and otherwise kept as they are, unread and unwritten (a tool, test or
  // other build that opens some of the views must not lose the others).
  static Result<std::unique_ptr<ViewStore>> Open(const std::string& dir,
                                                 const std::vector<std::string>& views,
                                                 Mode mode);
  ~ViewStore();
  ViewStore(const ViewStore&) = delete;
  ViewStore& operator=(const ViewStore&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  // Null if `view` is not in the store.
  rocksdb::ColumnFamilyHandle* family(std::string_view view) const;
  // Committed rows of `view` (no batch). Requires family(view) != null.
  ViewReader Reader(std::string_view view) const;
  Result<std::optional<v1::ProjectionCursor>> Cursor(std::string_view view) const;
  // Writes every view's rows and cursor atomically (all or none, even across a crash). As
  // table files (`as_table_files`): each view's rows are written as one SST file, in key order,
  // and the files are ingested together (IngestExternalFiles, which syncs them), skipping the
  // memtable and the write-ahead log: for large batches (a catch-up or a rebuild), where the
  // memtable inserts were the largest cost. Otherwise one write batch, not synced (a crash may
  // lose the last batches with their cursors; they are applied again from the ledger).
  // kReadWrite only.
  Status Write(const std::vector<ViewWrite>& writes, bool as_table_files);
  // Empties `view` (drops and recreates its column family). kReadWrite only.
  Status Reset(std::string_view view);
  // Compacts `views` on a thread of the store's, one after the other, each into its last
  // level (memtable included), with RocksDB's own compactions and writes going on. Views
  // already waiting are not added twice; if a settle is running, it takes the new ones too.
  // Why: a long catch-up leaves each view in many level-0 files (RocksDB merges them at 16),
  // each a sorted run that every read seeks in. A trace reads one object after another: the
  // largest forward traces of the generated chain took 56 ms of CPU so, and 45 ms once
  // compacted (docs/BENCHMARKS.md, "session 15"). kReadWrite only; a failure is logged, and
  // returned by WaitUntilSettled.
  void SettleInBackground(const std::vector<std::string>& views);
  // Waits until no settle is running; the first error of the settles since the last call.
  Status WaitUntilSettled();
  // Waits at most `timeout` for no settle to be running: false if one still is.
  bool SettledWithin(std::chrono::milliseconds timeout);
  // Every row of `view`, cursor included, in key order (for comparisons in tests and tools).
  Status ForEach(std::string_view view,
                 const std::function<bool(std::string_view, std::string_view)>& visit) const;

 private:
  ViewStore() = default;
  Status WriteBatch(const std::vector<ViewWrite>& writes);
  Status WriteTableFiles(const std::vector<ViewWrite>& writes);
  void Settle();         // the settle thread: compacts the queued views
  void StopSettling();   // cancels a running settle, waits for it, forgets the queue

  std::string ingest_dir_;  // table files being written, before they are ingested
  std::atomic<uint64_t> next_file_{0};
  std::shared_ptr<rocksdb::Cache> cache_;
  std::unique_ptr<rocksdb::Options> table_file_options_;  // kReadWrite: WriteTableFiles' files
  mutable std::mutex families_mu_;  // guards families_ against Reset
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> families_;  // owned
  std::unique_ptr<rocksdb::DB> db_;
  bool read_only_ = false;

  std::mutex settle_mu_;
  std::condition_variable settled_;     // settling_ became false
  std::vector<std::string> settle_queue_;  // guarded by settle_mu_
  bool settling_ = false;                  // guarded by settle_mu_; the thread is running
  Status settle_status_;                   // guarded by settle_mu_
  std::atomic<bool> settle_canceled_{false};  // RocksDB's CompactRangeOptions::canceled
  std::thread settle_thread_;
};

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_VIEW_STORE_H_
