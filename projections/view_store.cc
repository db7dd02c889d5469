#include "projections/view_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <utility>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <spdlog/spdlog.h>

#include "projections/internal/key_filter.h"
#include "projections/internal/pending_rows.h"
#include "projections/keys.h"

namespace traceledger::projections {
namespace {

// Under ThreadSanitizer only, the views' writes go to RocksDB one at a time. RocksDB is not
// built with it, so the hand-off by which one writer of a RocksDB write group writes the
// others' batches (atomics inside WriteThread) is invisible to it, and two runner threads
// writing at once show as races inside RocksDB. Everything of ours is still checked.
#if defined(__SANITIZE_THREAD__)
constexpr bool kOneWriteAtATime = true;
#else
constexpr bool kOneWriteAtATime = false;
#endif
std::mutex one_write_at_a_time;

std::unique_lock<std::mutex> WriteTurn() {
  if (!kOneWriteAtATime) return std::unique_lock<std::mutex>();
  return std::unique_lock<std::mutex>(one_write_at_a_time);
}

Status FromRocksDb(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string message = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(std::move(message));
  if (s.IsCorruption()) return Status::DataLoss(std::move(message));
  if (s.IsIOError() || s.IsBusy()) return Status::Unavailable(std::move(message));
  return Status::Internal(std::move(message));
}

// The prefix a view's prefix scans share: the tag byte and the first string component, up to
// and including its 0x00 (Key("o").Str(node) of "o" node time ...). Keys without one (the
// cursor, "n", numbers right after the tag) are outside the domain and have no prefix filter.
class FirstComponentPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "traceledger.FirstComponentPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), FirstComponentPrefixLength(key.ToStringView()));
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return FirstComponentPrefixLength(key.ToStringView()) > 0;
  }
};

// The smallest key after every key that starts with `prefix`; "" if there is none.
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    const auto last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

rocksdb::ColumnFamilyOptions ViewOptions(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions options;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = true;  // point reads, as well as the prefixes of scans
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.prefix_extractor = std::make_shared<FirstComponentPrefix>();
  // Most point reads while applying ask for rows that do not exist yet (a first holding, a
  // lot that is no serial): a memtable bloom filter answers them without a skiplist search.
  options.memtable_prefix_bloom_size_ratio = 0.1;
  options.memtable_whole_key_filtering = true;
  options.write_buffer_size = size_t{32} << 20;
  options.compression = rocksdb::kLZ4Compression;
  options.level_compaction_dynamic_level_bytes = true;
  // The table files a catch-up ingests overlap every earlier one (objects recur across
  // batches), so each compaction of level 0 into the base level rewrites most of the base
  // level. With RocksDB's default of 4 level-0 files per compaction, the views' compactions
  // during a 3 M-event build wrote 3.3 GB and took 58 s of CPU, a fifth of both cores; with 8
  // they wrote 1.9 GB in 34 s and the build was 8-16 % faster (docs/BENCHMARKS.md, "session
  // 9"). Since point reads and empty scans are mostly answered from what the batch before wrote
  // and read (ViewReader::KnownRows), more level-0 files cost reads less: with 16, a 10 M-event
  // build's compactions write 6.8 GB in 114 s of CPU instead of 11.1 GB in 195 s, and the
  // build is 14 % faster ("session 10"). Reads look at up to about 16 level-0 files' filters.
  // Ingestion slows down and stops (RocksDB's write stall) at twice and three times that, as
  // RocksDB's defaults (20, 36) did for 4.
  options.level0_file_num_compaction_trigger = 16;
  options.level0_slowdown_writes_trigger = 32;
  options.level0_stop_writes_trigger = 48;
  return options;
}

rocksdb::DBOptions ViewDbOptions(bool read_only) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = !read_only;
  db_options.create_missing_column_families = !read_only;
  db_options.max_background_jobs = 2;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 3;
  return db_options;
}

