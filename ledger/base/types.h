// File: ledger/base/types.h
//
// Small value types shared by every folder. A ledger sequence number is also the entry's
// Merkle leaf index (docs/formats/ledger-entry.md), so both are plain uint64_t named for
// their role; digests are fixed-size arrays so that a wrong length cannot be represented.
#ifndef TRACELEDGER_LEDGER_BASE_TYPES_H_
#define TRACELEDGER_LEDGER_BASE_TYPES_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace traceledger {

inline constexpr size_t kSha256DigestBytes = 32;
using Sha256Digest = std::array<uint8_t, kSha256DigestBytes>;

// Views a digest as bytes / copies bytes into a digest.
inline std::string_view AsBytes(const Sha256Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}
// Requires bytes.size() == kSha256DigestBytes (callers check lengths of outside input first).
inline Sha256Digest DigestFromBytes(std::string_view bytes) {
  Sha256Digest digest;
  std::memcpy(digest.data(), bytes.data(), digest.size());
  return digest;
}

}  // namespace traceledger

#endif  // TRACELEDGER_LEDGER_BASE_TYPES_H_
