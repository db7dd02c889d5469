// File: ledger/merkle/verify.h
//
// Proof verification exactly as RFC 9162 sections 2.1.3.2 and 2.1.4.2 give it, plus the edge
// cases the transparency-dev/merkle reference vectors pin (index >= size, empty proofs, equal
// sizes). Every failure is InvalidArgument with what did not match; pure functions. These are
// what an offline verifier runs: they must not trust anything about the prover.
#ifndef TRACELEDGER_LEDGER_MERKLE_VERIFY_H_
#define TRACELEDGER_LEDGER_MERKLE_VERIFY_H_

#include <cstdint>
#include <span>

#include "ledger/base/status.h"
#include "ledger/base/types.h"

namespace traceledger::ledger::merkle {

// Root implied by `proof` for `leaf_hash` at `leaf_index` in a tree of `tree_size` leaves.
// Returns InvalidArgument if index >= size or the proof has the wrong length for them.
Result<Sha256Digest> RootFromInclusionProof(uint64_t leaf_index, uint64_t tree_size,
                                            const Sha256Digest& leaf_hash,
                                            std::span<const Sha256Digest> proof);

// OK iff `proof` shows leaf `leaf_hash` at `leaf_index` in the tree of `tree_size` with `root`.
Status VerifyInclusion(uint64_t leaf_index, uint64_t tree_size, const Sha256Digest& leaf_hash,
                       std::span<const Sha256Digest> proof, const Sha256Digest& root);

// OK iff `proof` shows the tree (size1, root1) is a prefix of the tree (size2, root2).
// size1 == size2 needs an empty proof and equal roots; size1 == 0 needs an empty proof.
Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Sha256Digest> proof,
                         const Sha256Digest& root1, const Sha256Digest& root2);

}  // namespace traceledger::ledger::merkle

#endif  // TRACELEDGER_LEDGER_MERKLE_VERIFY_H_