// Serializes `message`, whose ByteSizeLong() was `size`, deterministically into `out` (`size`
// bytes). Why not through a StringOutputStream: growing the string as it went, and the
// stream's many small buffers, took half of serializing a view row (docs/BENCHMARKS.md,
// "session 16").
void SerializeDeterministically(const google::protobuf::Message& message, size_t size,
                                char* out) {
  google::protobuf::io::ArrayOutputStream array(out, static_cast<int>(size));
  google::protobuf::io::CodedOutputStream coded(&array);
  coded.SetSerializationDeterministic(true);
  message.SerializeWithCachedSizes(&coded);
  TL_ASSERT(!coded.HadError() && static_cast<size_t>(coded.ByteCount()) == size);
}

}  // namespace

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes(message.ByteSizeLong(), '\0');
  SerializeDeterministically(message, bytes.size(), bytes.data());
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// ViewReader / ViewRows

Result<std::optional<std::string>> ViewReader::Get(std::string_view key) const {
  std::string storage;
  TL_ASSIGN_OR_RETURN(std::optional<std::string_view> value, Find(key, &storage));
  if (!value.has_value()) return std::optional<std::string>();
  if (value->data() == storage.data()) return std::optional<std::string>(std::move(storage));
  return std::optional<std::string>(*value);
}

Result<bool> ViewReader::Contains(std::string_view key) const {
  std::string storage;
  TL_ASSIGN_OR_RETURN(std::optional<std::string_view> value, Find(key, &storage));
  return value.has_value();
}

Result<std::optional<std::string_view>> ViewReader::Find(std::string_view key,
                                                          std::string* storage) const {
  auto value_of = [](const PendingRows::Row& row) {
    return row.has_value() ? std::optional<std::string_view>(row.value())
                           : std::optional<std::string_view>();
  };
  // Only the runner's readers have rows of their own to look in; the others (queries) read the
  // database alone and need no hash. Every use of `hash` below is behind one of these.
  const bool has_rows = pending_ != nullptr || known_.reading != nullptr ||
                        known_.written != nullptr || known_.read != nullptr ||
                        known_.stored_keys != nullptr;
  const uint64_t hash = has_rows ? PendingRows::HashKey(key) : 0;
  // The tables are far larger than the cache, so each look is a miss: the ones made together
  // are asked for together, so that their misses overlap instead of following each other.
  // First this batch's rows and the key filter (a key not written in this batch needs both).
  if (pending_ != nullptr) pending_->Prefetch(hash);
  if (known_.stored_keys != nullptr) known_.stored_keys->Prefetch(hash);
  if (pending_ != nullptr) {
    if (const PendingRows::Row* row = pending_->Find(key, hash)) return value_of(*row);
  }
  // Never written since the view was empty: neither stored nor among the batch before's rows.
  // Looked at before `reading`, which holds only keys that pass it: most keys read and not
  // written in this batch were never stored (an object that is no container, a first holding),
  // and each table looked in is a cache miss.
  if (known_.stored_keys != nullptr && !known_.stored_keys->MayContain(hash)) {
    return std::optional<std::string_view>();
  }
  // Then the tables of rows read or written before, which a key that may be stored needs.
  if (known_.reading != nullptr) known_.reading->Prefetch(hash);
  if (known_.written != nullptr) known_.written->Prefetch(hash);
  if (known_.read != nullptr) known_.read->Prefetch(hash);
  if (known_.reading != nullptr) {
    // Read already in this batch (the database does not change until the batch is written).
    if (const PendingRows::Row* row = known_.reading->Find(key, hash)) return value_of(*row);
  }
  // The batch before's rows, then what it read: what the database holds for those keys now.
  const PendingRows::Row* known = nullptr;
  if (known_.written != nullptr) known = known_.written->Find(key, hash);
  if (known == nullptr && known_.read != nullptr) known = known_.read->Find(key, hash);
  if (known_.reading == nullptr) {
    if (known != nullptr) return value_of(*known);
    const rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), family_, rocksdb::Slice(key.data(), key.size()), storage);
    if (s.IsNotFound()) return std::optional<std::string_view>();
    TL_RETURN_IF_ERROR(FromRocksDb(s, "reading a view row"));
    return std::optional<std::string_view>(*storage);
  }
  // Whatever is found there or in the database is kept for the next batch, in `reading`, and
  // read from there.
  std::optional<std::string_view> value;
  rocksdb::PinnableSlice stored;
  if (known != nullptr) {
    value = value_of(*known);
  } else {
    const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), family_,
                                       rocksdb::Slice(key.data(), key.size()), &stored);
    if (!s.IsNotFound()) {
      TL_RETURN_IF_ERROR(FromRocksDb(s, "reading a view row"));
      value = stored.ToStringView();
    }
  }
  if (!value.has_value()) {
    known_.reading->Delete(key);
    return value;
  }
  char* space = known_.reading->PutUnwritten(key, value->size());
  if (!value->empty()) std::memcpy(space, value->data(), value->size());
  return std::optional<std::string_view>(std::string_view(space, value->size()));
}

