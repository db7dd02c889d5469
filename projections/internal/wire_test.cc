#include "projections/internal/wire.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "projections/projection.h"
#include "tl/v1/view_chain.pb.h"

namespace traceledger::projections::wire {
namespace {

// Every field ForEachField visits, as "field:wire type:value".
std::vector<std::string> Fields(std::string_view value, bool* well_formed) {
  std::vector<std::string> out;
  *well_formed = ForEachField(
      value,
      [&](uint32_t field, uint64_t number) {
        out.push_back(std::to_string(field) + ":v:" + std::to_string(number));
      },
      [&](uint32_t field, uint64_t bits) {
        out.push_back(std::to_string(field) + ":64:" + std::to_string(bits));
      },
      [&](uint32_t field, std::string_view bytes) {
        out.push_back(std::to_string(field) + ":s:" + std::string(bytes));
      },
      [&](uint32_t field, uint32_t bits) {
        out.push_back(std::to_string(field) + ":32:" + std::to_string(bits));
      });
  return out;
}

// Appends what `write` writes, checking it writes the `size` bytes it was sized for.
template <typename Write>
void Append(std::string* out, size_t size, Write&& write) {
  const size_t at = out->size();
  out->resize(at + size);
  EXPECT_EQ(write(out->data() + at), out->data() + out->size());
}

TEST(WireTest, WritesAsProtobufAndWalksWhatProtobufWrote) {
  v1::GenealogyEdge edge;  // varints (one negative), a double, strings, an enum
  edge.set_from("a");
  edge.set_quantity(2.5);
  edge.set_sequence(300);
  edge.set_time_unix_micros(-5);
  edge.set_uom(std::string(200, 'k'));  // a two-byte length
  edge.set_to_kind(v1::NODE_KIND_PARTY);
  std::string written;
  // Walked, then written back by the appenders (the double by hand): protobuf's bytes.
  const std::string bytes = DeterministicBytes(edge);
  bool well_formed = false;
  const std::vector<std::string> fields = Fields(bytes, &well_formed);
  ASSERT_TRUE(well_formed);
  for (const std::string& field : fields) {
    const uint32_t number = static_cast<uint32_t>(std::stoul(field));
    if (field.find(":v:") != std::string::npos) {
      const uint64_t value = std::stoull(field.substr(field.rfind(':') + 1));
      Append(&written, VarintFieldSize(number, value),
             [&](char* p) { return WriteVarintField(number, value, p); });
    } else if (field.find(":s:") != std::string::npos) {
      const std::string value = field.substr(field.find(":s:") + 3);
      Append(&written, BytesFieldSize(number, value),
             [&](char* p) { return WriteBytesField(number, value, p); });
    } else {
      const uint64_t bits = std::stoull(field.substr(field.rfind(':') + 1));
      double real;
      std::memcpy(&real, &bits, sizeof real);
      Append(&written, DoubleFieldSize(number, real),
             [&](char* p) { return WriteDoubleField(number, real, p); });
    }
  }
  EXPECT_EQ(written, bytes);
  EXPECT_EQ(fields.size(), 6u);
  // Defaults are not written (-0.0 is: its bits are not 0).
  EXPECT_EQ(VarintFieldSize(3, 0), 0u);
  EXPECT_EQ(BytesFieldSize(4, ""), 0u);
  EXPECT_EQ(DoubleFieldSize(5, 0.0), 0u);
  EXPECT_EQ(DoubleFieldSize(5, -0.0), 9u);
}

TEST(WireTest, MalformedValuesAreRefused) {
  bool well_formed = true;
  Fields(std::string("\x0a\x05" "ab", 4), &well_formed);  // a length past the end
  EXPECT_FALSE(well_formed);
  Fields(std::string("\x00\x01", 2), &well_formed);  // field 0
  EXPECT_FALSE(well_formed);
  Fields(std::string("\x08\x80", 2), &well_formed);  // a varint cut short
  EXPECT_FALSE(well_formed);
  Fields(std::string("\x08") + std::string(10, '\x80') + std::string("\x01"), &well_formed);
  EXPECT_FALSE(well_formed);  // a varint of 11 bytes
  Fields(std::string("\x0b\x0c", 2), &well_formed);  // a group
  EXPECT_FALSE(well_formed);
  Fields(std::string("\x09\x01\x02", 3), &well_formed);  // 64 bits cut short
  EXPECT_FALSE(well_formed);
  Fields(std::string("\x0d\x01\x02\x03", 4), &well_formed);  // 32 bits cut short
  EXPECT_FALSE(well_formed);
  const std::vector<std::string> fixed32 =
      Fields(std::string("\x0d\x01\x00\x00\x00", 5), &well_formed);
  EXPECT_TRUE(well_formed);
  EXPECT_EQ(fixed32, std::vector<std::string>{"1:32:1"});
  // Little-endian: the last byte is the most significant.
  const std::vector<std::string> high =
      Fields(std::string("\x0d\x00\x00\x00\x01", 5), &well_formed);
  EXPECT_TRUE(well_formed);
  EXPECT_EQ(high, std::vector<std::string>{"1:32:16777216"});
}

}  // namespace
}  // namespace traceledger::projections::wire
