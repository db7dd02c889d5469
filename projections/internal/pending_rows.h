// File: projections/internal/pending_rows.h
//
// PendingRows: the rows one projection wrote while the runner applies one batch, held in
// memory until the batch is written. Reads of the view (ViewReader/ViewRows) see these first
// and the database under them, so a projection reads its own writes; the runner then writes
// them, in key order, with the cursor.
//
// Layout: each row is a small header followed by its key and then room for its value, all in
// an arena of 1 MiB blocks, found through one open-addressing hash table keyed by the whole key
// (linear probing, power-of-two capacity, at most half full). A slot is 8 bytes: where the row
// is (32 bits: the arena block and the offset in it, Arena::RowAt) and 32 bits of the key's
// hash, so a probe rarely compares a key it does not match. Why not a pointer: the tables are
// far larger than the cache and a probe is a miss; half the bytes per slot made 2.7 % fewer
// simulated last-level cache misses over a 100,000-event build and rebuild
// (docs/BENCHMARKS.md, "session 22"). A read or
// write is one hash, usually one probe and one key comparison, and touches two cache lines (the
// slot, and the row with its key). A value that grows gets new room in the arena; nothing is
// freed until Clear, which keeps the blocks for the next batch (the runner keeps one PendingRows
// per view): a catch-up neither allocates per row nor faults its rows' memory in again for
// every batch. Why: a batch of 100,000 entries holds ~700,000 rows whose keys share long
// prefixes ("o" 0x00 "urn:epc:id:sgtin:..."). The first layout (a hash map of first
// components, each an ordered map of its rows) spent ~30 % of applying a batch in that map and
// in long key comparisons; one flat table of std::string rows cut the 300,000-event bench's CPU
// by ~17 %; rows in the arena (no allocation per row and value, one cache line fewer per probe)
// took a few per cent more (docs/BENCHMARKS.md, "session 10").
//
// Key order is needed only by prefix scans (Under) and once per batch (ForEachInOrder), so
// it is not kept on every write. Each row is also linked into the group of its key's first
// component (FirstComponentPrefixLength: the tag and the object id, the unit every view scans
// by), or into the group of the keys without one. A group is sorted the first time it is
// scanned and after that only for the rows added since (sorted, then merged): most groups are
// never scanned while applying. When the batch is written, all its rows are put in order at
// once, by a radix sort of their keys (ForEachInOrder), not group by group.
//
// Rows never move once added: the rows Find and Under return stay valid until Clear, while
// rows are added or changed (MergedScan holds them while its visitor may write the view); a
// Put or Delete changes a row in place (a value that grows moves to new room, and the old
// bytes stay readable until Clear).
//
// Why not rocksdb::WriteBatchWithIndex: its skiplist index and base-delta iterators were the
// largest cost of applying entries before this (projections/README.md, "Performance").
//
// Thread-compatible: used by the runner thread applying the view only (the const functions
// sort groups, so they too must not run concurrently).
#ifndef TRACELEDGER_PROJECTIONS_INTERNAL_PENDING_ROWS_H_
#define TRACELEDGER_PROJECTIONS_INTERNAL_PENDING_ROWS_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/base/assert.h"
#include "projections/keys.h"

namespace traceledger::projections {

class PendingRows {
 public:
  // One row: its key and, unless this batch deleted it, its value. Rows live in the arena and
  // never move; the key is stored right after the row (one cache line for a probe's compare).
  class Row {
   public:
    std::string_view key() const {
      return std::string_view(reinterpret_cast<const char*>(this + 1), key_size_);
    }
    bool has_value() const { return has_value_; }
    // The value; empty if the row is deleted.
    std::string_view value() const {
      return has_value_ ? std::string_view(space_, value_size_) : std::string_view();
    }
    uint64_t key_hash() const { return hash_; }  // HashKey(key())

   private:
    friend class PendingRows;
    char* space_ = nullptr;        // room for the value: value_capacity_ bytes in the arena
    uint64_t hash_ = 0;            // of the key, to rehash without it
    uint32_t key_size_ = 0;
    uint32_t value_size_ = 0;
    uint32_t value_capacity_ = 0;
    bool has_value_ = false;
  };

  PendingRows() = default;
  PendingRows(const PendingRows&) = delete;
  PendingRows& operator=(const PendingRows&) = delete;

