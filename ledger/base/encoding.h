// File: ledger/base/encoding.h
//
// Lowercase hex and standard (RFC 4648, padded) base64, strict on decode: any character
// outside the alphabet, bad padding or a wrong length is an InvalidArgument naming the offset.
// Big-endian fixed-width integers for RocksDB keys. Header-only; all functions are pure.
#ifndef TRACELEDGER_LEDGER_BASE_ENCODING_H_
#define TRACELEDGER_LEDGER_BASE_ENCODING_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/base/status.h"
#include "ledger/base/types.h"

namespace traceledger {

inline std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<uint8_t>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0xf];
  }
  return out;
}
inline std::string HexEncode(const Sha256Digest& digest) { return HexEncode(AsBytes(digest)); }

inline Result<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return Status::InvalidArgument("hex string has odd length " + std::to_string(hex.size()));
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument("hex string has a non-hex character at offset " +
                                     std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
    }
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

// Decodes exactly one SHA-256 digest from hex.
inline Result<Sha256Digest> DigestFromHex(std::string_view hex) {
  TL_ASSIGN_OR_RETURN(std::string bytes, HexDecode(hex));
  if (bytes.size() != kSha256DigestBytes) {
    return Status::InvalidArgument("hash has " + std::to_string(bytes.size()) +
                                   " bytes, want 32");
  }
  return DigestFromBytes(bytes);
}

inline std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<uint8_t>(bytes[i])} << 16) |
                       (uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8) |
                       uint32_t{static_cast<uint8_t>(bytes[i + 2])};
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16;
    if (rest == 2) v |= uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// Strict standard base64: length a multiple of 4, padding only at the end, and the unused
// low bits of the last symbol zero (so every byte string has exactly one accepted encoding).
inline Result<std::string> Base64Decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) {
    return Status::InvalidArgument("base64 length " + std::to_string(text.size()) +
                                   " is not a multiple of 4");
  }
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      const size_t pos = i + j;
      const char c = text[pos];
      int d;
      if (c == '=' && pos >= text.size() - padding) {
        d = 0;
      } else {
        d = value(c);
        if (d < 0) {
          return Status::InvalidArgument("base64 has an invalid character at offset " +
                                         std::to_string(pos));
        }
      }
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    const bool last = i + 4 == text.size();
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    if (!last || padding < 2) out.push_back(static_cast<char>((v >> 8) & 0xff));
    if (!last || padding < 1) out.push_back(static_cast<char>(v & 0xff));
    if (last && padding == 2 && (v & 0xffff) != 0) {
      return Status::InvalidArgument("base64 has non-zero trailing bits");
    }
    if (last && padding == 1 && (v & 0xff) != 0) {
      return Status::InvalidArgument("base64 has non-zero trailing bits");
    }
  }
  return out;
}

// Big-endian fixed 64-bit integers: keys that sort numerically in RocksDB's bytewise order.
inline void PutFixed64BigEndian(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}
// Requires bytes.size() >= 8.
inline uint64_t DecodeFixed64BigEndian(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

}  // namespace traceledger

#endif  // TRACELEDGER_LEDGER_BASE_ENCODING_H_
