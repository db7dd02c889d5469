// File: ledger/merkle/proof.h
//
// Inclusion and consistency proofs (RFC 9162 sections 2.1.3.1 and 2.1.4.1) computed from
// stored subtree hashes, never by rehashing leaves: a proof for a tree of size n reads
// O(log n) nodes. Node (level, index) is the root of the perfect subtree over leaves
// [index << level, (index + 1) << level).
//
// Thread-safety: the functions are pure given their NodeSource; a NodeSource may be shared
// if its GetNode is thread-safe.
#ifndef TRACELEDGER_LEDGER_MERKLE_PROOF_H_
#define TRACELEDGER_LEDGER_MERKLE_PROOF_H_

#include <cstdint>
#include <vector>

#include "ledger/base/status.h"
#include "ledger/base/types.h"

namespace traceledger::ledger::merkle {

// Longest proof we will ever produce or accept: one hash per level of a 2^64-leaf tree, twice
// (a consistency proof may carry both a path and the ragged right edge).
inline constexpr size_t kMaxProofHashes = 128;

// Where proofs read subtree hashes from.
class NodeSource {
 public:
  virtual ~NodeSource() = default;
  // Returns the hash of node (level, index). Requires the node to be complete in the tree
  // the caller asks about. Returns DataLoss if the stored tree lacks it or it fails a check.
  virtual Result<Sha256Digest> GetNode(uint32_t level, uint64_t index) = 0;
};

// MTH(D[begin:end]) (RFC 9162 2.1.1) for the ranges that occur in proofs: begin is a multiple of
// the largest power of two not exceeding end - begin. Requires begin < end.
Result<Sha256Digest> SubtreeHash(NodeSource& nodes, uint64_t begin, uint64_t end);

// Root hash of the tree of the first `tree_size` leaves (EmptyRoot() for 0).
Result<Sha256Digest> RootHash(NodeSource& nodes, uint64_t tree_size);

// PATH(leaf_index, D[tree_size]), leaf sibling first.
// Returns InvalidArgument unless leaf_index < tree_size.
Result<std::vector<Sha256Digest>> InclusionProof(NodeSource& nodes, uint64_t leaf_index,
                                                 uint64_t tree_size);

// PROOF(size1, D[size2]); empty when size1 == 0 or size1 == size2.
// Returns InvalidArgument unless size1 <= size2.
Result<std::vector<Sha256Digest>> ConsistencyProof(NodeSource& nodes, uint64_t size1,
                                                   uint64_t size2);

// Largest power of two strictly less than n. Requires n >= 2.
uint64_t SplitPoint(uint64_t n);

}  // namespace traceledger::ledger::merkle

#endif  // TRACELEDGER_LEDGER_MERKLE_PROOF_H_