  // A 64-bit hash of `key` (wyhash's mixing): the long shared prefixes of the keys get through
  // it 16 bytes per multiplication. Also what KeyFilter is given.
  static uint64_t HashKey(std::string_view key) {
    constexpr uint64_t kSecret0 = 0xa0761d6478bd642f;
    constexpr uint64_t kSecret1 = 0xe7037ed1a0b428db;
    const char* p = key.data();
    size_t n = key.size();
    uint64_t seed = kSecret0;
    for (; n > 16; p += 16, n -= 16) seed = Mix(Load64(p) ^ kSecret1, Load64(p + 8) ^ seed);
    uint64_t a = 0;
    uint64_t b = 0;
    if (n >= 8) {
      a = Load64(p);
      b = Load64(p + n - 8);
    } else if (n >= 4) {
      a = Load32(p);
      b = Load32(p + n - 4);
    } else if (n > 0) {
      a = (uint64_t{static_cast<unsigned char>(p[0])} << 16) |
          (uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) |
          uint64_t{static_cast<unsigned char>(p[n - 1])};
    }
    return Mix(kSecret1 ^ key.size(), Mix(a ^ kSecret1, b ^ seed));
  }

  // The pending row of `key`, or null if this batch did not touch it (a row without a value:
  // deleted in this batch). Valid until Clear.
  const Row* Find(std::string_view key) const { return Find(key, HashKey(key)); }
  // Find, given HashKey(key) (a reader looking in several PendingRows hashes once).
  const Row* Find(std::string_view key, uint64_t hash) const {
    if (size() == 0) return nullptr;
    // Bounded: the table is at most half full, so an empty slot ends the probe.
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot slot = slots_[i];
      if (slot.ref == kNoRef) return nullptr;
      if (slot.tag == Tag(hash)) {
        const Row* row = reinterpret_cast<const Row*>(arena_.RowAt(slot.ref));
        if (row->key() == key) return row;
      }
    }
  }
  // Asks for the slot a Find or Put of a key with this hash looks at first, so that its cache
  // miss overlaps other work (a reader looking in several tables asks for all their slots).
  void Prefetch(uint64_t hash) const {
    if (size() != 0) __builtin_prefetch(&slots_[hash & mask_]);
  }
  void Put(std::string_view key, std::string_view value) {
    char* space = PutUnwritten(key, value.size());
    // memmove: `value` may be (part of) this row's own value, in the room PutUnwritten reuses.
    if (!value.empty()) std::memmove(space, value.data(), value.size());
  }
  // Put of a value of `size` bytes that the caller then writes into the returned room, before
  // the next call on this object (a message serialized in place, without a copy). The room is
  // the row's own if the value fits, its old bytes still in it (so Put memmoves: its value may
  // be part of them); else new room, the old bytes left readable where they were.
  char* PutUnwritten(std::string_view key, size_t size) {
    Row& row = RowFor(key, size);
    if (size > row.value_capacity_) {
      // Grown: new room (the old stays, unused, until Clear; a scan may still be reading it).
      row.space_ = Allocate(size);
      row.value_capacity_ = Size32(size);
    }
    row.value_size_ = Size32(size);
    row.has_value_ = true;
    return row.space_;
  }
  void Delete(std::string_view key) {
    Row& row = RowFor(key, 0);
    row.has_value_ = false;
    row.value_size_ = 0;
  }

  // The rows whose key starts with `prefix`, in key order, into `out` (replacing its contents).
  // The rows stay valid until Clear.
  void Under(std::string_view prefix, std::vector<const Row*>* out) const {
    out->clear();
    const size_t length = FirstComponentPrefixLength(prefix);
    if (length > 0) {
      // Every key under the prefix has the same first component: one group.
      const std::string_view first_component = prefix.substr(0, length);
      const uint32_t group = FindGroup(first_component, HashKey(first_component));
      if (group == kEmpty) return;
      const std::vector<uint32_t>& rows = SortedRows(groups_[group]);
      auto it = std::lower_bound(rows.begin(), rows.end(), prefix,
                                 [&](uint32_t row, std::string_view p) { return Key(row) < p; });
      for (; it != rows.end() && StartsWith(Key(*it), prefix); ++it) out->push_back(rows_[*it]);
      return;
    }
    // A shorter prefix (a whole tag, say) may span groups: look at every row (rare: the views
    // scan by object).
    for (const Row* row : rows_) {
      if (StartsWith(row->key(), prefix)) out->push_back(row);
    }
    std::sort(out->begin(), out->end(),
              [](const Row* a, const Row* b) { return a->key() < b->key(); });
  }

