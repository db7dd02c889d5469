#include "ledger/merkle/hasher.h"

#include "ledger/sha256.h"

namespace traceledger::ledger::merkle {

Sha256Digest HashLeaf(std::string_view entry_bytes) {
  static constexpr char kPrefix[1] = {kLeafPrefix};
  return Sha256({std::string_view(kPrefix, 1), entry_bytes});
}

Sha256Digest HashChildren(const Sha256Digest& left, const Sha256Digest& right) {
  static constexpr char kPrefix[1] = {kNodePrefix};
  return Sha256({std::string_view(kPrefix, 1), AsBytes(left), AsBytes(right)});
}

Sha256Digest EmptyRoot() { return Sha256(std::string_view()); }

}  // namespace traceledger::ledger::merkle
