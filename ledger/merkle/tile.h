// File: ledger/merkle/tile.h
//
// Tiles: how the Merkle tree's hashes are stored (docs/formats/merkle-tree.md). A tile of
// tile level T and index K holds the nodes of tree levels 8T .. 8T+7 above the 256 level-8T
// nodes [256K, 256K + 256): row r (0..7) holds level 8T+r. The tile's own root (level 8T+8)
// is the bottom row of tile (T+1, K / 256), so every node is stored exactly once.
//
// Storing every interior row (510 hashes, 16 KiB per full tile) makes any node one lookup, so
// a proof reads one tile per 8 levels. A tile is "partial" while fewer than 256 bottom nodes
// exist; a full tile never changes again. Thread-compatible value type.
#ifndef TRACELEDGER_LEDGER_MERKLE_TILE_H_
#define TRACELEDGER_LEDGER_MERKLE_TILE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/base/status.h"
#include "ledger/base/types.h"

namespace traceledger::ledger::merkle {

inline constexpr uint32_t kTileHeight = 8;
inline constexpr uint32_t kTileWidth = 1u << kTileHeight;      // bottom nodes per tile
inline constexpr uint32_t kTileNodeCapacity = 2 * kTileWidth - 2;  // rows 0..7: 510 hashes
inline constexpr uint32_t kMaxTileLevels = 8;                   // 8 * 8 = 64 tree levels

struct TileId {
  uint32_t level = 0;  // tile level T: its bottom row is tree level 8T
  uint64_t index = 0;  // K: bottom row covers level-8T nodes [256K, 256K + 256)
  friend bool operator==(const TileId&, const TileId&) = default;
  friend auto operator<=>(const TileId&, const TileId&) = default;
};

// Where tree node (level, index) lives: its tile, row and position in the row.
struct NodeLocation {
  TileId tile;
  uint32_t row = 0;
  uint32_t position = 0;
};
NodeLocation LocateNode(uint32_t level, uint64_t index);

class Tile {
 public:
  Tile() = default;

  // Number of bottom-row nodes present, 0..256.
  uint32_t count() const { return count_; }
  bool complete() const { return count_ == kTileWidth; }
  // Row r holds count() >> r nodes.
  uint32_t RowWidth(uint32_t row) const { return count_ >> row; }
  bool HasNode(uint32_t row, uint32_t position) const { return position < RowWidth(row); }
  // Requires HasNode(row, position).
  const Sha256Digest& Node(uint32_t row, uint32_t position) const;

  // Appends a bottom node and hashes every parent it completes. Returns the tile's root (the
  // level 8T+8 node) when this append completes the tile. Requires !complete().
  std::optional<Sha256Digest> Append(const Sha256Digest& bottom);

  // Encoding: 2-byte big-endian count, then rows 0..7 each with RowWidth(row) hashes.
  std::string Encode() const;
  // Returns DataLoss (stored bytes) if the length does not match the count or count > 256.
  static Result<Tile> Decode(std::string_view bytes);
  static size_t EncodedSize(uint32_t count);

 private:
  static constexpr uint32_t RowOffset(uint32_t row) { return 2 * kTileWidth - (2 * kTileWidth >> row); }

  uint32_t count_ = 0;
  std::array<Sha256Digest, kTileNodeCapacity> nodes_{};
};

}  // namespace traceledger::ledger::merkle

#endif  // TRACELEDGER_LEDGER_MERKLE_TILE_H_
