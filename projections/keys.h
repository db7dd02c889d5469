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

#include "ledger/base/encoding.h"

namespace traceledger::projections {

class Key {
 public:
  Key() = default;
  explicit Key(std::string_view tag) { key_.append(tag); }
  // A string component, ended by 0x00.
  Key& Str(std::string_view component) {
    key_.append(component);
    key_.push_back('\0');
    return *this;
  }
  Key& U64(uint64_t value) {
    PutFixed64BigEndian(&key_, value);
    return *this;
  }
  Key& Time(int64_t micros) { return U64(static_cast<uint64_t>(micros) ^ (uint64_t{1} << 63)); }
  const std::string& str() const { return key_; }
  operator std::string_view() const { return key_; }  // NOLINT(google-explicit-constructor)

 private:
  std::string key_;
};

inline int64_t DecodeTime(std::string_view eight_bytes) {
  return static_cast<int64_t>(DecodeFixed64BigEndian(eight_bytes) ^ (uint64_t{1} << 63));
}

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_KEYS_H_
