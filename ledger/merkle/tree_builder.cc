#include "ledger/merkle/tree_builder.h"

#include <algorithm>
#include <bit>
#include <string>

#include "ledger/base/assert.h"
#include "ledger/merkle/hasher.h"

namespace traceledger::ledger::merkle {

TreeBuilder::TreeBuilder() = default;

Result<TreeBuilder> TreeBuilder::Restore(uint64_t tree_size, const TileLoader& load) {
  TreeBuilder builder;
  builder.size_ = tree_size;
  for (uint32_t level = 0; level < kMaxTileLevels; ++level) {
    const uint64_t bottom_count = tree_size >> (kTileHeight * level);
    if (bottom_count == 0) break;
    Edge edge;
    edge.id = TileId{level, bottom_count / kTileWidth};
    const uint32_t want = static_cast<uint32_t>(bottom_count % kTileWidth);
    if (want > 0) {
      TL_ASSIGN_OR_RETURN(std::optional<Tile> tile, load(edge.id));
      const std::string name =
          "tile " + std::to_string(level) + "/" + std::to_string(edge.id.index);
      if (!tile.has_value()) {
        return Status::DataLoss(name + " is missing for tree size " + std::to_string(tree_size));
      }
      if (tile->count() != want) {
        return Status::DataLoss(name + " has " + std::to_string(tile->count()) +
                                " nodes, want " + std::to_string(want) + " for tree size " +
                                std::to_string(tree_size));
      }
      edge.tile = *tile;
    }
    builder.edges_.push_back(std::move(edge));
  }
  return builder;
}

void TreeBuilder::AddBottom(uint32_t tile_level, const Sha256Digest& hash) {
  TL_ASSERT(tile_level < kMaxTileLevels);
  if (edges_.size() == tile_level) edges_.push_back(Edge{TileId{tile_level, 0}, Tile(), false});
  Edge& edge = edges_[tile_level];
  std::optional<Sha256Digest> root = edge.tile.Append(hash);
  edge.changed = true;
  if (!root.has_value()) return;
  completed_.push_back(TileUpdate{edge.id, std::make_shared<const Tile>(edge.tile)});
  edge.id.index += 1;
  edge.tile = Tile();
  edge.changed = false;
  AddBottom(tile_level + 1, *root);
}

void TreeBuilder::AppendLeaf(const Sha256Digest& leaf_hash) {
  AddBottom(0, leaf_hash);
  ++size_;
}

std::vector<TileUpdate> TreeBuilder::TakeChangedTiles() {
  std::vector<TileUpdate> updates = std::move(completed_);
  completed_.clear();
  for (Edge& edge : edges_) {
    if (!edge.changed) continue;
    updates.push_back(TileUpdate{edge.id, std::make_shared<const Tile>(edge.tile)});
    edge.changed = false;
  }
  std::sort(updates.begin(), updates.end(),
            [](const TileUpdate& a, const TileUpdate& b) { return a.id < b.id; });
  return updates;
}

Result<Sha256Digest> TreeBuilder::GetNode(uint32_t level, uint64_t index) {
  const NodeLocation loc = LocateNode(level, index);
  if (loc.tile.level < edges_.size()) {
    const Edge& edge = edges_[loc.tile.level];
    if (edge.id == loc.tile && edge.tile.HasNode(loc.row, loc.position)) {
      return edge.tile.Node(loc.row, loc.position);
    }
  }
  return Status::NotFound("node " + std::to_string(level) + "/" + std::to_string(index) +
                          " is not on the right edge of the tree");
}

Sha256Digest TreeBuilder::Root() const {
  if (size_ == 0) return EmptyRoot();
  // The root folds the perfect subtrees of size_'s binary decomposition, smallest first; each
  // is the last complete node of its level and lies in that level's edge tile.
  std::optional<Sha256Digest> root;
  for (uint64_t rest = size_; rest != 0; rest &= rest - 1) {
    const uint32_t level = static_cast<uint32_t>(std::countr_zero(rest));
    const uint64_t index = (size_ >> level) - 1;
    const NodeLocation loc = LocateNode(level, index);
    TL_ASSERT(loc.tile.level < edges_.size());
    const Edge& edge = edges_[loc.tile.level];
    TL_ASSERT(edge.id == loc.tile);
    const Sha256Digest& node = edge.tile.Node(loc.row, loc.position);
    root = root.has_value() ? HashChildren(node, *root) : node;
  }
  return *root;
}

}  // namespace traceledger::ledger::merkle
