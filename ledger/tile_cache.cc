#include "ledger/tile_cache.h"

#include <algorithm>

namespace traceledger::ledger {

TileCache::TileCache(size_t capacity_tiles)
    : capacity_per_shard_(std::max<size_t>(capacity_tiles / kShards, 16)) {}

std::shared_ptr<const merkle::Tile> TileCache::Get(merkle::TileId id) {
  Shard& shard = ShardOf(id);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.index.find(id);
  if (it == shard.index.end()) return nullptr;
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  return it->second->second;
}

std::shared_ptr<const merkle::Tile> TileCache::Put(merkle::TileId id,
                                                   std::shared_ptr<const merkle::Tile> tile) {
  Shard& shard = ShardOf(id);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.index.find(id);
  if (it != shard.index.end()) {
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    if (it->second->second->count() < tile->count()) it->second->second = std::move(tile);
    return it->second->second;
  }
  shard.lru.emplace_front(id, std::move(tile));
  shard.index.emplace(id, shard.lru.begin());
  while (shard.lru.size() > capacity_per_shard_) {
    shard.index.erase(shard.lru.back().first);
    shard.lru.pop_back();
  }
  return shard.lru.front().second;
}

size_t TileCache::size() const {
  size_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    total += shard.lru.size();
  }
  return total;
}

}  // namespace traceledger::ledger
