#include "projections/internal/key_filter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "projections/internal/pending_rows.h"

namespace traceledger::projections {
namespace {

uint64_t HashOf(const std::string& prefix, int i) {
  return PendingRows::HashKey(prefix + std::to_string(i));
}

TEST(KeyFilterTest, AnEmptyFilterHoldsNothing) {
  KeyFilter filter;
  EXPECT_FALSE(filter.MayContain(HashOf("k", 1)));
  EXPECT_EQ(filter.size(), 0u);
  EXPECT_EQ(filter.memory_bytes(), 0u);
}

TEST(KeyFilterTest, EveryKeyAddedIsFoundAcrossSegmentsAndFewOthersAre) {
  // 3 M keys fill the first segments (64 K, 256 K, 1 M, 4 M keys): every key added must be
  // found, whichever segment holds it; keys never added are found rarely (false positives).
  KeyFilter filter;
  constexpr int kKeys = 3000000;
  for (int i = 0; i < kKeys; ++i) filter.Add(HashOf("urn:epc:id:sgtin:9521101.000001.", i));
  EXPECT_EQ(filter.size(), static_cast<size_t>(kKeys));
  int missing = 0;
  for (int i = 0; i < kKeys; ++i) {
    if (!filter.MayContain(HashOf("urn:epc:id:sgtin:9521101.000001.", i))) ++missing;
  }
  EXPECT_EQ(missing, 0);
  int false_positives = 0;
  constexpr int kOthers = 1000000;
  for (int i = 0; i < kOthers; ++i) {
    if (filter.MayContain(HashOf("urn:epc:id:sgtin:9521101.000002.", i))) ++false_positives;
  }
  // 16 bits per key at a segment's capacity: a few per thousand over four segments.
  EXPECT_LT(false_positives, kOthers / 100) << false_positives;
  // 2 bytes per key of capacity, 5.3 M keys of capacity for 3 M keys.
  EXPECT_EQ(filter.memory_bytes(), (size_t{65536} + 262144 + 1048576 + 4194304) * 2);
}

TEST(KeyFilterTest, AddAllIsAddOfEachHashAcrossSegments) {
  // Batches of uneven sizes, the first and second segments filling in the middle of one (64 K
  // and 256 K keys): the filter is the one Add builds (same segments, same answers for keys
  // added and for others).
  KeyFilter one_by_one;
  KeyFilter batched;
  int next = 0;
  for (const int count : {3, 70000, 1, 270000, 17}) {
    std::vector<uint64_t> hashes;
    for (int i = 0; i < count; ++i, ++next) {
      hashes.push_back(HashOf("o\x01urn:epc:class:lgtin:4012345.012345.", next));
      one_by_one.Add(hashes.back());
    }
    batched.AddAll(hashes);
  }
  EXPECT_EQ(batched.size(), one_by_one.size());
  EXPECT_EQ(batched.memory_bytes(), one_by_one.memory_bytes());
  EXPECT_EQ(batched.memory_bytes(), (size_t{65536} + 262144 + 1048576) * 2);
  for (int i = 0; i < next; ++i) {
    ASSERT_TRUE(batched.MayContain(HashOf("o\x01urn:epc:class:lgtin:4012345.012345.", i))) << i;
  }
  int differing = 0;
  for (int i = 0; i < 200000; ++i) {
    const uint64_t other = HashOf("never added ", i);
    differing += batched.MayContain(other) != one_by_one.MayContain(other) ? 1 : 0;
  }
  EXPECT_EQ(differing, 0);
}

TEST(KeyFilterTest, ClearForgetsEveryKey) {
  KeyFilter filter;
  for (int i = 0; i < 100000; ++i) filter.Add(HashOf("k", i));
  filter.Clear();
  EXPECT_EQ(filter.size(), 0u);
  int found = 0;
  for (int i = 0; i < 100000; ++i) found += filter.MayContain(HashOf("k", i)) ? 1 : 0;
  EXPECT_EQ(found, 0);
  filter.Add(HashOf("k", 7));
  EXPECT_TRUE(filter.MayContain(HashOf("k", 7)));
}

}  // namespace
}  // namespace traceledger::projections