namespace {

// What a MergedScan met: whether the database had a row under the prefix, and whether the scan
// went to the end of the prefix (the visitor did not stop it).
struct ScanOutcome {
  bool stored_row = false;
  bool to_the_end = false;
};

// Visits the rows under `prefix` of `it` (already positioned by Seek(prefix); null: the
// database has none) merged with the batch's `pending` rows (which replace or delete them), in
// key order.
Status MergedScan(rocksdb::Iterator* it, const PendingRows* pending, std::string_view prefix,
                  const std::function<bool(std::string_view, std::string_view)>& visit,
                  ScanOutcome* outcome = nullptr) {
  ScanOutcome met;
  std::vector<const PendingRows::Row*> rows;
  if (pending != nullptr) pending->Under(prefix, &rows);
  auto row = rows.begin();
  for (;;) {
    std::string_view stored;
    const bool has_stored = it != nullptr && it->Valid() &&
                            (stored = it->key().ToStringView()).substr(0, prefix.size()) == prefix;
    met.stored_row = met.stored_row || has_stored;
    const bool has_pending = row != rows.end();
    if (!has_stored && !has_pending) {
      met.to_the_end = true;
      break;
    }
    const int order = !has_pending ? -1 : !has_stored ? 1 : stored.compare((*row)->key());
    if (order < 0) {
      if (!visit(stored, it->value().ToStringView())) break;
      it->Next();
      continue;
    }
    if (order == 0) it->Next();  // replaced or deleted in this batch
    const PendingRows::Row& pending_row = **row;
    ++row;
    if (pending_row.has_value() && !visit(pending_row.key(), pending_row.value())) break;
  }
  if (outcome != nullptr) *outcome = met;
  return it == nullptr ? Status::Ok() : FromRocksDb(it->status(), "scanning a view");
}

// True if `rows` holds a row with a value under `prefix`.
bool HasRowUnder(const PendingRows& rows, std::string_view prefix) {
  std::vector<const PendingRows::Row*> under;
  rows.Under(prefix, &under);
  return std::any_of(under.begin(), under.end(),
                     [](const PendingRows::Row* row) { return row->has_value(); });
}

}  // namespace

struct ViewReader::BatchScan {
  std::unique_ptr<rocksdb::Iterator> iterator;  // prefix mode; made on first use
  bool busy = false;                            // a scan through it is under way
};

void ViewReader::ReuseIteratorInBatch() { batch_scan_ = std::make_shared<BatchScan>(); }

