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

TEST(KeyFilterTest, ExpectMakesTheNextSegmentLargeEnoughForTheKeysToCome) {
  // A catch-up that announces its keys gets one segment for them, not one per fourfold growth
  // (each segment is one more cache line a probe reads).
  KeyFilter filter;
  constexpr int kKeys = 3000000;
  filter.Expect(kKeys);
  for (int i = 0; i < kKeys; ++i) filter.Add(HashOf("h\x01urn:epc:id:sgtin:4012345.011111.", i));
  EXPECT_EQ(filter.segments(), 1u);
  EXPECT_EQ(filter.memory_bytes(), size_t{kKeys} * 2);  // 16 bits per key, as before
  int missing = 0;
  for (int i = 0; i < kKeys; ++i) {
    if (!filter.MayContain(HashOf("h\x01urn:epc:id:sgtin:4012345.011111.", i))) ++missing;
  }
  EXPECT_EQ(missing, 0);
  int false_positives = 0;
  constexpr int kOthers = 1000000;
  for (int i = 0; i < kOthers; ++i) {
    if (filter.MayContain(HashOf("h\x01urn:epc:id:sgtin:4012345.022222.", i))) ++false_positives;
  }
  EXPECT_LT(false_positives, kOthers / 200) << false_positives;  // one segment at capacity

  // Announced after some keys: the segments that exist fill first (64 K, then 256 K keys), and
  // the one started then holds the rest of the estimate (5.1 M - 320 K keys), not the growth
  // rule's 1 M.
  KeyFilter later;
  for (int i = 0; i < 100000; ++i) later.Add(HashOf("k", i));
  EXPECT_EQ(later.segments(), 2u);
  later.Expect(5000000);
  for (int i = 100000; i < 5100000; ++i) later.Add(HashOf("k", i));
  EXPECT_EQ(later.segments(), 3u);
  EXPECT_EQ(later.memory_bytes(), (size_t{65536} + 262144 + (5100000 - 65536 - 262144)) * 2);
  // The estimate was short and a new one says 4 M more: the next segment holds those, not four
  // times the last (19 M keys).
  later.Expect(4000000);
  for (int i = 5100000; i < 9100000; ++i) later.Add(HashOf("k", i));
  EXPECT_EQ(later.segments(), 4u);
  EXPECT_EQ(later.memory_bytes(), (size_t{65536} + 262144 + 4772320 + 4000000) * 2);
  // Past the estimate, the growth rule again: four times the last.
  later.Add(HashOf("k", 9100000));
  EXPECT_EQ(later.segments(), 5u);
  EXPECT_EQ(later.memory_bytes(), (size_t{65536} + 262144 + 4772320 + 5 * 4000000) * 2);
  int lost = 0;
  for (int i = 0; i <= 9100000; ++i) lost += later.MayContain(HashOf("k", i)) ? 0 : 1;
  EXPECT_EQ(lost, 0);
  // A small estimate makes a segment as large as the first; Clear forgets it.
  later.Clear();
  later.Expect(10);
  later.Add(HashOf("k", 0));
  EXPECT_EQ(later.memory_bytes(), size_t{65536} * 2);
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
