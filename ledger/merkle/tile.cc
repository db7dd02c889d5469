#include "ledger/merkle/tile.h"

#include <cstring>

#include "ledger/base/assert.h"
#include "ledger/merkle/hasher.h"

namespace traceledger::ledger::merkle {

static_assert(kTileNodeCapacity == 510);

NodeLocation LocateNode(uint32_t level, uint64_t index) {
  TL_ASSERT(level < kTileHeight * kMaxTileLevels);
  NodeLocation loc;
  loc.tile.level = level / kTileHeight;
  loc.row = level % kTileHeight;
  const uint32_t row_width = kTileWidth >> loc.row;
  loc.tile.index = index / row_width;
  loc.position = static_cast<uint32_t>(index % row_width);
  return loc;
}

const Sha256Digest& Tile::Node(uint32_t row, uint32_t position) const {
  TL_ASSERT(row < kTileHeight);
  TL_ASSERT(HasNode(row, position));
  return nodes_[RowOffset(row) + position];
}

std::optional<Sha256Digest> Tile::Append(const Sha256Digest& bottom) {
  TL_ASSERT(!complete());
  uint32_t position = count_;
  nodes_[RowOffset(0) + position] = bottom;
  ++count_;
  Sha256Digest hash = bottom;
  // Each right child completes its parent; climb while we are a right child.
  for (uint32_t row = 0; row < kTileHeight; ++row) {
    if ((position & 1) == 0) return std::nullopt;
    hash = HashChildren(nodes_[RowOffset(row) + position - 1], hash);
    position >>= 1;
    if (row + 1 == kTileHeight) break;
    nodes_[RowOffset(row + 1) + position] = hash;
  }
  TL_ASSERT(complete());
  return hash;
}

size_t Tile::EncodedSize(uint32_t count) {
  size_t hashes = 0;
  for (uint32_t row = 0; row < kTileHeight; ++row) hashes += count >> row;
  return 2 + hashes * kSha256DigestBytes;
}

std::string Tile::Encode() const {
  std::string out;
  out.reserve(EncodedSize(count_));
  out.push_back(static_cast<char>(count_ >> 8));
  out.push_back(static_cast<char>(count_ & 0xff));
  for (uint32_t row = 0; row < kTileHeight; ++row) {
    const uint32_t width = RowWidth(row);
    out.append(reinterpret_cast<const char*>(nodes_[RowOffset(row)].data()),
               width * kSha256DigestBytes);
  }
  TL_DEBUG_ASSERT(out.size() == EncodedSize(count_));
  return out;
}

Result<Tile> Tile::Decode(std::string_view bytes) {
  if (bytes.size() < 2) {
    return Status::DataLoss("tile has " + std::to_string(bytes.size()) + " bytes, want >= 2");
  }
  Tile tile;
  tile.count_ = (uint32_t{static_cast<uint8_t>(bytes[0])} << 8) | static_cast<uint8_t>(bytes[1]);
  if (tile.count_ > kTileWidth) {
    return Status::DataLoss("tile count " + std::to_string(tile.count_) + " exceeds 256");
  }
  if (bytes.size() != EncodedSize(tile.count_)) {
    return Status::DataLoss("tile with count " + std::to_string(tile.count_) + " has " +
                            std::to_string(bytes.size()) + " bytes, want " +
                            std::to_string(EncodedSize(tile.count_)));
  }
  size_t offset = 2;
  for (uint32_t row = 0; row < kTileHeight; ++row) {
    const size_t row_bytes = size_t{tile.RowWidth(row)} * kSha256DigestBytes;
    std::memcpy(tile.nodes_[RowOffset(row)].data(), bytes.data() + offset, row_bytes);
    offset += row_bytes;
  }
  return tile;
}

}  // namespace traceledger::ledger::merkle