Status ViewReader::Scan(std::string_view prefix,
                        const std::function<bool(std::string_view, std::string_view)>& visit) const {
  // Within a batch (and not nested in another scan of the same reader), through the batch's
  // iterator, as ViewScanner does.
  if (batch_scan_ != nullptr && !batch_scan_->busy &&
      FirstComponentPrefixLength(prefix) > 0) {
    if (batch_scan_->iterator == nullptr) {
      rocksdb::ReadOptions read_options;
      read_options.total_order_seek = false;
      read_options.prefix_same_as_start = true;
      batch_scan_->iterator.reset(db_->NewIterator(read_options, family_));
    }
    // Whether the database has no row under the prefix is known if this batch, or the batch
    // before, scanned it and found none (and the batch before wrote none under it since): most
    // scans while applying ask for the contents of an object that is no container, and a
    // database seek looks at every level-0 file's filter.
    bool stored_none =
        known_.stored_prefixes != nullptr &&
        !known_.stored_prefixes->MayContain(
            PendingRows::HashKey(prefix.substr(0, FirstComponentPrefixLength(prefix))));
    stored_none = stored_none || (known_.reading_empty != nullptr &&
                                  known_.reading_empty->Find(prefix) != nullptr);
    if (!stored_none && known_.read_empty != nullptr &&
        known_.read_empty->Find(prefix) != nullptr &&
        (known_.written == nullptr || !HasRowUnder(*known_.written, prefix))) {
      stored_none = true;
      if (known_.reading_empty != nullptr) known_.reading_empty->Put(prefix, "");
    }
    if (stored_none) return MergedScan(nullptr, pending_, prefix, visit);
    batch_scan_->busy = true;
    batch_scan_->iterator->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
    ScanOutcome outcome;
    const Status s = MergedScan(batch_scan_->iterator.get(), pending_, prefix, visit, &outcome);
    batch_scan_->busy = false;
    if (s.ok() && outcome.to_the_end && !outcome.stored_row && known_.reading_empty != nullptr) {
      known_.reading_empty->Put(prefix, "");
    }
    return s;
  }
  // Why the upper bound: deleted rows (tombstones) right after the prefix would otherwise be
  // stepped over one by one until the next live row, anywhere in the view.
  const std::string end = PrefixEnd(prefix);
  const rocksdb::Slice upper(end);
  rocksdb::ReadOptions read_options;
  if (!end.empty()) read_options.iterate_upper_bound = &upper;
  // Keys under a prefix with a whole first component share its filter prefix; others (a
  // shorter prefix, e.g. every row of a tag) need the total order.
  read_options.total_order_seek = FirstComponentPrefixLength(prefix) == 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, family_));
  it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
  return MergedScan(it.get(), pending_, prefix, visit);
}

ViewScanner::ViewScanner(const ViewReader& reader, Siblings siblings) : reader_(reader) {
  // A snapshot only where a sibling may need one: the database alone, which a writer may change
  // between the siblings' first seeks.
  if (siblings == Siblings::kNone || reader.pending_ != nullptr) return;
  rocksdb::DB* db = reader.db_;
  const rocksdb::Snapshot* snapshot = db->GetSnapshot();
  if (snapshot == nullptr) return;
  snapshot_ = Snapshot(snapshot, [db](const rocksdb::Snapshot* s) { db->ReleaseSnapshot(s); });
}

ViewScanner::ViewScanner(const ViewReader& reader, Snapshot snapshot)
    : reader_(reader), snapshot_(std::move(snapshot)) {}

ViewScanner::~ViewScanner() = default;

std::unique_ptr<ViewScanner> ViewScanner::Sibling() const {
  if (snapshot_ == nullptr) return nullptr;
  return std::unique_ptr<ViewScanner>(new ViewScanner(reader_, snapshot_));
}

Status ViewScanner::Scan(std::string_view prefix,
                         const std::function<bool(std::string_view, std::string_view)>& visit) {
  if (FirstComponentPrefixLength(prefix) == 0) return reader_.Scan(prefix, visit);
  if (iterator_ == nullptr) {
    // Prefix mode, stopping at the first key of another prefix (so, like the upper bound of
    // ViewReader::Scan, never stepping over other rows' tombstones); reusable across seeks,
    // unlike an upper bound.
    rocksdb::ReadOptions read_options;
    read_options.total_order_seek = false;
    read_options.prefix_same_as_start = true;
    read_options.snapshot = snapshot_.get();
    iterator_.reset(reader_.db_->NewIterator(read_options, reader_.family_));
  }
  iterator_->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
  return MergedScan(iterator_.get(), reader_.pending_, prefix, visit);
}

