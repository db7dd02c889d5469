// File: projections/internal/wire.h
//
// Protobuf's wire format by hand, for the few rows a catch-up reads or writes so often that
// protobuf's generated code was a large share of its work: a walker over a message's fields
// (reading a row as a view, without building the message), and writers that write fields as
// proto3's serializer does (a field at its default value is not written), so that a
// hand-written encoder gives the very bytes DeterministicBytes would (tested for every codec).
#ifndef TRACELEDGER_PROJECTIONS_INTERNAL_WIRE_H_
#define TRACELEDGER_PROJECTIONS_INTERNAL_WIRE_H_

#include <cstdint>
#include <cstring>
#include <string_view>

namespace traceledger::projections::wire {

// Wire types: varint, 64-bit, length-delimited, 32-bit.
enum : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// Reads a varint at `*p` (before `end`) into `*number` and moves `*p` past it; false if it is
// cut short or longer than 10 bytes.
inline bool ReadVarint(const char** p, const char* end, uint64_t* number) {
  uint64_t result = 0;
  for (int shift = 0; shift < 70 && *p < end; shift += 7) {
    const auto byte = static_cast<uint8_t>(*(*p)++);
    result |= uint64_t{byte & 0x7fu} << shift;
    if (byte < 0x80) {
      *number = result;
      return true;
    }
  }
  return false;
}

// Reads a little-endian fixed-width field of `bytes` (8 or 4) at `*p` (before `end`) into
// `*bits` and moves `*p` past it; false if it is cut short.
inline bool ReadFixed(const char** p, const char* end, int bytes, uint64_t* bits) {
  if (end - *p < bytes) return false;
  uint64_t result = 0;
  for (int i = bytes - 1; i >= 0; --i) result = (result << 8) | static_cast<uint8_t>((*p)[i]);
  *p += bytes;
  *bits = result;
  return true;
}

// Calls on_varint(field, number), on_fixed64(field, bits), on_bytes(field, bytes) and
// on_fixed32(field, bits) for the fields of protobuf wire-format `value`, in order. False if
// the value is not well-formed: a tag of field 0 or cut short, a group, a length past the end.
template <typename OnVarint, typename OnFixed64, typename OnBytes, typename OnFixed32>
bool ForEachField(std::string_view value, OnVarint&& on_varint, OnFixed64&& on_fixed64,
                  OnBytes&& on_bytes, OnFixed32&& on_fixed32) {
  const char* p = value.data();
  const char* const end = p + value.size();
  while (p < end) {
    uint64_t tag = 0;
    if (!ReadVarint(&p, end, &tag) || tag > UINT32_MAX || (tag >> 3) == 0) return false;
    const auto field = static_cast<uint32_t>(tag >> 3);
    switch (tag & 7) {
      case kVarint: {
        uint64_t number = 0;
        if (!ReadVarint(&p, end, &number)) return false;
        on_varint(field, number);
        break;
      }
      case kFixed64: {
        uint64_t bits = 0;
        if (!ReadFixed(&p, end, 8, &bits)) return false;
        on_fixed64(field, bits);
        break;
      }
      case kLengthDelimited: {
        uint64_t size = 0;
        if (!ReadVarint(&p, end, &size) || size > static_cast<uint64_t>(end - p)) return false;
        on_bytes(field, std::string_view(p, static_cast<size_t>(size)));
        p += size;
        break;
      }
      case kFixed32: {
        uint64_t bits = 0;
        if (!ReadFixed(&p, end, 4, &bits)) return false;
        on_fixed32(field, static_cast<uint32_t>(bits));
        break;
      }
      default:
        return false;  // groups (deprecated) or no wire type at all
    }
  }
  return true;
}

// ForEachField, skipping 32-bit fields.
template <typename OnVarint, typename OnFixed64, typename OnBytes>
bool ForEachField(std::string_view value, OnVarint&& on_varint, OnFixed64&& on_fixed64,
                  OnBytes&& on_bytes) {
  return ForEachField(value, on_varint, on_fixed64, on_bytes, [](uint32_t, uint32_t) {});
}

// Writers: each writes at `p` and returns the end of what it wrote; the caller sizes the
// buffer first with the *Size functions (appending field by field to a std::string cost more
// than the encoding).

inline size_t VarintSize(uint64_t number) {
  size_t size = 1;
  while (number >= 0x80) {
    number >>= 7;
    ++size;
  }
  return size;
}

inline char* WriteVarint(uint64_t number, char* p) {
  while (number >= 0x80) {
    *p++ = static_cast<char>((number & 0x7f) | 0x80);
    number >>= 7;
  }
  *p++ = static_cast<char>(number);
  return p;
}

inline char* WriteTag(uint32_t field, uint32_t wire_type, char* p) {
  return WriteVarint((uint64_t{field} << 3) | wire_type, p);
}

// A varint field (integers, bools, enums: negative numbers as their 64-bit two's complement, as
// protobuf writes int32, int64 and enums), unless 0.
inline size_t VarintFieldSize(uint32_t field, uint64_t number) {
  return number == 0 ? 0 : VarintSize(uint64_t{field} << 3) + VarintSize(number);
}
inline char* WriteVarintField(uint32_t field, uint64_t number, char* p) {
  if (number == 0) return p;
  return WriteVarint(number, WriteTag(field, kVarint, p));
}

// A string or bytes field, unless empty.
inline size_t BytesFieldSize(uint32_t field, std::string_view bytes) {
  return bytes.empty() ? 0
                       : VarintSize(uint64_t{field} << 3) + VarintSize(bytes.size()) + bytes.size();
}
inline char* WriteBytesField(uint32_t field, std::string_view bytes, char* p) {
  if (bytes.empty()) return p;
  p = WriteVarint(bytes.size(), WriteTag(field, kLengthDelimited, p));
  std::memcpy(p, bytes.data(), bytes.size());
  return p + bytes.size();
}

// A double field, unless its bits are all 0 (protobuf writes -0.0).
inline uint64_t DoubleBits(double number) {
  uint64_t bits;
  std::memcpy(&bits, &number, sizeof bits);
  return bits;
}
// The double a 64-bit field's bits stand for (the walker's on_fixed64 gives bits).
inline double DoubleOfBits(uint64_t bits) {
  double number;
  std::memcpy(&number, &bits, sizeof number);
  return number;
}
inline size_t DoubleFieldSize(uint32_t field, double number) {
  return DoubleBits(number) == 0 ? 0 : VarintSize(uint64_t{field} << 3) + 8;
}
inline char* WriteDoubleField(uint32_t field, double number, char* p) {
  const uint64_t bits = DoubleBits(number);
  if (bits == 0) return p;
  p = WriteTag(field, kFixed64, p);
  for (int i = 0; i < 8; ++i) *p++ = static_cast<char>(bits >> (8 * i));
  return p;
}

// A message field of `size` bytes (present: written even if empty): its head, then its fields.
inline size_t MessageFieldSize(uint32_t field, size_t size) {
  return VarintSize(uint64_t{field} << 3) + VarintSize(size) + size;
}
inline char* WriteMessageHead(uint32_t field, size_t size, char* p) {
  return WriteVarint(size, WriteTag(field, kLengthDelimited, p));
}

}  // namespace traceledger::projections::wire

#endif  // TRACELEDGER_PROJECTIONS_INTERNAL_WIRE_H_