  // Calls key(HashKey(k)) for every row k with a value, and prefix(HashKey(p)) for every first
  // component p (FirstComponentPrefixLength) of such a row's key, once each: what the batch
  // leaves in the database, for the view's KeyFilters.
  //
  // The rows are read in the order they were added, which is their order in the arena: a
  // group's rows are spread over it, and walking group by group cost a cache miss per row.
  template <typename KeyVisitor, typename PrefixVisitor>
  void ForEachStoredHash(KeyVisitor&& key, PrefixVisitor&& prefix) const {
    std::vector<bool> stored(groups_.size(), false);
    constexpr size_t kAhead = 8;  // rows asked for ahead of the one read
    for (uint32_t row = 0; row < rows_.size(); ++row) {
      if (row + kAhead < rows_.size()) __builtin_prefetch(rows_[row + kAhead]);
      if (!rows_[row]->has_value_) continue;
      key(rows_[row]->hash_);
      stored[group_of_[row]] = true;
    }
    for (uint32_t group = kFirstGroup; group < groups_.size(); ++group) {
      if (stored[group]) prefix(groups_[group].hash);
    }
  }

  // Calls visit(row) for every row, in key order.
  //
  // Why not a comparison sort of the rows: the rows are spread over the arena, so every
  // comparison of two keys cost two cache misses, and n log n of them were most of putting a
  // batch in order (it sorted the groups by first component, then each group). Instead the row
  // numbers are sorted by their keys' first 8 bytes (read once per row, a few rows ahead of the
  // one read, so that the misses overlap), then each run of rows with the same 8 bytes by the
  // next 8, and so on (a most-significant-digit radix sort with 8-byte digits and std::sort
  // per digit); runs of a few rows are sorted by comparing their keys.
  void ForEachInOrder(const std::function<void(const Row&)>& visit) const {
    if (size() == 0) return;
    std::vector<ByChunk> order(size());
    for (uint32_t row = 0; row < order.size(); ++row) {
      order[row] = ByChunk{0, row, rows_[row]->key_size_};
    }
    SortByKey(order.data(), order.data() + order.size(), 0);
    constexpr size_t kAhead = 8;  // rows asked for ahead of the one visited
    for (size_t i = 0; i < order.size(); ++i) {
      if (i + kAhead < order.size()) __builtin_prefetch(rows_[order[i + kAhead].row]);
      visit(*rows_[order[i].row]);
    }
  }

  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  // Forgets every row. Keeps the arena's blocks (up to what the batch used) for the next batch,
  // so a catch-up does not allocate and fault in its rows' memory again for every batch.
  void Clear() {
    const size_t used = size();
    rows_.clear();
    next_.clear();
    group_of_.clear();
    groups_.clear();
    group_slots_.clear();
    group_mask_ = 0;
    last_group_ = kEmpty;
    // The next batch is likely as large: a table that fits it, so it need not grow again. Its
    // size follows the batch just applied, so clearing costs what that batch did (a small
    // batch following the head does not pay for the table of a large one before it).
    size_t slot_count = kMinSlots;
    while (slot_count < used * 2 + 2) slot_count *= 2;
    slots_.assign(slot_count, Slot());
    mask_ = slot_count - 1;
    arena_.Reset();
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;  // no row; no group
  static constexpr uint32_t kNoRef = UINT32_MAX;  // an empty slot
  static constexpr uint32_t kMaxRows = UINT32_MAX - 1;
  static constexpr size_t kMinSlots = 64;
  static constexpr uint32_t kUngrouped = 0;  // groups_[0]: the keys without a first component
  static constexpr uint32_t kFirstGroup = 1;

  // A row and the high half of its key's hash.
  struct Slot {
    uint32_t ref = kNoRef;  // Arena::RowAt
    uint32_t tag = 0;
  };
  // A group (first component) and the high half of its hash.
  struct GroupSlot {
    uint32_t index = kEmpty;
    uint32_t tag = 0;
  };
  // The rows of one first component (or of the keys without one): a list through next_, so
  // that adding a row allocates nothing, and a sorted copy made only when scanned.
  struct Group {
    std::string_view first_component;  // the first row's (rows never move)
    uint64_t hash = 0;                 // of first_component
    uint32_t first = kEmpty;           // row
    uint32_t last = kEmpty;            // row
    uint32_t size = 0;                 // rows
    std::vector<uint32_t> sorted;      // the list up to sorted_through, in key order
    uint32_t sorted_through = kEmpty;  // row
  };

  // Memory for rows and values: large blocks handed out in order, kept across Clear. Nothing is
  // freed on its own; a value that grows gets new room.
  class Arena {
   public:
    // Allocate, for a row: also sets `*ref` to a 32-bit number RowAt turns back into the
    // address (the table's slots hold that, not a pointer: half the size).
    char* AllocateRow(size_t bytes, uint32_t* ref) {
      size_t base = 0;
      char* at = Allocate(bytes, &base);
      const size_t offset = static_cast<size_t>(at - bases_[base]);
      TL_ASSERT(base < kMaxBases && offset % 8 == 0 && offset < kBlockBytes);
      *ref = static_cast<uint32_t>(base << kOffsetBits | offset >> 3);
      return at;
    }
    char* RowAt(uint32_t ref) const {
      return bases_[ref >> kOffsetBits] + (size_t{ref & ((uint32_t{1} << kOffsetBits) - 1)} << 3);
    }
    // `*base`, if given, is set to the bases_ index of the block the bytes are in.
    char* Allocate(size_t bytes, size_t* base = nullptr) {
      bytes = (bytes + 7) & ~size_t{7};  // rows are 8-aligned
      if (bytes > kBlockBytes / 4) {
        // Larger than a quarter block: a block of its own, freed by Reset.
        char* large = large_.emplace_back(std::make_unique<char[]>(bytes)).get();
        if (base != nullptr) *base = bases_.size();
        bases_.push_back(large);
        return large;
      }
      if (blocks_.empty() || bytes > kBlockBytes - used_) {
        if (current_ + 1 < blocks_.size()) {
          ++current_;
        } else {
          blocks_.push_back(std::make_unique<char[]>(kBlockBytes));
          current_ = blocks_.size() - 1;
        }
        used_ = 0;
        current_base_ = bases_.size();
        bases_.push_back(blocks_[current_].get());
      }
      char* at = blocks_[current_].get() + used_;
      used_ += bytes;
      if (base != nullptr) *base = current_base_;
      return at;
    }
    void Reset() {
      // Keeps the blocks this batch used (a bound on what the next one needs), frees the rest.
      if (!blocks_.empty()) blocks_.resize(current_ + 1);
      current_ = 0;
      used_ = 0;
      large_.clear();
      bases_.clear();
      // The block kept at blocks_[0] is handed out again first: it is the first base again.
      current_base_ = 0;
      if (!blocks_.empty()) bases_.push_back(blocks_[0].get());
    }

   private:
    static constexpr size_t kBlockBytes = size_t{1} << 20;
    static constexpr uint32_t kOffsetBits = 17;  // 8-byte units in a block
    static constexpr size_t kMaxBases = (size_t{1} << (32 - kOffsetBits)) - 1;  // kNoRef: none
    std::vector<char*> bases_;  // blocks and large allocations of this batch, as handed out
    size_t current_base_ = 0;   // bases_ index of blocks_[current_]
    std::vector<std::unique_ptr<char[]>> blocks_;  // blocks_[current_] is being filled
    size_t current_ = 0;
    size_t used_ = 0;  // of blocks_[current_]
    std::vector<std::unique_ptr<char[]>> large_;
  };

  static bool StartsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
  }
  static uint32_t Tag(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }
  static uint32_t Size32(size_t size) {
    TL_ASSERT(size <= UINT32_MAX);
    return static_cast<uint32_t>(size);
  }