PendingRows& ViewRows::RowsToPut(std::string_view key) {
  TL_ASSERT(!key.empty());
  TL_ASSERT(key[0] != '\0');  // 0x00 keys are the cursor's
  TL_ASSERT(pending_ != nullptr);
  return *pending_;
}

void ViewRows::Put(std::string_view key, std::string_view value) {
  RowsToPut(key).Put(key, value);
}

void ViewRows::PutMessage(std::string_view key, const google::protobuf::Message& message) {
  const size_t size = message.ByteSizeLong();
  SerializeDeterministically(message, size, RowsToPut(key).PutUnwritten(key, size));
}

void ViewRows::Delete(std::string_view key) {
  TL_ASSERT(pending_ != nullptr);
  pending_->Delete(key);
}

const ViewReader& ViewRows::Dependency(std::string_view name) const {
  for (const auto& [dependency, reader] : dependencies_) {
    if (dependency == name) return reader;
  }
  TL_ASSERT(false && "a projection read a view it did not declare in dependencies()");
  return *this;
}

// ---------------------------------------------------------------------------------------------
// ViewStore

Result<std::unique_ptr<ViewStore>> ViewStore::Open(const std::string& dir,
                                                   const std::vector<std::string>& views,
                                                   Mode mode) {
  std::unique_ptr<ViewStore> store(new ViewStore());
  store->read_only_ = mode == Mode::kReadOnly;
  store->cache_ = rocksdb::NewLRUCache(size_t{128} << 20);
  const rocksdb::DBOptions db_options = ViewDbOptions(store->read_only_);
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName};
  std::vector<std::string> retired;
  if (store->read_only_) {
    std::vector<std::string> existing;
    TL_RETURN_IF_ERROR(FromRocksDb(rocksdb::DB::ListColumnFamilies(db_options, dir, &existing),
                                   "listing views in " + dir));
    for (const std::string& view : views) {
      if (std::find(existing.begin(), existing.end(), view) != existing.end()) names.push_back(view);
    }
  } else {
    // Table files a crash left before they were ingested are not part of any view.
    store->ingest_dir_ = (std::filesystem::path(dir) / "ingest").string();
    std::error_code ec;
    std::filesystem::remove_all(store->ingest_dir_, ec);
    std::filesystem::create_directories(store->ingest_dir_, ec);
    if (ec) return Status::Unavailable("creating " + store->ingest_dir_ + ": " + ec.message());
    names.insert(names.end(), views.begin(), views.end());
    // RocksDB opens a database for writing only with every column family it has. Of those not
    // asked for, a retired view's is dropped once the database is open; the others are opened
    // and left alone. A new database has none to list.
    std::vector<std::string> existing;
    if (rocksdb::DB::ListColumnFamilies(db_options, dir, &existing).ok()) {
      std::vector<std::string> others;
      for (const std::string& name : existing) {
        if (std::find(names.begin(), names.end(), name) != names.end()) continue;
        const bool is_retired = std::find(std::begin(kRetiredViews), std::end(kRetiredViews),
                                          name) != std::end(kRetiredViews);
        (is_retired ? retired : others).push_back(name);
      }
      names.insert(names.end(), retired.begin(), retired.end());
      names.insert(names.end(), others.begin(), others.end());
    }
    store->table_file_options_ = std::make_unique<rocksdb::Options>(
        ViewDbOptions(false), ViewOptions(store->cache_));
    // The table files a catch-up ingests are not compressed: they land in level 0 and are read
    // by the batches after them, then merged by a compaction, which compresses its output as
    // the view's options say. Compressing them was ~4 % of the CPU of applying a batch (11 %
    // of its instructions), and each block read from them before their compaction was
    // decompressed again (docs/BENCHMARKS.md, "session 18").
    store->table_file_options_->compression = rocksdb::kNoCompression;
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, ViewOptions(store->cache_));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s =
      store->read_only_
          ? rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors, &handles, &raw)
          : rocksdb::DB::Open(db_options, dir, descriptors, &handles, &raw);
  TL_RETURN_IF_ERROR(FromRocksDb(s, "opening the views database " + dir));
  store->db_.reset(raw);
  for (size_t i = 0; i < handles.size(); ++i) store->families_[names[i]] = handles[i];
  for (const std::string& name : retired) {
    rocksdb::ColumnFamilyHandle* handle = store->families_[name];
    store->families_.erase(name);
    const rocksdb::Status dropped = store->db_->DropColumnFamily(handle);
    // Why: the handle is freed whether or not the drop worked; the drop's error is returned.
    store->db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    TL_RETURN_IF_ERROR(FromRocksDb(dropped, "dropping the retired view " + name));
  }
  if (!store->read_only_) {
    // Compactions run at the lowest CPU priority (nice 19), below the threads applying entries
    // and answering queries: they are work that can wait (up to the level-0 write stall above),
    // and on 2 cores they took a core's share from whichever thread applies the slowest views.
    // 3 M events: build +12 % (docs/BENCHMARKS.md, "session 11"). RocksDB's low-priority pool
    // is shared by every database in the process, so this applies to the ledger's compactions
    // too: they also give way to appends and queries, up to the ledger's own write stall.
    const rocksdb::Status lowered = db_options.env->LowerThreadPoolCPUPriority(
        rocksdb::Env::Priority::LOW, rocksdb::CpuPriority::kLow);
    // Why ignored: an Env without the feature runs compactions at normal priority, as before.
    lowered.PermitUncheckedError();
  }
  return store;
}

