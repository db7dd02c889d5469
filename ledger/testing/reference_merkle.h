// File: ledger/testing/reference_merkle.h
//
// A deliberately slow, obviously-correct RFC 9162 section 2.1 Merkle tree straight from the
// RFC's recursive definitions (MTH, PATH, PROOF/SUBPROOF), and an in-memory NodeSource fed by
// TreeBuilder's tiles. Tests compare the production code against these. Test-only.
#ifndef TRACELEDGER_LEDGER_TESTING_REFERENCE_MERKLE_H_
#define TRACELEDGER_LEDGER_TESTING_REFERENCE_MERKLE_H_

#include <map>
#include <vector>

#include "ledger/base/types.h"
#include "ledger/merkle/hasher.h"
#include "ledger/merkle/proof.h"
#include "ledger/merkle/tile.h"
#include "ledger/merkle/tree_builder.h"

namespace traceledger::ledger::testing {

// MTH(D[begin:end]) over leaf hashes.
inline Sha256Digest ReferenceRoot(const std::vector<Sha256Digest>& leaves, uint64_t begin,
                                  uint64_t end) {
  const uint64_t n = end - begin;
  if (n == 0) return merkle::EmptyRoot();
  if (n == 1) return leaves[begin];
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return merkle::HashChildren(ReferenceRoot(leaves, begin, begin + k),
                              ReferenceRoot(leaves, begin + k, end));
}

// PATH(m, D[begin:end]); m is relative to begin.
inline std::vector<Sha256Digest> ReferencePath(const std::vector<Sha256Digest>& leaves, uint64_t m,
                                               uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (n <= 1) return {};
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  std::vector<Sha256Digest> path;
  if (m < k) {
    path = ReferencePath(leaves, m, begin, begin + k);
    path.push_back(ReferenceRoot(leaves, begin + k, end));
  } else {
    path = ReferencePath(leaves, m - k, begin + k, end);
    path.push_back(ReferenceRoot(leaves, begin, begin + k));
  }
  return path;
}

// SUBPROOF(m, D[begin:end], b).
inline std::vector<Sha256Digest> ReferenceSubproof(const std::vector<Sha256Digest>& leaves,
                                                   uint64_t m, uint64_t begin, uint64_t end,
                                                   bool b) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (b) return {};
    return {ReferenceRoot(leaves, begin, end)};
  }
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  std::vector<Sha256Digest> proof;
  if (m <= k) {
    proof = ReferenceSubproof(leaves, m, begin, begin + k, b);
    proof.push_back(ReferenceRoot(leaves, begin + k, end));
  } else {
    proof = ReferenceSubproof(leaves, m - k, begin + k, end, false);
    proof.push_back(ReferenceRoot(leaves, begin, begin + k));
  }
  return proof;
}

inline std::vector<Sha256Digest> ReferenceConsistency(const std::vector<Sha256Digest>& leaves,
                                                      uint64_t size1, uint64_t size2) {
  if (size1 == 0 || size1 == size2) return {};
  return ReferenceSubproof(leaves, size1, 0, size2, true);
}

// Builds a tiled tree in memory with TreeBuilder and serves its nodes: every tile it ever
// emitted, latest version wins (as in the store).
class InMemoryTree : public merkle::NodeSource {
 public:
  void Append(const Sha256Digest& leaf) { builder_.AppendLeaf(leaf); }
  // Moves the builder's changed tiles into the "store".
  void Flush() {
    for (merkle::TileUpdate& update : builder_.TakeChangedTiles()) tiles_[update.id] = *update.tile;
  }
  merkle::TreeBuilder& builder() { return builder_; }
  const std::map<merkle::TileId, merkle::Tile>& tiles() const { return tiles_; }
  Result<Sha256Digest> GetNode(uint32_t level, uint64_t index) override {
    const merkle::NodeLocation loc = merkle::LocateNode(level, index);
    auto it = tiles_.find(loc.tile);
    if (it == tiles_.end() || !it->second.HasNode(loc.row, loc.position)) {
      return Status::DataLoss("node " + std::to_string(level) + "/" + std::to_string(index) +
                              " not stored");
    }
    return it->second.Node(loc.row, loc.position);
  }

 private:
  merkle::TreeBuilder builder_;
  std::map<merkle::TileId, merkle::Tile> tiles_;
};

}  // namespace traceledger::ledger::testing

#endif  // TRACELEDGER_LEDGER_TESTING_REFERENCE_MERKLE_H_
