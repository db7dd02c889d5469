// Property tests of the tiled tree and proofs against the reference implementation in
// ledger/testing/reference_merkle.h. Randomized tests print their seed; set TL_TEST_SEED to
// replay one.
#include <gtest/gtest.h>

#include <bit>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>

#include "ledger/base/encoding.h"
#include "ledger/merkle/hasher.h"
#include "ledger/merkle/proof.h"
#include "ledger/merkle/tile.h"
#include "ledger/merkle/tree_builder.h"
#include "ledger/merkle/verify.h"
#include "ledger/testing/reference_merkle.h"

namespace traceledger::ledger::merkle {
namespace {

uint64_t TestSeed() {
  static const uint64_t seed = [] {
    const char* env = std::getenv("TL_TEST_SEED");
    const uint64_t s = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device()();
    std::fprintf(stderr, "merkle_test seed: TL_TEST_SEED=%llu\n",
                 static_cast<unsigned long long>(s));
    return s;
  }();
  return seed;
}

std::vector<Sha256Digest> MakeLeaves(uint64_t n) {
  std::vector<Sha256Digest> leaves;
  leaves.reserve(n);
  for (uint64_t i = 0; i < n; ++i) leaves.push_back(HashLeaf("entry " + std::to_string(i)));
  return leaves;
}

Sha256Digest FlipBit(Sha256Digest d, size_t bit) {
  d[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return d;
}

TEST(TileTest, EncodeDecodeRoundTripsAtEveryCount) {
  Tile tile;
  for (uint32_t i = 0; i < kTileWidth; ++i) {
    tile.Append(HashLeaf(std::to_string(i)));
    const std::string bytes = tile.Encode();
    EXPECT_EQ(bytes.size(), Tile::EncodedSize(tile.count()));
    auto decoded = Tile::Decode(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->Encode(), bytes);
  }
  EXPECT_TRUE(tile.complete());
  EXPECT_EQ(Tile::EncodedSize(kTileWidth), 2u + 510u * 32u);
}

TEST(TileTest, DecodeRejectsWrongLengthOrCount) {
  Tile tile;
  tile.Append(HashLeaf("a"));
  tile.Append(HashLeaf("b"));
  std::string bytes = tile.Encode();
  EXPECT_EQ(Tile::Decode(bytes.substr(0, bytes.size() - 1)).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(Tile::Decode(bytes + "x").status().code(), StatusCode::kDataLoss);
  std::string too_many = bytes;
  too_many[0] = 0x01;
  too_many[1] = 0x01;  // 257
  EXPECT_EQ(Tile::Decode(too_many).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(Tile::Decode("").status().code(), StatusCode::kDataLoss);
}

TEST(TileTest, LocateNodePutsEachLevelInItsTileRow) {
  NodeLocation leaf = LocateNode(0, 300);
  EXPECT_EQ(leaf.tile, (TileId{0, 1}));
  EXPECT_EQ(leaf.row, 0u);
  EXPECT_EQ(leaf.position, 44u);
  NodeLocation row7 = LocateNode(7, 5);  // 2 per tile
  EXPECT_EQ(row7.tile, (TileId{0, 2}));
  EXPECT_EQ(row7.position, 1u);
  NodeLocation level8 = LocateNode(8, 3);
  EXPECT_EQ(level8.tile, (TileId{1, 0}));
  EXPECT_EQ(level8.row, 0u);
  EXPECT_EQ(level8.position, 3u);
}

// Every node the tiles store, every root and every proof agrees with the RFC's recursion, for
// every size up to 600 (crossing tile boundaries) and random sizes up to a few thousand.
TEST(TreeTest, RootsAndProofsMatchReferenceForManySizes) {
  std::mt19937_64 rng(TestSeed());
  const std::vector<Sha256Digest> leaves = MakeLeaves(5000);
  testing::InMemoryTree tree;
  std::vector<uint64_t> sizes;
  for (uint64_t n = 1; n <= 600; ++n) sizes.push_back(n);
  for (int i = 0; i < 20; ++i) sizes.push_back(601 + rng() % 4399);
  std::sort(sizes.begin(), sizes.end());
  uint64_t built = 0;
  for (uint64_t n : sizes) {
    while (built < n) tree.Append(leaves[built++]);
    tree.Flush();
    const Sha256Digest want_root = testing::ReferenceRoot(leaves, 0, n);
    ASSERT_EQ(tree.builder().Root(), want_root) << "builder root at size " << n;
    auto root = RootHash(tree, n);
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    ASSERT_EQ(*root, want_root) << "stored root at size " << n;
    // A handful of leaves per size (all of them for small trees).
    std::vector<uint64_t> indexes;
    if (n <= 64) {
      for (uint64_t i = 0; i < n; ++i) indexes.push_back(i);
    } else {
      indexes = {0, n - 1, n / 2};
      for (int k = 0; k < 5; ++k) indexes.push_back(rng() % n);
    }
    for (uint64_t i : indexes) {
      auto proof = InclusionProof(tree, i, n);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      ASSERT_EQ(*proof, testing::ReferencePath(leaves, i, 0, n)) << i << "@" << n;
      ASSERT_TRUE(VerifyInclusion(i, n, leaves[i], *proof, want_root).ok()) << i << "@" << n;
    }
    for (int k = 0; k < 5; ++k) {
      const uint64_t m = rng() % (n + 1);
      auto proof = ConsistencyProof(tree, m, n);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      ASSERT_EQ(*proof, testing::ReferenceConsistency(leaves, m, n)) << m << "->" << n;
      const Sha256Digest old_root = testing::ReferenceRoot(leaves, 0, m);
      ASSERT_TRUE(VerifyConsistency(m, n, *proof, old_root, want_root).ok()) << m << "->" << n;
    }
  }
}

// Every single-bit mutation of a proof, the leaf, the index or a size makes verification fail.
// A size is only meaningful together with the root signed for it (a checkpoint binds the two),
// so a mutated size is verified against the root of a tree of that size (the test tree's
// leaves, then filler leaves): the inclusion algorithm alone cannot tell apart two sizes whose
// paths to the leaf have the same shape, but a proof must never verify against the root of a
// tree of another size.
TEST(TreeTest, EverySingleBitMutationFailsVerification) {
  std::mt19937_64 rng(TestSeed() + 1);
  const uint64_t total = 3000;
  const std::vector<Sha256Digest> leaves = MakeLeaves(total);
  testing::InMemoryTree tree;
  std::vector<Sha256Digest> roots = {EmptyRoot()};  // roots[n] = root of the first n leaves
  for (const Sha256Digest& leaf : leaves) {
    tree.Append(leaf);
    roots.push_back(tree.builder().Root());
  }
  tree.Flush();
  ASSERT_EQ(roots[total], testing::ReferenceRoot(leaves, 0, total));
  // Roots of perfect subtrees of filler leaves, by level.
  std::vector<Sha256Digest> filler = {HashLeaf("filler")};
  for (int level = 1; level < 64; ++level) {
    filler.push_back(HashChildren(filler.back(), filler.back()));
  }
  std::function<Sha256Digest(uint64_t, uint64_t)> extended = [&](uint64_t begin, uint64_t end) {
    if (end <= total) return *SubtreeHash(tree, begin, end);
    if (begin >= total && std::has_single_bit(end - begin)) {
      return filler[std::countr_zero(end - begin)];
    }
    const uint64_t k = SplitPoint(end - begin);
    return HashChildren(extended(begin, begin + k), extended(begin + k, end));
  };
  // The root a verifier would hold for a tree of `size` leaves.
  auto root_for = [&](uint64_t size) {
    return size == 0 ? EmptyRoot() : extended(0, size);
  };
  for (int trial = 0; trial < 60; ++trial) {
    const uint64_t n = 2 + rng() % (total - 1);
    const uint64_t i = rng() % n;
    const Sha256Digest& root = roots[n];
    ASSERT_EQ(root_for(n), root);
    const std::vector<Sha256Digest> proof = *InclusionProof(tree, i, n);
    ASSERT_TRUE(VerifyInclusion(i, n, leaves[i], proof, root).ok());
    for (size_t k = 0; k < proof.size(); ++k) {
      for (size_t bit = 0; bit < 256; ++bit) {
        auto mutated = proof;
        mutated[k] = FlipBit(mutated[k], bit);
        ASSERT_FALSE(VerifyInclusion(i, n, leaves[i], mutated, root).ok())
            << "proof[" << k << "] bit " << bit << " of " << i << "@" << n;
      }
    }
    for (size_t bit = 0; bit < 256; ++bit) {
      ASSERT_FALSE(VerifyInclusion(i, n, FlipBit(leaves[i], bit), proof, root).ok());
      ASSERT_FALSE(VerifyInclusion(i, n, leaves[i], proof, FlipBit(root, bit)).ok());
    }
    for (int bit = 0; bit < 64; ++bit) {
      const uint64_t mask = uint64_t{1} << bit;
      ASSERT_FALSE(VerifyInclusion(i ^ mask, n, leaves[i], proof, root).ok())
          << "index bit " << bit << " of " << i << "@" << n;
      ASSERT_FALSE(VerifyInclusion(i, n ^ mask, leaves[i], proof, root_for(n ^ mask)).ok())
          << "size bit " << bit << " of " << i << "@" << n;
    }
    // Consistency proofs: every bit of every hash, of both sizes and both roots.
    const uint64_t m = 1 + rng() % (n - 1);
    const Sha256Digest& old_root = roots[m];
    const std::vector<Sha256Digest> consistency = *ConsistencyProof(tree, m, n);
    ASSERT_TRUE(VerifyConsistency(m, n, consistency, old_root, root).ok());
    for (size_t k = 0; k < consistency.size(); ++k) {
      for (size_t bit = 0; bit < 256; ++bit) {
        auto mutated = consistency;
        mutated[k] = FlipBit(mutated[k], bit);
        ASSERT_FALSE(VerifyConsistency(m, n, mutated, old_root, root).ok())
            << "consistency[" << k << "] bit " << bit << " of " << m << "->" << n;
      }
    }
    for (size_t bit = 0; bit < 256; ++bit) {
      ASSERT_FALSE(VerifyConsistency(m, n, consistency, FlipBit(old_root, bit), root).ok());
      ASSERT_FALSE(VerifyConsistency(m, n, consistency, old_root, FlipBit(root, bit)).ok());
    }
    for (int bit = 0; bit < 64; ++bit) {
      const uint64_t mask = uint64_t{1} << bit;
      ASSERT_FALSE(
          VerifyConsistency(m ^ mask, n, consistency, root_for(m ^ mask), root).ok())
          << "size1 bit " << bit << " of " << m << "->" << n;
      ASSERT_FALSE(
          VerifyConsistency(m, n ^ mask, consistency, old_root, root_for(n ^ mask)).ok())
          << "size2 bit " << bit << " of " << m << "->" << n;
    }
  }
}

TEST(TreeBuilderTest, RestoreFromStoredTilesContinuesIdentically) {
  std::mt19937_64 rng(TestSeed() + 2);
  const std::vector<Sha256Digest> leaves = MakeLeaves(70000);
  for (int trial = 0; trial < 8; ++trial) {
    const uint64_t cut = trial == 0 ? 65536 : 1 + rng() % 69000;
    testing::InMemoryTree first;
    for (uint64_t i = 0; i < cut; ++i) first.Append(leaves[i]);
    first.Flush();
    auto restored = TreeBuilder::Restore(cut, [&](TileId id) -> Result<std::optional<Tile>> {
      auto it = first.tiles().find(id);
      if (it == first.tiles().end()) return std::optional<Tile>();
      return std::optional<Tile>(it->second);
    });
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    ASSERT_EQ(restored->Root(), first.builder().Root()) << "cut " << cut;
    for (uint64_t i = cut; i < leaves.size(); ++i) {
      restored->AppendLeaf(leaves[i]);
      first.Append(leaves[i]);
    }
    EXPECT_EQ(restored->Root(), first.builder().Root()) << "cut " << cut;
    EXPECT_EQ(restored->Root(), testing::ReferenceRoot(leaves, 0, leaves.size()));
  }
}

TEST(TreeBuilderTest, RestoreReportsMissingOrShortTiles) {
  const auto none = [](TileId) -> Result<std::optional<Tile>> { return std::optional<Tile>(); };
  EXPECT_EQ(TreeBuilder::Restore(5, none).status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(TreeBuilder::Restore(0, none).ok());
  const auto short_tile = [](TileId) -> Result<std::optional<Tile>> {
    Tile tile;
    tile.Append(HashLeaf("x"));
    return std::optional<Tile>(tile);
  };
  auto restored = TreeBuilder::Restore(3, short_tile);
  EXPECT_EQ(restored.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(restored.status().message().find("has 1 nodes, want 3"), std::string::npos)
      << restored.status().message();
}

TEST(TreeBuilderTest, ChangedTilesAreEachReportedOnceInOrder) {
  TreeBuilder builder;
  for (int i = 0; i < 600; ++i) builder.AppendLeaf(HashLeaf(std::to_string(i)));
  std::vector<TileUpdate> updates = builder.TakeChangedTiles();
  // Full tiles 0/0 and 0/1, partial 0/2 (88 leaves), partial 1/0 (2 nodes).
  ASSERT_EQ(updates.size(), 4u);
  EXPECT_EQ(updates[0].id, (TileId{0, 0}));
  EXPECT_TRUE(updates[0].tile->complete());
  EXPECT_EQ(updates[1].id, (TileId{0, 1}));
  EXPECT_EQ(updates[2].id, (TileId{0, 2}));
  EXPECT_EQ(updates[2].tile->count(), 88u);
  EXPECT_EQ(updates[3].id, (TileId{1, 0}));
  EXPECT_EQ(updates[3].tile->count(), 2u);
  EXPECT_TRUE(builder.TakeChangedTiles().empty());
  builder.AppendLeaf(HashLeaf("one more"));
  updates = builder.TakeChangedTiles();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].id, (TileId{0, 2}));
}

TEST(ProofTest, RejectsImpossibleArguments) {
  testing::InMemoryTree tree;
  for (int i = 0; i < 10; ++i) tree.Append(HashLeaf(std::to_string(i)));
  tree.Flush();
  EXPECT_EQ(InclusionProof(tree, 10, 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(tree, 0, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(tree, 6, 5).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ConsistencyProof(tree, 0, 10)->empty());
  EXPECT_TRUE(ConsistencyProof(tree, 10, 10)->empty());
}

}  // namespace
}  // namespace traceledger::ledger::merkle
