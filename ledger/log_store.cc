#include "ledger/log_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <filesystem>

#include "ledger/base/encoding.h"
#include "ledger/sha256.h"

namespace traceledger::ledger {
namespace {

constexpr std::array<std::string_view, kFamilyCount> kFamilyNames = {
    "default", "entries", "event_ids", "tiles", "checkpoints", "sources", "rejections"};
constexpr std::string_view kMetadataKey = "metadata";

// The single translation point from rocksdb::Status (STYLE.md section 4).
Status FromRocksDb(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string message = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(std::move(message));
  if (s.IsCorruption()) return Status::DataLoss(std::move(message));
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return Status::Unavailable(std::move(message));
  }
  if (s.IsIOError()) {
    // A LOCK held by another process shows up as an IOError mentioning the lock file.
    if (s.ToString().find("lock") != std::string::npos) {
      return Status::Unavailable(std::move(message) + " (is another process using this ledger?)");
    }
    return Status::Unavailable(std::move(message));
  }
  if (s.IsInvalidArgument()) return Status::FailedPrecondition(std::move(message));
  if (s.IsNoSpace()) return Status::ResourceExhausted(std::move(message));
  return Status::Internal(std::move(message));
}

std::string FixedKey(uint64_t v) {
  std::string key;
  key.reserve(8);
  PutFixed64BigEndian(&key, v);
  return key;
}

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }

rocksdb::ColumnFamilyOptions FamilyOptions(Family family,
                                           const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions options;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  switch (family) {
    case Family::kEntries:
      // Sequential keys: large memtables and LZ4 (events are JSON or protobuf text-ish).
      options.write_buffer_size = size_t{64} << 20;
      options.compression = rocksdb::kLZ4Compression;
      table.block_size = 32 << 10;
      break;
    case Family::kEventIds:
      // Random keys probed on every append: bloom filters make most misses free.
      options.write_buffer_size = size_t{4} << 20;
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      table.whole_key_filtering = true;
      // Filters and indexes stay in the table readers (about 1.3 bytes per event id): every
      // append probes them, so they must never wait on the block cache.
      table.cache_index_and_filter_blocks = false;
      // And a bloom filter over the memtable, so a new id's lookup skips the skiplist search.
      options.memtable_whole_key_filtering = true;
      options.memtable_prefix_bloom_size_ratio = 0.1;
      options.compression = rocksdb::kNoCompression;
      options.compaction_style = rocksdb::kCompactionStyleUniversal;
      break;
    case Family::kTiles:
      // 16 KiB values of random-looking hashes: compression would only cost time.
      options.write_buffer_size = size_t{32} << 20;
      options.compression = rocksdb::kNoCompression;
      table.block_size = 32 << 10;
      break;
    case Family::kRejections:
      options.write_buffer_size = size_t{8} << 20;
      options.compression = rocksdb::kLZ4Compression;
      break;
    default:
      options.write_buffer_size = size_t{4} << 20;
      break;
  }
  options.level_compaction_dynamic_level_bytes = true;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

}  // namespace

std::string_view FamilyName(Family family) { return kFamilyNames[static_cast<int>(family)]; }

std::string EntryKey(uint64_t sequence) { return FixedKey(sequence); }

std::string EventIdKey(std::string_view event_id) {
  const Sha256Digest digest = Sha256(event_id);
  return std::string(reinterpret_cast<const char*>(digest.data()), kEventIdKeyBytes);
}
std::string CheckpointKey(uint64_t tree_size) { return FixedKey(tree_size); }

std::string TileKey(merkle::TileId id) {
  std::string key;
  key.reserve(9);
  key.push_back(static_cast<char>(id.level));
  PutFixed64BigEndian(&key, id.index);
  return key;
}

Result<merkle::TileId> DecodeTileKey(std::string_view key) {
  if (key.size() != 9) {
    return Status::DataLoss("tile key has " + std::to_string(key.size()) + " bytes, want 9");
  }
  merkle::TileId id;
  id.level = static_cast<uint8_t>(key[0]);
  id.index = DecodeFixed64BigEndian(key.substr(1));
  return id;
}

Result<uint64_t> DecodeSequenceKey(std::string_view key) {
  if (key.size() != 8) {
    return Status::DataLoss("key has " + std::to_string(key.size()) + " bytes, want 8");
  }
  return DecodeFixed64BigEndian(key);
}

