#include "ledger/merkle/verify.h"

#include <string>

#include "ledger/base/encoding.h"
#include "ledger/merkle/hasher.h"
#include "ledger/merkle/proof.h"

namespace traceledger::ledger::merkle {
namespace {

std::string Short(const Sha256Digest& d) { return HexEncode(d).substr(0, 16) + ".."; }

}  // namespace

Result<Sha256Digest> RootFromInclusionProof(uint64_t leaf_index, uint64_t tree_size,
                                            const Sha256Digest& leaf_hash,
                                            std::span<const Sha256Digest> proof) {
  if (leaf_index >= tree_size) {
    return Status::InvalidArgument("leaf index " + std::to_string(leaf_index) +
                                   " is not below tree size " + std::to_string(tree_size));
  }
  if (proof.size() > kMaxProofHashes) {
    return Status::InvalidArgument("inclusion proof has " + std::to_string(proof.size()) +
                                   " hashes, more than any tree needs");
  }
  // RFC 9162 2.1.3.2.
  uint64_t fn = leaf_index;
  uint64_t sn = tree_size - 1;
  Sha256Digest r = leaf_hash;
  for (const Sha256Digest& p : proof) {
    if (sn == 0) {
      return Status::InvalidArgument("inclusion proof has " + std::to_string(proof.size()) +
                                     " hashes, too many for leaf " + std::to_string(leaf_index) +
                                     " of tree size " + std::to_string(tree_size));
    }
    if ((fn & 1) == 1 || fn == sn) {
      r = HashChildren(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return Status::InvalidArgument("inclusion proof has " + std::to_string(proof.size()) +
                                   " hashes, too few for leaf " + std::to_string(leaf_index) +
                                   " of tree size " + std::to_string(tree_size));
  }
  return r;
}

Status VerifyInclusion(uint64_t leaf_index, uint64_t tree_size, const Sha256Digest& leaf_hash,
                       std::span<const Sha256Digest> proof, const Sha256Digest& root) {
  TL_ASSIGN_OR_RETURN(Sha256Digest computed,
                      RootFromInclusionProof(leaf_index, tree_size, leaf_hash, proof));
  if (computed != root) {
    return Status::InvalidArgument("inclusion proof for leaf " + std::to_string(leaf_index) +
                                   " of tree size " + std::to_string(tree_size) +
                                   " gives root " + Short(computed) + ", want " + Short(root));
  }
  return Status::Ok();
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Sha256Digest> proof,
                         const Sha256Digest& root1, const Sha256Digest& root2) {
  if (size1 > size2) {
    return Status::InvalidArgument("consistency from size " + std::to_string(size1) +
                                   " to smaller size " + std::to_string(size2));
  }
  if (size1 == size2) {
    if (!proof.empty()) {
      return Status::InvalidArgument("consistency proof between equal sizes must be empty");
    }
    if (root1 != root2) {
      return Status::InvalidArgument("roots of equal-size trees differ: " + Short(root1) +
                                     " vs " + Short(root2));
    }
    return Status::Ok();
  }
  if (size1 == 0) {
    if (!proof.empty()) {
      return Status::InvalidArgument("consistency proof from size 0 must be empty");
    }
    return Status::Ok();
  }
  if (proof.empty()) {
    return Status::InvalidArgument("consistency proof from size " + std::to_string(size1) +
                                   " to " + std::to_string(size2) + " is empty");
  }
  if (proof.size() > kMaxProofHashes) {
    return Status::InvalidArgument("consistency proof has " + std::to_string(proof.size()) +
                                   " hashes, more than any tree needs");
  }
  // RFC 9162 2.1.4.2. When size1 is a power of two, the old root is the first path element.
  size_t next = 0;
  Sha256Digest fr;
  const bool power_of_two = (size1 & (size1 - 1)) == 0;
  if (power_of_two) {
    fr = root1;
  } else {
    fr = proof[0];
    next = 1;
  }
  Sha256Digest sr = fr;
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  for (; next < proof.size(); ++next) {
    const Sha256Digest& c = proof[next];
    if (sn == 0) {
      return Status::InvalidArgument("consistency proof has " + std::to_string(proof.size()) +
                                     " hashes, too many for sizes " + std::to_string(size1) +
                                     " to " + std::to_string(size2));
    }
    if ((fn & 1) == 1 || fn == sn) {
      fr = HashChildren(c, fr);
      sr = HashChildren(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = HashChildren(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return Status::InvalidArgument("consistency proof has " + std::to_string(proof.size()) +
                                   " hashes, too few for sizes " + std::to_string(size1) +
                                   " to " + std::to_string(size2));
  }
  if (fr != root1) {
    return Status::InvalidArgument("consistency proof gives old root " + Short(fr) + ", want " +
                                   Short(root1));
  }
  if (sr != root2) {
    return Status::InvalidArgument("consistency proof gives new root " + Short(sr) + ", want " +
                                   Short(root2));
  }
  return Status::Ok();
}

}  // namespace traceledger::ledger::merkle
