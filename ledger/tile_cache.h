// File: ledger/tile_cache.h
//
// TileCache: an LRU of decoded Merkle tiles shared by proof readers. Full tiles never change;
// a partial tile only ever grows, so Put keeps whichever version has more nodes and a reader
// can never be sent back to an older one. Thread-safe; sharded by tile id so that concurrent
// readers rarely meet on a lock.
#ifndef TRACELEDGER_LEDGER_TILE_CACHE_H_
#define TRACELEDGER_LEDGER_TILE_CACHE_H_

#include <array>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "ledger/merkle/tile.h"

namespace traceledger::ledger {

class TileCache {
 public:
  // Holds about `capacity_tiles` tiles (at least 16 per shard).
  explicit TileCache(size_t capacity_tiles);

  std::shared_ptr<const merkle::Tile> Get(merkle::TileId id);
  // Inserts or replaces; keeps the version with the larger count. Returns the kept version.
  std::shared_ptr<const merkle::Tile> Put(merkle::TileId id,
                                          std::shared_ptr<const merkle::Tile> tile);
  size_t size() const;

 private:
  static constexpr size_t kShards = 16;
  struct IdHash {
    size_t operator()(const merkle::TileId& id) const {
      return std::hash<uint64_t>()(id.index * 64 + id.level);
    }
  };
  using LruList = std::list<std::pair<merkle::TileId, std::shared_ptr<const merkle::Tile>>>;
  struct Shard {
    mutable std::mutex mu;
    LruList lru;  // guarded by mu; most recently used first
    std::unordered_map<merkle::TileId, LruList::iterator, IdHash> index;  // guarded by mu
  };
  Shard& ShardOf(const merkle::TileId& id) {
    // Consecutive tiles land in different shards.
    return shards_[(id.index ^ (uint64_t{id.level} << 5)) % kShards];
  }

  const size_t capacity_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_TILE_CACHE_H_
