// RFC 6962 reference vectors: the 8-leaf tree of RFC 6962's test data as published in
// transparency-dev/merkle (testonly/constants.go, proof/verify_test.go), checked against our
// tree builder, proof generator and verifier, including their corruption probes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ledger/base/encoding.h"
#include "ledger/merkle/hasher.h"
#include "ledger/merkle/proof.h"
#include "ledger/merkle/verify.h"
#include "ledger/testing/reference_merkle.h"

namespace traceledger::ledger::merkle {
namespace {

Sha256Digest D(std::string_view hex) {
  auto digest = DigestFromHex(hex);
  EXPECT_TRUE(digest.ok()) << hex;
  return *digest;
}

std::string Bytes(std::string_view hex) { return *HexDecode(hex); }

const std::vector<std::string> kLeafInputs = {
    Bytes(""),         Bytes("00"),       Bytes("10"),
    Bytes("2021"),     Bytes("3031"),     Bytes("40414243"),
    Bytes("5051525354555657"), Bytes("606162636465666768696a6b6c6d6e6f")};

// NodeHashes()[level][index].
const std::vector<std::vector<Sha256Digest>> kNodeHashes = {
    {D("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
     D("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
     D("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
     D("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
     D("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
     D("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
     D("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
     D("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1")},
    {D("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
     D("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
     D("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
     D("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0")},
    {D("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
     D("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")},
    {D("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")}};

// RootHashes()[size].
const std::vector<Sha256Digest> kRoots = {
    D("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    D("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    D("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    D("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    D("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    D("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    D("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    D("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    D("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")};

struct InclusionVector {
  uint64_t leaf_index;
  uint64_t tree_size;
  std::vector<Sha256Digest> proof;
};
const std::vector<InclusionVector> kInclusion = {
    {0, 1, {}},
    {0, 8,
     {D("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
      D("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
      D("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")}},
    {5, 8,
     {D("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
      D("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
      D("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}},
    {2, 3, {D("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")}},
    {1, 5,
     {D("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
      D("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
      D("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")}},
};

struct ConsistencyVector {
  uint64_t size1;
  uint64_t size2;
  std::vector<Sha256Digest> proof;
};
const std::vector<ConsistencyVector> kConsistency = {
    {1, 1, {}},
    {1, 8,
     {D("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
      D("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
      D("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")}},
    {6, 8,
     {D("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
      D("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
      D("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}},
    {2, 5,
     {D("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
      D("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")}},
    {6, 7,
     {D("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
      D("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
      D("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}},
};

const Sha256Digest kSomeHash = D("abacaba000000000000000000000000000000000000000000060061e00123456");

class Rfc6962VectorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const std::string& input : kLeafInputs) tree_.Append(HashLeaf(input));
    tree_.Flush();
  }
  testing::InMemoryTree tree_;
};

TEST_F(Rfc6962VectorsTest, EmptyTreeRootIsSha256OfNothing) {
  EXPECT_EQ(EmptyRoot(), kRoots[0]);
}

TEST_F(Rfc6962VectorsTest, EveryStoredNodeMatchesPublishedNodeHashes) {
  for (uint32_t level = 0; level < kNodeHashes.size(); ++level) {
    for (uint64_t index = 0; index < kNodeHashes[level].size(); ++index) {
      auto node = tree_.GetNode(level, index);
      ASSERT_TRUE(node.ok()) << node.status().ToString();
      EXPECT_EQ(HexEncode(*node), HexEncode(kNodeHashes[level][index]))
          << "node " << level << "/" << index;
    }
  }
}

TEST_F(Rfc6962VectorsTest, RootsOfEveryPrefixMatchPublishedRoots) {
  for (uint64_t size = 0; size <= 8; ++size) {
    auto root = RootHash(tree_, size);
    ASSERT_TRUE(root.ok());
    EXPECT_EQ(HexEncode(*root), HexEncode(kRoots[size])) << "size " << size;
  }
  // And the builder's own right-edge root, after every append.
  testing::InMemoryTree growing;
  EXPECT_EQ(growing.builder().Root(), kRoots[0]);
  for (size_t i = 0; i < kLeafInputs.size(); ++i) {
    growing.Append(HashLeaf(kLeafInputs[i]));
    EXPECT_EQ(HexEncode(growing.builder().Root()), HexEncode(kRoots[i + 1])) << "size " << i + 1;
  }
}

TEST_F(Rfc6962VectorsTest, InclusionProofsMatchPublishedProofsAndVerify) {
  for (const InclusionVector& v : kInclusion) {
    auto proof = InclusionProof(tree_, v.leaf_index, v.tree_size);
    ASSERT_TRUE(proof.ok());
    ASSERT_EQ(proof->size(), v.proof.size()) << v.leaf_index << "@" << v.tree_size;
    for (size_t i = 0; i < v.proof.size(); ++i) {
      EXPECT_EQ(HexEncode((*proof)[i]), HexEncode(v.proof[i]));
    }
    const Sha256Digest leaf = HashLeaf(kLeafInputs[v.leaf_index]);
    EXPECT_TRUE(VerifyInclusion(v.leaf_index, v.tree_size, leaf, v.proof, kRoots[v.tree_size]).ok());
  }
}

// The corruption probes of transparency-dev/merkle proof/verify_test.go.
TEST_F(Rfc6962VectorsTest, CorruptedInclusionProofsFail) {
  for (const InclusionVector& v : kInclusion) {
    const Sha256Digest leaf = HashLeaf(kLeafInputs[v.leaf_index]);
    const Sha256Digest& root = kRoots[v.tree_size];
    const uint64_t i = v.leaf_index;
    const uint64_t n = v.tree_size;
    struct Probe {
      uint64_t index, size;
      Sha256Digest leaf, root;
      std::vector<Sha256Digest> proof;
      const char* what;
    };
    std::vector<Probe> probes = {
        {i - 1, n, leaf, root, v.proof, "index - 1"},
        {i + 1, n, leaf, root, v.proof, "index + 1"},
        {i ^ 2, n, leaf, root, v.proof, "index ^ 2"},
        {i, n * 2, leaf, root, v.proof, "size * 2"},
        {i, n / 2, leaf, root, v.proof, "size / 2"},
        {i, n, HashLeaf("WrongLeaf"), root, v.proof, "wrong leaf"},
        {i, n, leaf, kRoots[0], v.proof, "empty root"},
        {i, n, leaf, kSomeHash, v.proof, "random root"},
    };
    auto with = [&](std::vector<Sha256Digest> p, const char* what) {
      probes.push_back({i, n, leaf, root, std::move(p), what});
    };
    auto trailing = v.proof;
    trailing.push_back(root);
    with(trailing, "trailing root");
    auto preceding = v.proof;
    preceding.insert(preceding.begin(), root);
    with(preceding, "preceding root");
    for (size_t k = 0; k < v.proof.size(); ++k) {
      auto flipped = v.proof;
      flipped[k][0] ^= 8;
      with(flipped, "modified proof element");
    }
    if (!v.proof.empty()) with({v.proof.begin(), v.proof.end() - 1}, "removed component");
    if (v.proof.size() > 1) {
      std::vector<Sha256Digest> inserted = {v.proof[0], kSomeHash};
      inserted.insert(inserted.end(), v.proof.begin() + 1, v.proof.end());
      with(inserted, "inserted component");
    }
    for (const Probe& p : probes) {
      EXPECT_FALSE(VerifyInclusion(p.index, p.size, p.leaf, p.proof, p.root).ok())
          << p.what << " for " << i << "@" << n;
    }
  }
}

TEST_F(Rfc6962VectorsTest, ConsistencyProofsMatchPublishedProofsAndVerify) {
  for (const ConsistencyVector& v : kConsistency) {
    auto proof = ConsistencyProof(tree_, v.size1, v.size2);
    ASSERT_TRUE(proof.ok());
    ASSERT_EQ(proof->size(), v.proof.size()) << v.size1 << "->" << v.size2;
    for (size_t i = 0; i < v.proof.size(); ++i) {
      EXPECT_EQ(HexEncode((*proof)[i]), HexEncode(v.proof[i]));
    }
    EXPECT_TRUE(
        VerifyConsistency(v.size1, v.size2, v.proof, kRoots[v.size1], kRoots[v.size2]).ok());
  }
}

TEST_F(Rfc6962VectorsTest, CorruptedConsistencyProofsFail) {
  for (const ConsistencyVector& v : kConsistency) {
    if (v.proof.empty()) continue;
    const uint64_t m = v.size1;
    const uint64_t n = v.size2;
    const Sha256Digest& r1 = kRoots[m];
    const Sha256Digest& r2 = kRoots[n];
    struct Probe {
      uint64_t size1, size2;
      Sha256Digest root1, root2;
      std::vector<Sha256Digest> proof;
      const char* what;
    };
    std::vector<Probe> probes = {
        {m - 1, n, r1, r2, v.proof, "size1 - 1"},
        {m + 1, n, r1, r2, v.proof, "size1 + 1"},
        {m ^ 2, n, r1, r2, v.proof, "size1 ^ 2"},
        {m, n * 2, r1, r2, v.proof, "size2 * 2"},
        {m, n / 2, r1, r2, v.proof, "size2 / 2"},
        {m, n, kSomeHash, r2, v.proof, "wrong root1"},
        {m, n, r1, kSomeHash, v.proof, "wrong root2"},
        {m, n, r2, r1, v.proof, "swapped roots"},
        {m, n, r1, r2, {}, "empty proof"},
    };
    auto with = [&](std::vector<Sha256Digest> p, const char* what) {
      probes.push_back({m, n, r1, r2, std::move(p), what});
    };
    for (const Sha256Digest& extra : {r1, r2}) {
      auto trailing = v.proof;
      trailing.push_back(extra);
      with(trailing, "trailing root");
      auto preceding = v.proof;
      preceding.insert(preceding.begin(), extra);
      with(preceding, "preceding root");
    }
    auto preceding0 = v.proof;
    preceding0.insert(preceding0.begin(), v.proof[0]);
    with(preceding0, "preceding proof[0]");
    with({v.proof.begin(), v.proof.end() - 1}, "truncated proof");
    for (size_t k = 0; k < v.proof.size(); ++k) {
      auto flipped = v.proof;
      flipped[k][0] ^= 16;
      with(flipped, "modified proof element");
    }
    for (const Probe& p : probes) {
      EXPECT_FALSE(VerifyConsistency(p.size1, p.size2, p.proof, p.root1, p.root2).ok())
          << p.what << " for " << m << "->" << n;
    }
  }
}

TEST(VerifyConsistencyTest, EdgeCasesFromReferenceSuite) {
  const Sha256Digest root1 = HashLeaf("don't care 1");
  const Sha256Digest root2 = HashLeaf("don't care 2");
  const Sha256Digest empty = EmptyRoot();
  const std::vector<Sha256Digest> none;
  const std::vector<Sha256Digest> one = {empty};
  struct Case {
    uint64_t size1, size2;
    Sha256Digest r1, r2;
    std::vector<Sha256Digest> proof;
    bool ok;
  };
  const std::vector<Case> cases = {
      {0, 0, root1, root2, none, false}, {1, 1, root1, root2, none, false},
      {0, 0, root1, root1, none, true},  {0, 1, root1, root2, none, true},
      {1, 1, root2, root2, none, true},  {1, 0, root1, root2, none, false},
      {2, 1, root1, root2, none, false}, {1, 2, root1, root2, none, false},
      {0, 0, empty, root2, none, false}, {1, 1, empty, root2, none, false},
      {0, 0, empty, empty, one, false},  {0, 1, empty, empty, one, false},
      {1, 1, empty, empty, one, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(VerifyConsistency(c.size1, c.size2, c.proof, c.r1, c.r2).ok(), c.ok)
        << c.size1 << "->" << c.size2;
  }
}

TEST(VerifyInclusionTest, IndexOutsideTreeFails) {
  const Sha256Digest some = HashLeaf("x");
  for (auto [index, size] : std::vector<std::pair<uint64_t, uint64_t>>{{0, 0}, {1, 0}, {2, 1}}) {
    EXPECT_FALSE(VerifyInclusion(index, size, some, {}, EmptyRoot()).ok()) << index << "@" << size;
  }
  EXPECT_TRUE(VerifyInclusion(0, 1, some, {}, some).ok());
}

}  // namespace
}  // namespace traceledger::ledger::merkle