ViewStore::~ViewStore() {
  if (db_ == nullptr) return;
  StopSettling();
  for (auto& [name, handle] : families_) {
    // Why: freeing handles at shutdown cannot lose anything.
    db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();  // Why: views are rebuilt from the ledger if needed.
}

rocksdb::ColumnFamilyHandle* ViewStore::family(std::string_view view) const {
  std::lock_guard<std::mutex> lock(families_mu_);
  auto it = families_.find(view);
  return it == families_.end() ? nullptr : it->second;
}

ViewReader ViewStore::Reader(std::string_view view) const {
  rocksdb::ColumnFamilyHandle* handle = family(view);
  TL_ASSERT(handle != nullptr);
  return ViewReader(db_.get(), handle, nullptr);
}

Result<std::optional<v1::ProjectionCursor>> ViewStore::Cursor(std::string_view view) const {
  if (family(view) == nullptr) return std::optional<v1::ProjectionCursor>();
  return Reader(view).GetMessage<v1::ProjectionCursor>(kCursorKey);
}

Status ViewStore::Write(const std::vector<ViewWrite>& writes, bool as_table_files) {
  if (read_only_) return Status::FailedPrecondition("views database is open read-only");
  if (writes.empty()) return Status::Ok();
  return as_table_files ? WriteTableFiles(writes) : WriteBatch(writes);
}

namespace {

// A row deleted in the batch whose key the view never stored: there is nothing to delete, and
// its tombstone would only be carried from file to file until a compaction reached the last
// level (a holding that appears and goes within one batch, a container packed and unpacked).
bool NeverStored(const ViewWrite& write, const PendingRows::Row& row) {
  return !row.has_value() && write.stored_keys != nullptr &&
         !write.stored_keys->MayContain(row.key_hash());
}

}  // namespace

Status ViewStore::WriteBatch(const std::vector<ViewWrite>& writes) {
  rocksdb::WriteBatch batch;
  for (const ViewWrite& write : writes) {
    rocksdb::ColumnFamilyHandle* handle = family(write.view);
    if (handle == nullptr) return Status::NotFound("no view " + std::string(write.view));
    rocksdb::Status s;
    write.rows->ForEachInOrder([&](const PendingRows::Row& row) {
      if (NeverStored(write, row)) return;
      const rocksdb::Slice key(row.key().data(), row.key().size());
      const rocksdb::Slice value(row.value().data(), row.value().size());
      if (s.ok()) s = row.has_value() ? batch.Put(handle, key, value) : batch.Delete(handle, key);
    });
    TL_RETURN_IF_ERROR(FromRocksDb(s, "batching view rows"));
    TL_RETURN_IF_ERROR(FromRocksDb(
        batch.Put(handle, rocksdb::Slice(kCursorKey.data(), kCursorKey.size()), write.cursor),
        "batching a view cursor"));
  }
  // Why no fsync: see Write.
  const std::unique_lock<std::mutex> turn = WriteTurn();
  return FromRocksDb(db_->Write(rocksdb::WriteOptions(), &batch), "writing views");
}

Status ViewStore::WriteTableFiles(const std::vector<ViewWrite>& writes) {
  std::vector<rocksdb::IngestExternalFileArg> args;
  std::vector<std::string> paths;
  // Files not ingested (an error on the way) are removed; ingested ones were moved.
  struct RemoveLeftovers {
    std::vector<std::string>& paths;
    ~RemoveLeftovers() {
      std::error_code ec;
      for (const std::string& path : paths) std::filesystem::remove(path, ec);
    }
  } remove_leftovers{paths};
  for (const ViewWrite& write : writes) {
    rocksdb::ColumnFamilyHandle* handle = family(write.view);
    if (handle == nullptr) return Status::NotFound("no view " + std::string(write.view));
    paths.push_back(ingest_dir_ + "/" + std::to_string(next_file_.fetch_add(1)) + ".sst");
    // The file stays in the page cache: it is read right after it is ingested (the next batches'
    // reads, its first compaction). RocksDB's default drops each written megabyte from it, and
    // every such read went to the disk: 2 M events, build +7-12 %, rebuild +7-17 %, CPU of the
    // bench -4-10 % (docs/BENCHMARKS.md, "session 13").
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), *table_file_options_, handle,
                                  /*invalidate_page_cache=*/false);
    TL_RETURN_IF_ERROR(FromRocksDb(writer.Open(paths.back()), "creating " + paths.back()));
    // The cursor first: 0x00 sorts before every row key.
    TL_RETURN_IF_ERROR(FromRocksDb(
        writer.Put(rocksdb::Slice(kCursorKey.data(), kCursorKey.size()), write.cursor),
        "writing a view cursor"));
    rocksdb::Status s;
    write.rows->ForEachInOrder([&](const PendingRows::Row& row) {
      if (NeverStored(write, row)) return;
      const rocksdb::Slice key(row.key().data(), row.key().size());
      const rocksdb::Slice value(row.value().data(), row.value().size());
      if (s.ok()) s = row.has_value() ? writer.Put(key, value) : writer.Delete(key);
    });
    TL_RETURN_IF_ERROR(FromRocksDb(s, "writing view rows to " + paths.back()));
    TL_RETURN_IF_ERROR(FromRocksDb(writer.Finish(), "finishing " + paths.back()));
    rocksdb::IngestExternalFileArg& arg = args.emplace_back();
    arg.column_family = handle;
    arg.external_files = {paths.back()};
    arg.options.move_files = true;
    // A row or cursor of the view still in the memtable is flushed first, so the file's rows,
    // which are newer, win.
    arg.options.allow_blocking_flush = true;
  }
  const std::unique_lock<std::mutex> turn = WriteTurn();
  TL_RETURN_IF_ERROR(FromRocksDb(db_->IngestExternalFiles(args), "ingesting view rows"));
  return Status::Ok();
}

