// File: ledger/log_store.h
//
// LogStore: the ledger's RocksDB database, its column families and key encodings
// (docs/formats/storage.md). This is the one place where rocksdb::Status becomes a Status.
// It knows bytes and keys, not hashing or chaining: ledger.cc and audit.cc give them meaning.
//
//   column family   key                              value
//   default         "metadata"                       traceledger.v1.LogMetadata
//   entries         sequence, 8 bytes big-endian     traceledger.v1.LedgerEntry (exact bytes)
//   event_ids       SHA-256(event id)[0:16]          sequence, 8 bytes big-endian
//   tiles           tile level (1 byte), index (8)   merkle::Tile encoding
//   checkpoints     tree size, 8 bytes big-endian    signed checkpoint note
//   sources         stream name                      next offset, 8 bytes big-endian
//   rejections      rejection sequence, 8 bytes BE   traceledger.v1.Rejection
//
// Thread-safe: RocksDB handles concurrent reads and writes; Write() batches are atomic.
#ifndef TRACELEDGER_LEDGER_LOG_STORE_H_
#define TRACELEDGER_LEDGER_LOG_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/base/status.h"
#include "ledger/merkle/tile.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Iterator;
class WriteBatch;
class Cache;
class Env;
}  // namespace rocksdb

namespace traceledger::ledger {

enum class Family {
  kDefault = 0,
  kEntries,
  kEventIds,
  kTiles,
  kCheckpoints,
  kSources,
  kRejections
};
inline constexpr int kFamilyCount = 7;
std::string_view FamilyName(Family family);

enum class OpenMode {
  kCreate,     // create a new database; fails if one exists
  kReadWrite,  // open an existing database for writing
  kReadOnly,   // open an existing database without writing (safe beside a running writer)
  kFollower,   // a RocksDB secondary instance that can catch up with a running writer
};

struct StoreOptions {
  size_t block_cache_bytes = size_t{128} << 20;
  // kFollower: where the secondary instance keeps its own logs (required, distinct per
  // follower process).
  std::string follower_dir;
  // The RocksDB environment; null for the default. Tests inject faults through it
  // (ledger/testing/faulty_file_system.h). Not owned; must outlive the store.
  rocksdb::Env* env = nullptr;
};

std::string EntryKey(uint64_t sequence);
// The event-id index key: the first 16 bytes of SHA-256(event id). Fixed-size and uniformly
// spread, so index records stay small whatever ids submitters use; the entry it points to
// holds the full id, which readers compare (a collision needs ~2^64 ids).
inline constexpr size_t kEventIdKeyBytes = 16;
std::string EventIdKey(std::string_view event_id);
std::string TileKey(merkle::TileId id);
std::string CheckpointKey(uint64_t tree_size);
Result<merkle::TileId> DecodeTileKey(std::string_view key);
// Keys of `entries` and `checkpoints`; DataLoss if not 8 bytes.
Result<uint64_t> DecodeSequenceKey(std::string_view key);

class LogStore {
 public:
  // A group of writes applied atomically by Write().
  class Batch {
   public:
    Batch();
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    Batch(Batch&&) noexcept;
    Batch& operator=(Batch&&) noexcept;

    void PutMetadata(std::string_view bytes);
    void PutEntry(uint64_t sequence, std::string_view entry_bytes);
    // `key` is EventIdKey(event id).
    void PutEventId(std::string_view key, uint64_t sequence);
    void PutTile(merkle::TileId id, std::string_view tile_bytes);
    void PutCheckpoint(uint64_t tree_size, std::string_view note);
    void PutSourcePosition(std::string_view stream, int64_t next_offset);
    void PutRejection(uint64_t sequence, std::string_view rejection_bytes);
    size_t ByteSize() const;
    size_t Count() const;

   private:
    friend class LogStore;
    std::unique_ptr<rocksdb::WriteBatch> batch_;
    const LogStore* store_ = nullptr;  // set by LogStore::NewBatch
  };

  // Opens (or creates) the database in `db_dir`. Returns AlreadyExists for kCreate on an
  // existing database, NotFound when opening one that does not exist, Unavailable when
  // another process holds it for writing.
  static Result<std::unique_ptr<LogStore>> Open(const std::string& db_dir, OpenMode mode,
                                                const StoreOptions& options);
  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  bool read_only() const { return read_only_; }
  // kFollower only: replays what the writer has made durable since the last call.
  Status CatchUp();
  Batch NewBatch() const;
  // kNow: Write returns only after the WAL is fsync'd. kLater: Write returns once the batch is
  // in the WAL file and the memtables; it is durable only after a later SyncWal() returns.
  // Either way the batch is atomic, and batches reach the WAL in the order they are written,
  // so a crash never keeps a batch without every batch written before it.
  enum class WalSync { kNow, kLater };
  Status Write(Batch& batch, WalSync sync = WalSync::kNow);
  // fsyncs the WAL: every batch written before this call is durable when it returns OK.
  Status SyncWal();

  Result<std::optional<std::string>> Get(Family family, std::string_view key) const;
  Result<std::optional<std::string>> GetMetadata() const;
  // One MultiGet over the event id index: `keys` are EventIdKey()s; out[i] is the sequence
  // indexed under keys[i], if any (the caller compares that entry's id).
  Status FindEvents(const std::vector<std::string_view>& keys,
                    std::vector<std::optional<uint64_t>>* out) const;
  // The sequence indexed under EventIdKey(event_id), if any (not yet compared with the entry).
  Result<std::optional<uint64_t>> FindEvent(std::string_view event_id) const;
  Result<std::optional<std::string>> GetEntry(uint64_t sequence) const;
  Result<std::optional<merkle::Tile>> GetTile(merkle::TileId id) const;
  Result<std::optional<int64_t>> GetSourcePosition(std::string_view stream) const;
  // Number of entries: last entry key + 1 (0 when empty).
  Result<uint64_t> CountEntries() const;
  // Number of rejections: last rejection key + 1 (0 when none).
  Result<uint64_t> CountRejections() const;
  // Calls visit(key as sequence, value) for keys [from, to) of an 8-byte-keyed family, in
  // order, until visit returns false. DataLoss on a malformed key.
  Status Scan(Family family, uint64_t from, uint64_t to,
              const std::function<bool(uint64_t, std::string_view)>& visit) const;
  // The checkpoint with the largest tree size, if any: (tree size, note).
  Result<std::optional<std::pair<uint64_t, std::string>>> LatestCheckpoint() const;

  // A raw iterator for scans (audit). `readahead` for long sequential scans.
  std::unique_ptr<rocksdb::Iterator> NewIterator(Family family, bool fill_cache = true) const;
  // Translates an iterator's status after a scan.
  static Status IteratorStatus(const rocksdb::Iterator& it, std::string_view what);
  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* handle(Family family) const;

 private:
  LogStore() = default;

  std::shared_ptr<rocksdb::Cache> block_cache_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; destroyed before db_
  std::unique_ptr<rocksdb::DB> db_;
  bool read_only_ = false;
};

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_LOG_STORE_H_
