#include "ledger/merkle/proof.h"

#include <algorithm>
#include <bit>
#include <string>

#include "ledger/base/assert.h"
#include "ledger/merkle/hasher.h"

namespace traceledger::ledger::merkle {

uint64_t SplitPoint(uint64_t n) {
  TL_ASSERT(n >= 2);
  return std::bit_floor(n - 1);
}

Result<Sha256Digest> SubtreeHash(NodeSource& nodes, uint64_t begin, uint64_t end) {
  TL_ASSERT(begin < end);
  // MTH of a ragged range is its perfect left parts folded onto its last perfect part.
  Sha256Digest lefts[64];
  size_t left_count = 0;
  uint64_t start = begin;
  while (!std::has_single_bit(end - start)) {
    const uint64_t k = SplitPoint(end - start);
    const int level = std::countr_zero(k);
    TL_ASSERT(start % k == 0);
    TL_ASSIGN_OR_RETURN(lefts[left_count], nodes.GetNode(level, start >> level));
    ++left_count;
    TL_ASSERT(left_count < 64);
    start += k;
  }
  const uint64_t size = end - start;
  const int level = std::countr_zero(size);
  TL_ASSERT(start % size == 0);
  TL_ASSIGN_OR_RETURN(Sha256Digest hash, nodes.GetNode(level, start >> level));
  while (left_count > 0) {
    --left_count;
    hash = HashChildren(lefts[left_count], hash);
  }
  return hash;
}

Result<Sha256Digest> RootHash(NodeSource& nodes, uint64_t tree_size) {
  if (tree_size == 0) return EmptyRoot();
  return SubtreeHash(nodes, 0, tree_size);
}

Result<std::vector<Sha256Digest>> InclusionProof(NodeSource& nodes, uint64_t leaf_index,
                                                 uint64_t tree_size) {
  if (leaf_index >= tree_size) {
    return Status::InvalidArgument("leaf index " + std::to_string(leaf_index) +
                                   " is not below tree size " + std::to_string(tree_size));
  }
  // Walk from the root down to the leaf; the sibling of each step is a proof hash, and the
  // RFC orders them leaf first.
  std::vector<Sha256Digest> proof;
  proof.reserve(64);
  uint64_t begin = 0;
  uint64_t end = tree_size;
  while (end - begin > 1) {
    const uint64_t k = SplitPoint(end - begin);
    if (leaf_index < begin + k) {
      TL_ASSIGN_OR_RETURN(Sha256Digest sibling, SubtreeHash(nodes, begin + k, end));
      proof.push_back(sibling);
      end = begin + k;
    } else {
      TL_ASSIGN_OR_RETURN(Sha256Digest sibling, SubtreeHash(nodes, begin, begin + k));
      proof.push_back(sibling);
      begin += k;
    }
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

Result<std::vector<Sha256Digest>> ConsistencyProof(NodeSource& nodes, uint64_t size1,
                                                   uint64_t size2) {
  if (size1 > size2) {
    return Status::InvalidArgument("consistency proof from size " + std::to_string(size1) +
                                   " to smaller size " + std::to_string(size2));
  }
  std::vector<Sha256Digest> proof;
  if (size1 == 0 || size1 == size2) return proof;
  // SUBPROOF(m, D[begin:end], whole_old_tree) of RFC 9162 2.1.4.1, unrolled; deepest first.
  proof.reserve(64);
  uint64_t begin = 0;
  uint64_t end = size2;
  bool whole_old_tree = true;
  while (true) {
    if (size1 == end) {
      if (!whole_old_tree) {
        TL_ASSIGN_OR_RETURN(Sha256Digest hash, SubtreeHash(nodes, begin, end));
        proof.push_back(hash);
      }
      break;
    }
    const uint64_t k = SplitPoint(end - begin);
    if (size1 - begin <= k) {
      TL_ASSIGN_OR_RETURN(Sha256Digest hash, SubtreeHash(nodes, begin + k, end));
      proof.push_back(hash);
      end = begin + k;
    } else {
      TL_ASSIGN_OR_RETURN(Sha256Digest hash, SubtreeHash(nodes, begin, begin + k));
      proof.push_back(hash);
      begin += k;
      whole_old_tree = false;
    }
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

}  // namespace traceledger::ledger::merkle
