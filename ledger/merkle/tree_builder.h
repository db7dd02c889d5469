// File: ledger/merkle/tree_builder.h
//
// TreeBuilder keeps the right edge of the tiled Merkle tree in memory: one partial tile per
// tile level. Appending a leaf hashes only the parents it completes (one node hash per leaf
// on average) and reports which tiles changed, so a batch writes O(batch / 256 + levels)
// tile records. It also knows the current root and serves the nodes of its edge tiles.
//
// Thread-compatible: one writer owns it.
#ifndef TRACELEDGER_LEDGER_MERKLE_TREE_BUILDER_H_
#define TRACELEDGER_LEDGER_MERKLE_TREE_BUILDER_H_

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "ledger/base/status.h"
#include "ledger/base/types.h"
#include "ledger/merkle/proof.h"
#include "ledger/merkle/tile.h"

namespace traceledger::ledger::merkle {

struct TileUpdate {
  TileId id;
  std::shared_ptr<const Tile> tile;
};

class TreeBuilder : public NodeSource {
 public:
  // Loads tile `id` from storage; std::nullopt if absent.
  using TileLoader = std::function<Result<std::optional<Tile>>(TileId)>;

  // An empty tree.
  TreeBuilder();

  // Rebuilds the right edge of a stored tree of `tree_size` leaves. Returns DataLoss if a
  // needed tile is missing or its count disagrees with the size.
  static Result<TreeBuilder> Restore(uint64_t tree_size, const TileLoader& load);

  void AppendLeaf(const Sha256Digest& leaf_hash);

  uint64_t size() const { return size_; }
  // Root of the current tree (EmptyRoot() when empty).
  Sha256Digest Root() const;

  // Tiles changed since the last call: every tile completed (final content) and the current
  // partial tile of each level that changed. In tile order; each id at most once.
  std::vector<TileUpdate> TakeChangedTiles();

  // NodeSource over the edge tiles only: nodes of complete tiles are not kept here.
  Result<Sha256Digest> GetNode(uint32_t level, uint64_t index) override;

 private:
  struct Edge {
    TileId id;
    Tile tile;
    bool changed = false;
  };
  void AddBottom(uint32_t tile_level, const Sha256Digest& hash);

  uint64_t size_ = 0;
  std::vector<Edge> edges_;                 // index = tile level
  std::vector<TileUpdate> completed_;       // tiles completed since TakeChangedTiles()
};

}  // namespace traceledger::ledger::merkle

#endif  // TRACELEDGER_LEDGER_MERKLE_TREE_BUILDER_H_
