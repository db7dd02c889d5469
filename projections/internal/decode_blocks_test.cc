#include "projections/internal/decode_blocks.h"

#include <google/protobuf/arena.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

namespace traceledger::projections {
namespace {

class DecodeBlocksTest : public ::testing::Test {
 protected:
  void SetUp() override { DecodeBlocks::Release(); }
  void TearDown() override { DecodeBlocks::Release(); }
};

TEST_F(DecodeBlocksTest, AFreedBlockIsHandedOutAgainForItsSizeOnly) {
  void* first = DecodeBlocks::Allocate(DecodeBlocks::kFirst);
  std::memset(first, 0x5a, DecodeBlocks::kFirst);  // all of it is usable
  DecodeBlocks::Free(first, DecodeBlocks::kFirst);
  EXPECT_EQ(DecodeBlocks::kept_bytes(), DecodeBlocks::kFirst);
  // Another size does not get it.
  void* larger = DecodeBlocks::Allocate(DecodeBlocks::kFirst * 2);
  EXPECT_NE(larger, first);
  EXPECT_EQ(DecodeBlocks::kept_bytes(), DecodeBlocks::kFirst);
  // Its own size does, once.
  EXPECT_EQ(DecodeBlocks::Allocate(DecodeBlocks::kFirst), first);
  EXPECT_EQ(DecodeBlocks::kept_bytes(), 0u);
  void* fresh = DecodeBlocks::Allocate(DecodeBlocks::kFirst);
  EXPECT_NE(fresh, first);
  DecodeBlocks::Free(first, DecodeBlocks::kFirst);
  DecodeBlocks::Free(fresh, DecodeBlocks::kFirst);
  DecodeBlocks::Free(larger, DecodeBlocks::kFirst * 2);
  EXPECT_EQ(DecodeBlocks::kept_bytes(), DecodeBlocks::kFirst * 4);
}

TEST_F(DecodeBlocksTest, BlocksOfOtherSizesAreNotKeptAndReleaseGivesBackTheKeptOnes) {
  for (const size_t size : {size_t{100}, DecodeBlocks::kLast + 1, DecodeBlocks::kLast * 2}) {
    void* block = DecodeBlocks::Allocate(size);
    std::memset(block, 0, size);
    DecodeBlocks::Free(block, size);
    EXPECT_EQ(DecodeBlocks::kept_bytes(), 0u) << size;
  }
  DecodeBlocks::Free(DecodeBlocks::Allocate(DecodeBlocks::kLast), DecodeBlocks::kLast);
  EXPECT_EQ(DecodeBlocks::kept_bytes(), DecodeBlocks::kLast);
  DecodeBlocks::Release();
  EXPECT_EQ(DecodeBlocks::kept_bytes(), 0u);
}

TEST_F(DecodeBlocksTest, AnArenaOfTheNextBatchReusesTheBlocksOfTheOneBefore) {
  // The runner's arenas: blocks from kFirst doubling to kLast, from DecodeBlocks.
  auto fill = [] {
    google::protobuf::ArenaOptions options;
    options.start_block_size = DecodeBlocks::kFirst;
    options.max_block_size = DecodeBlocks::kLast;
    options.block_alloc = &DecodeBlocks::Allocate;
    options.block_dealloc = &DecodeBlocks::Free;
    auto arena = std::make_unique<google::protobuf::Arena>(options);
    for (int i = 0; i < 3000; ++i) {
      char* bytes = google::protobuf::Arena::CreateArray<char>(arena.get(), 1000);
      std::memset(bytes, i & 0xff, 1000);
    }
    return arena;
  };
  auto batch = fill();
  const size_t space = batch->SpaceAllocated();
  EXPECT_GE(space, 3000u * 1000);
  EXPECT_EQ(DecodeBlocks::kept_bytes(), 0u);
  batch.reset();
  EXPECT_EQ(DecodeBlocks::kept_bytes(), space);  // every block kept
  auto next = fill();
  EXPECT_EQ(next->SpaceAllocated(), space);
  EXPECT_EQ(DecodeBlocks::kept_bytes(), 0u);  // and every one handed out again
}

}  // namespace
}  // namespace traceledger::projections