void ViewStore::SettleInBackground(const std::vector<std::string>& views) {
  if (read_only_) return;
  std::lock_guard<std::mutex> lock(settle_mu_);
  for (const std::string& view : views) {
    if (std::find(settle_queue_.begin(), settle_queue_.end(), view) == settle_queue_.end()) {
      settle_queue_.push_back(view);
    }
  }
  if (settling_ || settle_queue_.empty()) return;  // the running thread takes them
  if (settle_thread_.joinable()) settle_thread_.join();  // done: it cleared settling_
  settling_ = true;
  settle_thread_ = std::thread([this] { Settle(); });
}

void ViewStore::Settle() {
  for (;;) {
    std::string view;
    {
      std::lock_guard<std::mutex> lock(settle_mu_);
      if (settle_queue_.empty() || settle_canceled_.load()) {
        settle_queue_.clear();
        settling_ = false;
        settled_.notify_all();
        return;
      }
      view = std::move(settle_queue_.front());
      settle_queue_.erase(settle_queue_.begin());
    }
    // Why no lock held: Reset, the one writer of the handles, stops this thread first.
    rocksdb::ColumnFamilyHandle* handle = family(view);
    if (handle == nullptr) continue;
    const auto start = std::chrono::steady_clock::now();
    rocksdb::CompactRangeOptions options;
    options.exclusive_manual_compaction = false;  // writes and RocksDB's compactions go on
    options.canceled = &settle_canceled_;
    const rocksdb::Status s = db_->CompactRange(options, handle, nullptr, nullptr);
    if (settle_canceled_.load()) continue;  // stopped (the status says so): not an error
    if (!s.ok()) {
      spdlog::warn("views: compacting {} after a catch-up failed: {}", view, s.ToString());
      std::lock_guard<std::mutex> lock(settle_mu_);
      if (settle_status_.ok()) settle_status_ = FromRocksDb(s, "compacting view " + view);
      continue;
    }
    spdlog::debug("views: {} compacted after a catch-up in {:.1f} s", view,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                      .count());
  }
}