// ---------------------------------------------------------------------------------------------
// Batch

LogStore::Batch::Batch() : batch_(std::make_unique<rocksdb::WriteBatch>()) {}
LogStore::Batch::~Batch() = default;
LogStore::Batch::Batch(Batch&&) noexcept = default;
LogStore::Batch& LogStore::Batch::operator=(Batch&&) noexcept = default;

void LogStore::Batch::PutMetadata(std::string_view bytes) {
  TL_ASSERT(batch_->Put(store_->handle(Family::kDefault), ToSlice(kMetadataKey), ToSlice(bytes)).ok());
}
void LogStore::Batch::PutEntry(uint64_t sequence, std::string_view entry_bytes) {
  TL_ASSERT(batch_->Put(store_->handle(Family::kEntries), EntryKey(sequence), ToSlice(entry_bytes)).ok());
}
void LogStore::Batch::PutEventId(std::string_view key, uint64_t sequence) {
  TL_ASSERT(key.size() == kEventIdKeyBytes);
  TL_ASSERT(batch_->Put(store_->handle(Family::kEventIds), ToSlice(key), FixedKey(sequence)).ok());
}
void LogStore::Batch::PutTile(merkle::TileId id, std::string_view tile_bytes) {
  TL_ASSERT(batch_->Put(store_->handle(Family::kTiles), TileKey(id), ToSlice(tile_bytes)).ok());
}
void LogStore::Batch::PutCheckpoint(uint64_t tree_size, std::string_view note) {
  TL_ASSERT(batch_->Put(store_->handle(Family::kCheckpoints), CheckpointKey(tree_size), ToSlice(note)).ok());
}
void LogStore::Batch::PutSourcePosition(std::string_view stream, int64_t next_offset) {
  TL_ASSERT(batch_->Put(store_->handle(Family::kSources), ToSlice(stream),
                        FixedKey(static_cast<uint64_t>(next_offset))).ok());
}
void LogStore::Batch::PutRejection(uint64_t sequence, std::string_view rejection_bytes) {
  TL_ASSERT(batch_->Put(store_->handle(Family::kRejections), FixedKey(sequence),
                        ToSlice(rejection_bytes)).ok());
}
size_t LogStore::Batch::ByteSize() const { return batch_->GetDataSize(); }
size_t LogStore::Batch::Count() const { return batch_->Count(); }

// ---------------------------------------------------------------------------------------------
// LogStore

