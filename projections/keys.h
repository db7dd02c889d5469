// File: projections/keys.h
//
// Building view keys that sort the way the views read them: string components separated by a
// 0x00 byte (ids never contain one), fixed big-endian numbers, and times as big-endian with
// the sign bit flipped so negative times sort first. Header-only; pure.
#ifndef TRACELEDGER_PROJECTIONS_KEYS_H_
#define TRACELEDGER_PROJECTIONS_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "ledger/base/encoding.h"

namespace traceledger::projections {

class Key {
 public:
  Key() = default;
  explicit Key(std::string_view tag) { key_.append(tag); }
  // Room for `capacity` bytes first: a key built with its final size known grows in place,
  // without the reallocations of appending its components one by one.
  Key(std::string_view tag, size_t capacity) {
    key_.reserve(capacity);
    key_.append(tag);
  }
  // A string component, ended by 0x00.
  Key& Str(std::string_view component) & {
    key_.append(component);
    key_.push_back('\0');
    return *this;
  }
  Key& U64(uint64_t value) & {
    PutFixed64BigEndian(&key_, value);
    return *this;
  }
  Key& Time(int64_t micros) & { return U64(static_cast<uint64_t>(micros) ^ (uint64_t{1} << 63)); }
  // The same on a temporary (Key("o").Str(id).str()), which str() then moves from: a key is
  // built without a copy of it at the end.
  Key&& Str(std::string_view component) && { return std::move(Str(component)); }
  Key&& U64(uint64_t value) && { return std::move(U64(value)); }
  Key&& Time(int64_t micros) && { return std::move(Time(micros)); }
  const std::string& str() const& { return key_; }
  std::string str() && { return std::move(key_); }
  operator std::string_view() const& { return key_; }  // NOLINT(google-explicit-constructor)

 private:
  std::string key_;
};

// Bytes a key component takes: a string and its 0x00, a number.
inline size_t StrBytes(std::string_view component) { return component.size() + 1; }
inline constexpr size_t kU64Bytes = 8;

// The length of `key`'s first component prefix: the bytes up to and including the first 0x00
// after its first byte (the tag and the first string component, Key(tag).Str(id)); 0 if it
// has none (the cursor, which starts with 0x00, or a key without a 0x00). The views'
// RocksDB prefix extractor and the runner's pending rows group keys by it.
inline size_t FirstComponentPrefixLength(std::string_view key) {
  if (key.size() < 2 || key[0] == '\0') return 0;
  const size_t end = key.find('\0', 1);
  return end == std::string_view::npos ? 0 : end + 1;
}

inline int64_t DecodeTime(std::string_view eight_bytes) {
  return static_cast<int64_t>(DecodeFixed64BigEndian(eight_bytes) ^ (uint64_t{1} << 63));
}

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_KEYS_H_