  static uint64_t Load64(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
  static uint64_t Load32(const char* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
  static uint64_t Mix(uint64_t a, uint64_t b) {
    __extension__ typedef unsigned __int128 Product;
    const Product product = static_cast<Product>(a) * b;
    return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
  }

  std::string_view Key(uint32_t row) const { return rows_[row]->key(); }
  char* Allocate(size_t bytes) { return arena_.Allocate(bytes); }

  // The row of `key`, added (deleted, with room for a value of `value_size` bytes right after
  // the key) if this batch did not touch it yet.
  Row& RowFor(std::string_view key, size_t value_size) {
    if ((size() + 1) * 2 > slots_.size()) Rehash(std::max(kMinSlots, slots_.size() * 2));
    const uint64_t hash = HashKey(key);
    // A new row also looks up its group: both slots are asked for now, so that their cache
    // misses (the tables hold hundreds of thousands of entries) overlap instead of following
    // each other. Hashing the first component is cheap next to a miss (a row that exists
    // pays for it and does not use it).
    const size_t length = FirstComponentPrefixLength(key);
    const uint64_t group_hash = length > 0 ? HashKey(key.substr(0, length)) : 0;
    __builtin_prefetch(&slots_[hash & mask_]);
    if (length > 0 && !group_slots_.empty()) {
      __builtin_prefetch(&group_slots_[group_hash & group_mask_]);
    }
    size_t i = hash & mask_;
    for (;; i = (i + 1) & mask_) {  // bounded: the table is at most half full
      const Slot slot = slots_[i];
      if (slot.ref == kNoRef) break;
      if (slot.tag == Tag(hash)) {
        Row* row = reinterpret_cast<Row*>(arena_.RowAt(slot.ref));
        if (row->key() == key) return *row;
      }
    }
    TL_ASSERT(size() < kMaxRows);
    const auto index = static_cast<uint32_t>(size());
    uint32_t ref = kNoRef;
    char* at = arena_.AllocateRow(sizeof(Row) + key.size() + value_size, &ref);
    Row* added = new (at) Row();
    std::memcpy(at + sizeof(Row), key.data(), key.size());
    added->space_ = at + sizeof(Row) + key.size();
    added->hash_ = hash;
    added->key_size_ = Size32(key.size());
    added->value_capacity_ = Size32(value_size);
    rows_.push_back(added);
    next_.push_back(kEmpty);
    slots_[i] = Slot{ref, Tag(hash)};
    AddToGroup(added->key().substr(0, length), group_hash, index);
    return *added;
  }
  void Rehash(size_t slot_count) {
    std::vector<Slot> old(slot_count, Slot());
    old.swap(slots_);
    mask_ = slot_count - 1;
    for (const Slot& slot : old) {
      if (slot.ref == kNoRef) continue;
      const uint64_t hash = reinterpret_cast<const Row*>(arena_.RowAt(slot.ref))->hash_;
      size_t i = hash & mask_;
      while (slots_[i].ref != kNoRef) i = (i + 1) & mask_;
      slots_[i] = slot;
    }
  }

  // Links `row` into the group of `first_component` (of hash `hash`; empty: the keys without
  // one).
  void AddToGroup(std::string_view first_component, uint64_t hash, uint32_t row) {
    if (groups_.empty()) groups_.emplace_back();  // kUngrouped
    uint32_t group = kUngrouped;
    if (!first_component.empty()) {
      // A projection writes one object's rows a few at a time: the group added to last is
      // checked first.
      if (last_group_ != kEmpty && groups_[last_group_].hash == hash &&
          groups_[last_group_].first_component == first_component) {
        group = last_group_;
      } else {
        group = FindGroup(first_component, hash);
        if (group == kEmpty) group = AddGroup(first_component, hash);
        last_group_ = group;
      }
    }
    group_of_.push_back(group);
    Group& to = groups_[group];
    if (to.last == kEmpty) {
      to.first = row;
    } else {
      next_[to.last] = row;
    }
    to.last = row;
    ++to.size;
  }
  uint32_t AddGroup(std::string_view first_component, uint64_t hash) {
    TL_ASSERT(groups_.size() < kMaxRows);
    const auto group = static_cast<uint32_t>(groups_.size());
    Group& added = groups_.emplace_back();
    added.first_component = first_component;
    added.hash = hash;
    if ((groups_.size() + 1) * 2 > group_slots_.size()) {
      RehashGroups(std::max(kMinSlots, group_slots_.size() * 2));  // places the new group
    } else {
      size_t i = hash & group_mask_;
      while (group_slots_[i].index != kEmpty) i = (i + 1) & group_mask_;
      group_slots_[i] = GroupSlot{group, Tag(hash)};
    }
    return group;
  }
  // The group of the keys whose first component is `first_component` (of hash `hash`); kEmpty
  // if there is none.
  uint32_t FindGroup(std::string_view first_component, uint64_t hash) const {
    if (group_slots_.empty()) return kEmpty;
    for (size_t i = hash & group_mask_;; i = (i + 1) & group_mask_) {  // at most half full
      const GroupSlot slot = group_slots_[i];
      if (slot.index == kEmpty) return kEmpty;
      if (slot.tag == Tag(hash) && groups_[slot.index].first_component == first_component) {
        return slot.index;
      }
    }
  }
  void RehashGroups(size_t slot_count) {
    group_slots_.assign(slot_count, GroupSlot());
    group_mask_ = slot_count - 1;
    for (uint32_t group = kFirstGroup; group < groups_.size(); ++group) {
      size_t i = groups_[group].hash & group_mask_;
      while (group_slots_[i].index != kEmpty) i = (i + 1) & group_mask_;
      group_slots_[i] = GroupSlot{group, Tag(groups_[group].hash)};
    }
  }
  // Keys of one group compared after the first component they share.
  auto LessInGroup(const Group& group) const {
    const size_t skip = group.first_component.size();
    return [this, skip](uint32_t a, uint32_t b) {
      return Key(a).substr(skip) < Key(b).substr(skip);
    };
  }
  // The group's rows in key order, kept for the next scans: the rows added since it was last
  // sorted are sorted, then merged with the others.
  const std::vector<uint32_t>& SortedRows(Group& group) const {
    std::vector<uint32_t>& sorted = group.sorted;
    if (sorted.size() == group.size) return sorted;
    const size_t old_size = sorted.size();
    // The list is in insertion order: the rows not sorted yet follow the last one that was.
    uint32_t row = group.sorted_through == kEmpty ? group.first : next_[group.sorted_through];
    for (; row != kEmpty; row = next_[row]) sorted.push_back(row);
    group.sorted_through = group.last;
    TL_ASSERT(sorted.size() == group.size);
    const auto middle = sorted.begin() + static_cast<std::ptrdiff_t>(old_size);
    std::sort(middle, sorted.end(), LessInGroup(group));
    std::inplace_merge(sorted.begin(), middle, sorted.end(), LessInGroup(group));
    return sorted;
  }
  // A row to be put in key order, and 8 bytes of its key read as a big-endian number.
  struct ByChunk {
    uint64_t chunk;
    uint32_t row;
    uint32_t key_size;
  };
  // The key bytes [offset, offset + 8) as a big-endian number, zeros past the key's end.
  static uint64_t ChunkAt(std::string_view key, size_t offset) {
    unsigned char bytes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (offset < key.size()) {
      std::memcpy(bytes, key.data() + offset, std::min<size_t>(8, key.size() - offset));
    }
    uint64_t chunk;
    std::memcpy(&chunk, bytes, sizeof chunk);
    return __builtin_bswap64(chunk);
  }
  // The length of the prefix `a` and `b` share, given that they share their first `from` bytes
  // and are at least `limit` bytes long (at most `limit`).
  static size_t CommonPrefix(std::string_view a, std::string_view b, size_t from, size_t limit) {
    size_t n = from;
    for (; n + 8 <= limit; n += 8) {
      if (Load64(a.data() + n) != Load64(b.data() + n)) break;
    }
    while (n < limit && a[n] == b[n]) ++n;
    return n;
  }
  // Puts [begin, end) in key order, given that their keys agree on their first `offset` bytes
  // and are longer than that.
  void SortByKey(ByChunk* begin, ByChunk* end, size_t offset) const {
    constexpr ptrdiff_t kFew = 16;  // runs this short are sorted by comparing keys
    if (end - begin <= kFew) {
      for (ByChunk* it = begin; it != end; ++it) __builtin_prefetch(rows_[it->row]);
      std::sort(begin, end, [&](const ByChunk& a, const ByChunk& b) {
        return Key(a.row).substr(offset) < Key(b.row).substr(offset);
      });
      return;
    }
    constexpr ptrdiff_t kAhead = 8;  // rows asked for ahead of the one read
    // While reading the keys, also how many bytes all of them share with the first (at least
    // `offset`): keys with long common prefixes ("o" 0x00 "urn:epc:id:sgtin:...") would take
    // a pass over the run for every 8 of them.
    const std::string_view first = Key(begin->row);
    size_t common = first.size();
    for (ByChunk* it = begin; it != end; ++it) {
      if (end - it > kAhead) __builtin_prefetch(rows_[it[kAhead].row]);
      const std::string_view key = Key(it->row);
      it->chunk = ChunkAt(key, offset);
      common = CommonPrefix(first, key, offset, std::min(common, key.size()));
    }
    if (common >= offset + 8) {
      // The keys agree on their next `common - offset` bytes: sort by the bytes after them.
      // A key that ends there is the prefix of every other (at most one: keys are unique).
      ByChunk* longer = std::partition(
          begin, end, [&](const ByChunk& c) { return c.key_size <= common; });
      SortByKey(longer, end, common);
      return;
    }
    SortByChunk(begin, end);
    for (ByChunk* run = begin; run != end;) {
      ByChunk* run_end = run + 1;
      while (run_end != end && run_end->chunk == run->chunk) ++run_end;
      if (run_end - run > 1) {
        // Keys that end within these 8 bytes (their zeros past the end equal to the others'
        // bytes) are prefixes of the longer ones: they come first, the shorter first.
        ByChunk* longer = std::partition(
            run, run_end, [&](const ByChunk& c) { return c.key_size <= offset + 8; });
        std::sort(run, longer,
                  [](const ByChunk& a, const ByChunk& b) { return a.key_size < b.key_size; });
        if (run_end - longer > 1) SortByKey(longer, run_end, offset + 8);
      }
      run = run_end;
    }
  }

  // Orders [begin, end) by chunk: a run this long by a least-significant-digit radix sort of
  // the chunks' bytes, skipping the bytes they all share (a batch's keys differ in a few of
  // each 8), a shorter one by std::sort. Why: std::sort's comparisons were most of putting
  // a batch in order (~8 % of the instructions of applying it; docs/BENCHMARKS.md, "session
  // 18").
  void SortByChunk(ByChunk* begin, ByChunk* end) const {
    constexpr ptrdiff_t kRadixMin = 256;
    const auto n = static_cast<size_t>(end - begin);
    if (end - begin < kRadixMin) {
      std::sort(begin, end, [](const ByChunk& a, const ByChunk& b) { return a.chunk < b.chunk; });
      return;
    }
    // counts[d][b]: chunks whose byte d (from the least significant) is b.
    std::vector<std::array<uint32_t, 256>> counts(8);
    for (const ByChunk* it = begin; it != end; ++it) {
      for (size_t d = 0; d < 8; ++d) ++counts[d][(it->chunk >> (8 * d)) & 0xff];
    }
    radix_scratch_.resize(n);
    ByChunk* from = begin;
    ByChunk* to = radix_scratch_.data();
    for (size_t d = 0; d < 8; ++d) {
      std::array<uint32_t, 256>& count = counts[d];
      if (count[(begin->chunk >> (8 * d)) & 0xff] == n) continue;  // every chunk has that byte
      uint32_t offset = 0;
      for (uint32_t& bucket : count) offset += std::exchange(bucket, offset);
      for (const ByChunk* it = from; it != from + n; ++it) {
        to[count[(it->chunk >> (8 * d)) & 0xff]++] = *it;
      }
      std::swap(from, to);
    }
    if (from != begin) std::copy(from, from + n, begin);
  }

  Arena arena_;                        // the rows, their keys and values
  std::vector<Row*> rows_;             // in insertion order; the index names a row
  // next_[row]: the next row of its group, in insertion order; kEmpty after the last. Apart
  // from the rows, so that linking a row and walking a group read no row.
  std::vector<uint32_t> next_;
  std::vector<uint32_t> group_of_;     // group_of_[row]: its group
  std::vector<Slot> slots_;            // the rows by key; empty, or a power of two
  size_t mask_ = 0;                    // slots_.size() - 1
  mutable std::vector<Group> groups_;  // [kUngrouped], then one per first component
  std::vector<GroupSlot> group_slots_;  // groups_ by first component, as slots_
  size_t group_mask_ = 0;
  uint32_t last_group_ = kEmpty;       // added to last; kEmpty at first
  mutable std::vector<ByChunk> radix_scratch_;  // SortByChunk's, kept for its memory
};

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_INTERNAL_PENDING_ROWS_H_