Status ViewStore::WaitUntilSettled() {
  std::unique_lock<std::mutex> lock(settle_mu_);
  settled_.wait(lock, [&] { return !settling_; });
  return std::exchange(settle_status_, Status::Ok());
}

bool ViewStore::SettledWithin(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(settle_mu_);
  return settled_.wait_for(lock, timeout, [&] { return !settling_; });
}

void ViewStore::StopSettling() {
  settle_canceled_.store(true);
  if (settle_thread_.joinable()) settle_thread_.join();
  std::lock_guard<std::mutex> lock(settle_mu_);
  settle_queue_.clear();
  settle_canceled_.store(false);
}

Status ViewStore::Reset(std::string_view view) {
  if (read_only_) return Status::FailedPrecondition("views database is open read-only");
  // The settle thread uses the handles without a lock; the views it had left are compacted
  // after the catch-up that rebuilds this one.
  StopSettling();
  std::lock_guard<std::mutex> lock(families_mu_);
  auto it = families_.find(view);
  if (it == families_.end()) return Status::NotFound("no view " + std::string(view));
  TL_RETURN_IF_ERROR(FromRocksDb(db_->DropColumnFamily(it->second), "dropping view"));
  TL_RETURN_IF_ERROR(FromRocksDb(db_->DestroyColumnFamilyHandle(it->second), "dropping view"));
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  TL_RETURN_IF_ERROR(FromRocksDb(
      db_->CreateColumnFamily(ViewOptions(cache_), std::string(view), &handle), "recreating view"));
  it->second = handle;
  return Status::Ok();
}

Status ViewStore::ForEach(std::string_view view,
                          const std::function<bool(std::string_view, std::string_view)>& visit) const {
  rocksdb::ColumnFamilyHandle* handle = family(view);
  if (handle == nullptr) return Status::NotFound("no view " + std::string(view));
  rocksdb::ReadOptions read_options;
  read_options.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, handle));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!visit(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  return FromRocksDb(it->status(), "reading a view");
}

}  // namespace traceledger::projections
