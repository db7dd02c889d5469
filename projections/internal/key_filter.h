// File: projections/internal/key_filter.h
//
// KeyFilter: a Bloom filter of 64-bit key hashes (PendingRows::HashKey) that grows with the
// keys added to it. MayContain(h) is false only if h was never added: the runner adds the hash
// of every row it writes to a view that it has seen empty, so "not in the filter" means "not
// in the database" and the read need not go there (ViewReader::KnownRows::stored_keys).
//
// Why: while a batch is applied, 95 % of the point reads that reach the views database find
// nothing (a first holding of a lot at a party, a serial's first event, a lot that is no
// serial), and so do 95 % of the prefix scans (the contents of an object that is no
// container): counted over a 1 M-event build and rebuild, 4.9 M reads found nothing and 0.24 M
// found a row. Each such read looks at the filter of every level-0 file and level of the view
// (up to ~20), a quarter of applying a batch; this filter answers it with one cache line per
// segment.
//
// Layout: segments of 64-byte blocks (a blocked Bloom filter: the 6 bits of a key are all in
// one block, so a probe touches one cache line per segment), 16 bits per key at a segment's
// capacity (under 1 % false positives over four segments: key_filter_test). A segment that is
// full is kept and a new one four times as large is started, so a filter never needs its keys
// again to grow; a probe looks at every segment (6 hold up to 89 M keys), each a cache miss.
// A caller that knows roughly how many keys are coming (a catch-up: about as many per batch as
// the batch before) says so with Expect, and the next segment is made large enough for all of
// them at once: a catch-up's filter grows in one step, not fourfold segment after segment.
//
// Thread-compatible.
#ifndef TRACELEDGER_PROJECTIONS_INTERNAL_KEY_FILTER_H_
#define TRACELEDGER_PROJECTIONS_INTERNAL_KEY_FILTER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace traceledger::projections {

class KeyFilter {
 public:
  // About `keys` more keys are coming (added after those added so far): a segment started
  // before they are all in is made large enough for the rest of them (at least as large as the
  // first), whatever the growth rule would make it. A later call replaces the estimate.
  void Expect(size_t keys) { expected_until_ = size_ + keys; }

  void Add(uint64_t hash) {
    if (segments_.empty() || segments_.back().count >= segments_.back().capacity) {
      // Sized for the keys still expected, if any (not the growth rule's: a segment that fills
      // a little before a long catch-up's end would make the next four times as large).
      size_t capacity = segments_.empty() ? kFirstCapacity : segments_.back().capacity * kGrowth;
      if (expected_until_ > size_) capacity = std::max(kFirstCapacity, expected_until_ - size_);
      capacity = (capacity + kKeysPerBlock - 1) / kKeysPerBlock * kKeysPerBlock;
      Segment& added = segments_.emplace_back();
      added.capacity = capacity;
      added.blocks.resize(capacity * kBitsPerKey / kBlockBits);
    }
    Segment& segment = segments_.back();
    Block& block = segment.blocks[BlockIndex(hash, segment.blocks.size())];
    const uint64_t bits = BitSource(hash);
    for (int i = 0; i < kProbes; ++i) {
      const unsigned bit = Bit(bits, i);
      block.words[bit >> 6] |= uint64_t{1} << (bit & 63);
    }
    ++segment.count;
    ++size_;
  }

  // Add of every hash in `hashes`, each one's block asked for a few hashes ahead so that the
  // cache misses overlap: a large view's filter is far larger than the cache, and adding a
  // batch's keys one by one, a miss each, was ~2.5 % of a catch-up's CPU (docs/BENCHMARKS.md,
  // "session 16").
  void AddAll(const std::vector<uint64_t>& hashes) {
    constexpr size_t kAhead = 8;
    for (size_t i = 0; i < hashes.size(); ++i) {
      if (i + kAhead < hashes.size() && !segments_.empty()) {
        const Segment& last = segments_.back();  // where the hash will go, unless it fills
        __builtin_prefetch(&last.blocks[BlockIndex(hashes[i + kAhead], last.blocks.size())], 1);
      }
      Add(hashes[i]);
    }
  }

  // Asks for the blocks MayContain(hash) reads, so that their cache misses overlap other work.
  void Prefetch(uint64_t hash) const {
    for (const Segment& segment : segments_) {
      __builtin_prefetch(&segment.blocks[BlockIndex(hash, segment.blocks.size())]);
    }
  }

  // False only if `hash` was never added.
  bool MayContain(uint64_t hash) const {
    const uint64_t bits = BitSource(hash);
    // Every segment's block is asked for before the first is looked at: their misses overlap.
    for (const Segment& segment : segments_) {
      __builtin_prefetch(&segment.blocks[BlockIndex(hash, segment.blocks.size())]);
    }
    for (const Segment& segment : segments_) {
      const Block& block = segment.blocks[BlockIndex(hash, segment.blocks.size())];
      bool all = true;
      for (int i = 0; i < kProbes && all; ++i) {
        const unsigned bit = Bit(bits, i);
        all = (block.words[bit >> 6] >> (bit & 63)) & 1;
      }
      if (all) return true;
    }
    return false;
  }

  // Forgets every key (and frees the memory).
  void Clear() {
    segments_.clear();
    size_ = 0;
    expected_until_ = 0;
  }

  // Keys added (a key added twice counts twice).
  size_t size() const { return size_; }
  size_t segments() const { return segments_.size(); }
  size_t memory_bytes() const {
    size_t bytes = 0;
    for (const Segment& segment : segments_) bytes += segment.blocks.size() * sizeof(Block);
    return bytes;
  }

 private:
  static constexpr size_t kFirstCapacity = size_t{1} << 16;  // keys; 128 KiB
  static constexpr size_t kGrowth = 4;
  static constexpr size_t kBitsPerKey = 16;
  static constexpr size_t kBlockBits = 512;
  static constexpr int kProbes = 6;
  static constexpr size_t kKeysPerBlock = kBlockBits / kBitsPerKey;

  struct alignas(64) Block {
    uint64_t words[kBlockBits / 64] = {};
  };
  struct Segment {
    std::vector<Block> blocks;
    size_t capacity = 0;  // keys
    size_t count = 0;     // keys added
  };

  // The block: the high half of the hash, scaled to the block count (no modulo).
  static size_t BlockIndex(uint64_t hash, size_t blocks) {
    return static_cast<size_t>(((hash >> 32) * blocks) >> 32);
  }
  // The bits within the block come from the hash multiplied by an odd constant (a bijection
  // whose high bits depend on every bit of the hash): 9 bits per probe from the top 54.
  static uint64_t BitSource(uint64_t hash) { return hash * 0x9e3779b97f4a7c15ULL; }
  static unsigned Bit(uint64_t bits, int probe) {
    return static_cast<unsigned>(bits >> (10 + 9 * probe)) & (kBlockBits - 1);
  }

  std::vector<Segment> segments_;
  size_t size_ = 0;
  size_t expected_until_ = 0;  // Expect: size_ once the expected keys are in
};

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_INTERNAL_KEY_FILTER_H_
