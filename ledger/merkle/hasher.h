// File: ledger/merkle/hasher.h
//
// RFC 6962 / RFC 9162 section 2.1 tree hashing with SHA-256 (docs/formats/merkle-tree.md):
//   leaf  = SHA-256(0x00 || entry bytes)
//   node  = SHA-256(0x01 || left || right)
//   empty = SHA-256("")
// The prefixes keep a leaf from ever being taken for an interior node. Pure functions.
#ifndef TRACELEDGER_LEDGER_MERKLE_HASHER_H_
#define TRACELEDGER_LEDGER_MERKLE_HASHER_H_

#include <string_view>

#include "ledger/base/types.h"

namespace traceledger::ledger::merkle {

inline constexpr char kLeafPrefix = 0x00;
inline constexpr char kNodePrefix = 0x01;

Sha256Digest HashLeaf(std::string_view entry_bytes);
Sha256Digest HashChildren(const Sha256Digest& left, const Sha256Digest& right);
// Root of the tree with no leaves.
Sha256Digest EmptyRoot();

}  // namespace traceledger::ledger::merkle

#endif  // TRACELEDGER_LEDGER_MERKLE_HASHER_H_