Result<std::unique_ptr<LogStore>> LogStore::Open(const std::string& db_dir, OpenMode mode,
                                                 const StoreOptions& options) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(std::filesystem::path(db_dir) / "CURRENT", ec);
  if (mode == OpenMode::kCreate && exists) {
    return Status::AlreadyExists("a ledger database already exists in " + db_dir);
  }
  if (mode != OpenMode::kCreate && !exists) {
    return Status::NotFound("no ledger database in " + db_dir);
  }
  if (mode == OpenMode::kFollower && options.follower_dir.empty()) {
    return Status::InvalidArgument("a follower needs a directory of its own (follower_dir)");
  }
  std::unique_ptr<LogStore> store(new LogStore());
  store->read_only_ = mode == OpenMode::kReadOnly || mode == OpenMode::kFollower;
  store->block_cache_ = rocksdb::NewLRUCache(options.block_cache_bytes);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = mode == OpenMode::kCreate;
  // A database written by an older version may lack a family added since: a writer adds it.
  db_options.create_missing_column_families = mode != OpenMode::kReadOnly;
  db_options.error_if_exists = mode == OpenMode::kCreate;
  db_options.max_background_jobs = 2;
  db_options.max_total_wal_size = size_t{256} << 20;
  db_options.bytes_per_sync = size_t{1} << 20;
  // Acknowledged writes are fsync'd; after a crash, recover every complete batch in the WAL.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 3;
  if (options.env != nullptr) db_options.env = options.env;

  // A reader opens the families that exist; one added by a newer version reads as empty.
  std::vector<std::string> existing;
  if (store->read_only_) {
    rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(db_options, db_dir, &existing);
    if (!listed.ok()) return FromRocksDb(listed, "listing column families of " + db_dir);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  std::vector<int> family_slots;  // Family of each descriptor
  for (int i = 0; i < kFamilyCount; ++i) {
    const auto family = static_cast<Family>(i);
    const std::string name(FamilyName(family));
    if (store->read_only_ && std::find(existing.begin(), existing.end(), name) == existing.end()) {
      continue;
    }
    families.emplace_back(name, FamilyOptions(family, store->block_cache_));
    family_slots.push_back(i);
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  std::vector<rocksdb::ColumnFamilyHandle*> opened;
  if (mode == OpenMode::kFollower) {
    std::filesystem::create_directories(options.follower_dir, ec);
    db_options.max_open_files = -1;  // required by secondary instances
    s = rocksdb::DB::OpenAsSecondary(db_options, db_dir, options.follower_dir, families, &opened,
                                     &raw);
  } else if (store->read_only_) {
    s = rocksdb::DB::OpenForReadOnly(db_options, db_dir, families, &opened, &raw);
  } else {
    std::filesystem::create_directories(db_dir, ec);
    s = rocksdb::DB::Open(db_options, db_dir, families, &opened, &raw);
  }
  if (!s.ok()) return FromRocksDb(s, "opening ledger database " + db_dir);
  store->db_.reset(raw);
  store->handles_.assign(kFamilyCount, nullptr);
  for (size_t i = 0; i < opened.size(); ++i) store->handles_[family_slots[i]] = opened[i];
  return store;
}

LogStore::~LogStore() {
  if (db_ == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    if (handle == nullptr) continue;
    // Why: a failure to free a handle at shutdown leaves nothing to recover.
    db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  handles_.clear();
  db_->Close().PermitUncheckedError();  // Why: WAL is synced on every write; nothing to lose.
}

rocksdb::ColumnFamilyHandle* LogStore::handle(Family family) const {
  return handles_[static_cast<int>(family)];
}

LogStore::Batch LogStore::NewBatch() const {
  Batch batch;
  batch.store_ = this;
  return batch;
}

Status LogStore::Write(Batch& batch, WalSync sync) {
  if (read_only_) return Status::FailedPrecondition("ledger database is open read-only");
  rocksdb::WriteOptions write_options;
  write_options.sync = sync == WalSync::kNow;
  return FromRocksDb(db_->Write(write_options, batch.batch_.get()), "writing ledger batch");
}

Status LogStore::CatchUp() {
  return FromRocksDb(db_->TryCatchUpWithPrimary(), "catching up with the ledger writer");
}

Status LogStore::SyncWal() {
  if (read_only_) return Status::FailedPrecondition("ledger database is open read-only");
  return FromRocksDb(db_->SyncWAL(), "syncing the ledger WAL");
}

Result<std::optional<std::string>> LogStore::Get(Family family, std::string_view key) const {
  if (handle(family) == nullptr) return std::optional<std::string>();  // family not created yet
  std::string value;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handle(family), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocksDb(s, "reading " + std::string(FamilyName(family)));
  return std::optional<std::string>(std::move(value));
}

Result<std::optional<std::string>> LogStore::GetMetadata() const {
  return Get(Family::kDefault, kMetadataKey);
}

Status LogStore::FindEvents(const std::vector<std::string_view>& ids,
                            std::vector<std::optional<uint64_t>>* out) const {
  out->assign(ids.size(), std::nullopt);
  if (ids.empty()) return Status::Ok();
  std::vector<rocksdb::Slice> keys;
  keys.reserve(ids.size());
  for (std::string_view id : ids) keys.push_back(ToSlice(id));
  std::vector<rocksdb::PinnableSlice> values(ids.size());
  std::vector<rocksdb::Status> statuses(ids.size());
  db_->MultiGet(rocksdb::ReadOptions(), handle(Family::kEventIds), keys.size(), keys.data(),
                values.data(), statuses.data());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    TL_RETURN_IF_ERROR(FromRocksDb(statuses[i], "reading event id index"));
    if (values[i].size() != 8) {
      return Status::DataLoss("event id index value for key " + HexEncode(ids[i]) + " has " +
                              std::to_string(values[i].size()) + " bytes, want 8");
    }
    (*out)[i] = DecodeFixed64BigEndian(values[i].ToStringView());
  }
  return Status::Ok();
}

Result<std::optional<uint64_t>> LogStore::FindEvent(std::string_view event_id) const {
  const std::string key = EventIdKey(event_id);
  std::vector<std::optional<uint64_t>> out;
  TL_RETURN_IF_ERROR(FindEvents({key}, &out));
  return out[0];
}

Result<std::optional<std::string>> LogStore::GetEntry(uint64_t sequence) const {
  return Get(Family::kEntries, EntryKey(sequence));
}

Result<std::optional<merkle::Tile>> LogStore::GetTile(merkle::TileId id) const {
  TL_ASSIGN_OR_RETURN(std::optional<std::string> bytes, Get(Family::kTiles, TileKey(id)));
  if (!bytes.has_value()) return std::optional<merkle::Tile>();
  auto tile = merkle::Tile::Decode(*bytes);
  if (!tile.ok()) {
    return tile.status().WithContext("tile " + std::to_string(id.level) + "/" +
                                     std::to_string(id.index));
  }
  return std::optional<merkle::Tile>(std::move(tile).value());
}

Result<std::optional<int64_t>> LogStore::GetSourcePosition(std::string_view stream) const {
  TL_ASSIGN_OR_RETURN(std::optional<std::string> bytes, Get(Family::kSources, stream));
  if (!bytes.has_value()) return std::optional<int64_t>();
  if (bytes->size() != 8) {
    return Status::DataLoss("source position of \"" + std::string(stream) + "\" has " +
                            std::to_string(bytes->size()) + " bytes, want 8");
  }
  return std::optional<int64_t>(static_cast<int64_t>(DecodeFixed64BigEndian(*bytes)));
}

namespace {

Result<uint64_t> CountByLastKey(const LogStore& store, Family family) {
  std::unique_ptr<rocksdb::Iterator> it = store.NewIterator(family);
  it->SeekToLast();
  if (!it->Valid()) {
    TL_RETURN_IF_ERROR(LogStore::IteratorStatus(*it, "finding the last key"));
    return uint64_t{0};
  }
  TL_ASSIGN_OR_RETURN(uint64_t last, DecodeSequenceKey(it->key().ToStringView()));
  return last + 1;
}

}  // namespace

Result<uint64_t> LogStore::CountEntries() const { return CountByLastKey(*this, Family::kEntries); }

Result<uint64_t> LogStore::CountRejections() const {
  return CountByLastKey(*this, Family::kRejections);
}

Status LogStore::Scan(Family family, uint64_t from, uint64_t to,
                      const std::function<bool(uint64_t, std::string_view)>& visit) const {
  if (from >= to) return Status::Ok();
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(family);
  for (it->Seek(FixedKey(from)); it->Valid(); it->Next()) {
    TL_ASSIGN_OR_RETURN(uint64_t key, DecodeSequenceKey(it->key().ToStringView()));
    if (key >= to) break;
    if (!visit(key, it->value().ToStringView())) break;
  }
  return IteratorStatus(*it, "scanning " + std::string(FamilyName(family)));
}

Result<std::optional<std::pair<uint64_t, std::string>>> LogStore::LatestCheckpoint() const {
  using Latest = std::optional<std::pair<uint64_t, std::string>>;
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(Family::kCheckpoints);
  it->SeekToLast();
  if (!it->Valid()) {
    TL_RETURN_IF_ERROR(IteratorStatus(*it, "finding the latest checkpoint"));
    return Latest();
  }
  TL_ASSIGN_OR_RETURN(uint64_t size, DecodeSequenceKey(it->key().ToStringView()));
  return Latest(std::make_pair(size, it->value().ToString()));
}

std::unique_ptr<rocksdb::Iterator> LogStore::NewIterator(Family family, bool fill_cache) const {
  if (handle(family) == nullptr) {
    return std::unique_ptr<rocksdb::Iterator>(rocksdb::NewEmptyIterator());
  }
  rocksdb::ReadOptions read_options;
  read_options.fill_cache = fill_cache;
  if (!fill_cache) read_options.readahead_size = size_t{2} << 20;
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(read_options, handle(family)));
}

Status LogStore::IteratorStatus(const rocksdb::Iterator& it, std::string_view what) {
  return FromRocksDb(it.status(), what);
}

}  // namespace traceledger::ledger
