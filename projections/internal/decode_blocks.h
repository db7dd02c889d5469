// File: projections/internal/decode_blocks.h
//
// DecodeBlocks: the memory of the protobuf arenas a catch-up decodes its entries into
// (google::protobuf::ArenaOptions::block_alloc and block_dealloc). The blocks of a batch that
// was freed are kept and handed out again to the next batches' arenas, instead of going back to
// malloc, until Release (after a catch-up).
//
// Why: a catch-up decodes hundreds of MB per batch and frees them a batch later. Given back to
// malloc, much of that memory went back to the system in the meantime, and the next batch
// faulted it in again, zeroed by the kernel (and, in a virtual machine that reports free pages
// to its host, faulted in by the host too). 3 M events, at the same time as the same build
// without it: CPU of the build 21.2 against 21.7 us per entry, of the rebuild 19.9 against
// 20.9, system time 23.5 against 28.4 s, peak RSS 3.50 against 3.58 GB (docs/BENCHMARKS.md,
// "session 24").
//
// Only the arenas' usual block sizes are kept (kFirst, then each twice the one before, up to
// kLast); a block of another size (a message larger than kLast) is allocated and freed as
// usual. Memory kept is bounded by the most the arenas held at once (a catch-up: the batch
// being applied, the one being decoded and the one being freed).
//
// Thread-safe: blocks are taken by the threads decoding a batch and given back by the thread
// freeing it. Process-wide, since the arena's hooks take no context.
#ifndef TRACELEDGER_PROJECTIONS_INTERNAL_DECODE_BLOCKS_H_
#define TRACELEDGER_PROJECTIONS_INTERNAL_DECODE_BLOCKS_H_

#include <array>
#include <cstddef>
#include <mutex>
#include <new>
#include <vector>

namespace traceledger::projections {

class DecodeBlocks {
 public:
  static constexpr size_t kFirst = size_t{64} << 10;  // an arena's first block
  static constexpr size_t kLast = size_t{1} << 20;    // and its largest

  // A block of `size` bytes: a kept one if there is one of that size.
  static void* Allocate(size_t size) {
    const size_t index = IndexOf(size);
    if (index != kNone) {
      std::lock_guard<std::mutex> lock(mu_);
      std::vector<void*>& kept = kept_.blocks[index];
      if (!kept.empty()) {
        void* block = kept.back();
        kept.pop_back();
        return block;
      }
    }
    return ::operator new(size);
  }
  // Gives back a block Allocate returned (`size`: as asked for): kept if of a usual size.
  static void Free(void* block, size_t size) {
    const size_t index = IndexOf(size);
    if (index != kNone) {
      std::lock_guard<std::mutex> lock(mu_);
      kept_.blocks[index].push_back(block);
      return;
    }
    ::operator delete(block);
  }
  // Gives every kept block to malloc (blocks in use stay in use).
  static void Release() {
    Kept kept;
    {
      std::lock_guard<std::mutex> lock(mu_);
      kept.blocks.swap(kept_.blocks);
    }
  }
  // Bytes in kept blocks.
  static size_t kept_bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    size_t bytes = 0;
    for (size_t index = 0; index < kSizes; ++index) {
      bytes += kept_.blocks[index].size() * (kFirst << index);
    }
    return bytes;
  }

 private:
  static constexpr size_t kSizes = 5;  // kFirst << 0 .. kFirst << 4 == kLast
  static_assert((kFirst << (kSizes - 1)) == kLast);
  static constexpr size_t kNone = kSizes;
  static size_t IndexOf(size_t size) {
    for (size_t index = 0; index < kSizes; ++index) {
      if (size == kFirst << index) return index;
    }
    return kNone;
  }

  // Blocks by size; given to malloc when destroyed (Release, and at exit: blocks a catch-up
  // shorter than a batch left are not leaked).
  struct Kept {
    std::array<std::vector<void*>, kSizes> blocks;
    Kept() = default;
    Kept(const Kept&) = delete;
    Kept& operator=(const Kept&) = delete;
    ~Kept() {
      for (std::vector<void*>& sized : blocks) {
        for (void* block : sized) ::operator delete(block);
      }
    }
  };

  static inline std::mutex mu_;
  static inline Kept kept_;  // guarded by mu_
};

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_INTERNAL_DECODE_BLOCKS_H_
