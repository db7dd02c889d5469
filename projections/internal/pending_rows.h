// File: projections/internal/pending_rows.h
//
// PendingRows: the rows one projection wrote while the runner applies one batch, held in
// memory until the batch is written. Reads of the view (ViewReader/ViewRows) see these first
// and the database under them, so a projection reads its own writes; the runner then writes
// them, in key order, with the cursor.
//
// Layout: the rows sit in insertion order in fixed-size chunks, found through one open-
// addressing hash table of row indices keyed by the whole key (linear probing, power-of-two
// capacity, at most half full; each slot keeps 32 bits of the key's hash, so a probe rarely
// compares a key it does not match). A read or write is one hash, usually one probe and one
// key comparison. Why: a batch of 100,000 entries holds ~700,000 rows whose keys share long
// prefixes ("o" 0x00 "urn:epc:id:sgtin:..."), and the layout before this (a hash map of first
// components, each holding an ordered map of its rows) spent ~30 % of applying a batch in
// that hash map and in long key comparisons in the small maps. This layout cut the CPU time
// of the 300,000-event projection bench (tools/bench) by ~17 % and raised its rebuild rate by
// ~24 %.
//
// Key order is needed only by prefix scans (Under) and once per batch (ForEachInOrder), so
// it is not kept on every write. Each row is also linked into the group of its key's first
// component (FirstComponentPrefixLength: the tag and the object id, the unit every view scans
// by), or into the group of the keys without one. A group is sorted the first time it is
// scanned and after that only for the rows added since (sorted, then merged): most groups are
// never scanned while applying and are sorted once, when the batch is written, after the
// groups themselves are sorted by their first component.
//
// Rows never move once added (the chunks are never reallocated): the value Find returns and
// the rows Under returns stay valid until Clear, while rows are added or changed (MergedScan
// holds them while its visitor may write the view); a Put or Delete changes a row in place.
//
// Why not rocksdb::WriteBatchWithIndex: its skiplist index and base-delta iterators were the
// largest cost of applying entries before this (projections/README.md, "Performance").
//
// Thread-compatible: used by the runner thread applying the view only (the const functions
// sort groups, so they too must not run concurrently).
#ifndef TRACELEDGER_PROJECTIONS_INTERNAL_PENDING_ROWS_H_
#define TRACELEDGER_PROJECTIONS_INTERNAL_PENDING_ROWS_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/base/assert.h"
#include "projections/keys.h"

namespace traceledger::projections {

class PendingRows {
 public:
  // A key and its value, or nullopt for a row deleted in this batch.
  using Row = std::pair<std::string, std::optional<std::string>>;

  // The pending state of `key`: null if this batch did not touch it; else the value, or
  // nullopt if it was deleted. Valid until Clear.
  const std::optional<std::string>* Find(std::string_view key) const {
    if (size_ == 0) return nullptr;
    const uint64_t hash = Hash(key);
    // Bounded: the table is at most half full, so an empty slot ends the probe.
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot slot = slots_[i];
      if (slot.index == kEmpty) return nullptr;
      if (slot.tag == Tag(hash) && RowAt(slot.index).first == key) {
        return &RowAt(slot.index).second;
      }
    }
  }
  void Put(std::string_view key, std::string_view value) {
    std::optional<std::string>& row = RowFor(key).second;
    if (row.has_value()) {
      row->assign(value.data(), value.size());  // reuses the old value's buffer
    } else {
      row.emplace(value);
    }
  }
  void Delete(std::string_view key) { RowFor(key).second.reset(); }

  // The rows whose key starts with `prefix`, in key order, into `out` (replacing its contents).
  // The rows stay valid until Clear.
  void Under(std::string_view prefix, std::vector<const Row*>* out) const {
    out->clear();
    const size_t length = FirstComponentPrefixLength(prefix);
    if (length > 0) {
      // Every key under the prefix has the same first component: one group.
      const std::string_view first_component = prefix.substr(0, length);
      const uint32_t group = FindGroup(first_component, Hash(first_component));
      if (group == kEmpty) return;
      const std::vector<uint32_t>& rows = SortedRows(groups_[group]);
      auto it = std::lower_bound(rows.begin(), rows.end(), prefix,
                                 [&](uint32_t row, std::string_view p) { return Key(row) < p; });
      for (; it != rows.end() && StartsWith(Key(*it), prefix); ++it) out->push_back(&RowAt(*it));
      return;
    }
    // A shorter prefix (a whole tag, say) may span groups: look at every row (rare: the views
    // scan by object).
    for (uint32_t row = 0; row < size_; ++row) {
      if (StartsWith(Key(row), prefix)) out->push_back(&RowAt(row));
    }
    std::sort(out->begin(), out->end(),
              [](const Row* a, const Row* b) { return a->first < b->first; });
  }

  // Calls visit(key, value) for every row, in key order.
  void ForEachInOrder(
      const std::function<void(const std::string&, const std::optional<std::string>&)>& visit)
      const {
    if (size_ == 0) return;
    // Groups are contiguous in key order and ordered by their first component (which ends at
    // its first 0x00 after the tag, so none is a prefix of another); a key without one goes
    // before a group exactly when it sorts before the group's first component.
    std::vector<std::pair<std::string_view, uint32_t>> order;  // first component, group
    order.reserve(groups_.size());
    for (uint32_t group = kFirstGroup; group < groups_.size(); ++group) {
      order.emplace_back(groups_[group].first_component, group);
    }
    std::sort(order.begin(), order.end());
    std::vector<uint32_t> ungrouped;
    InOrder(groups_[kUngrouped], &ungrouped);
    std::vector<uint32_t> rows;
    auto next = ungrouped.begin();
    for (const auto& [first_component, group] : order) {
      for (; next != ungrouped.end() && Key(*next) < first_component; ++next) {
        visit(RowAt(*next).first, RowAt(*next).second);
      }
      InOrder(groups_[group], &rows);
      for (uint32_t row : rows) visit(RowAt(row).first, RowAt(row).second);
    }
    for (; next != ungrouped.end(); ++next) visit(RowAt(*next).first, RowAt(*next).second);
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void Clear() { *this = PendingRows(); }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;  // a free slot; no group
  static constexpr uint32_t kMaxRows = UINT32_MAX - 1;
  static constexpr size_t kRowsPerChunk = 1024;
  static_assert((kRowsPerChunk & (kRowsPerChunk - 1)) == 0, "chunks are indexed by bits");
  static constexpr size_t kMinSlots = 64;
  static constexpr uint32_t kUngrouped = 0;  // groups_[0]: the keys without a first component
  static constexpr uint32_t kFirstGroup = 1;

  // A row (or group) index and the high half of its key's hash.
  struct Slot {
    uint32_t index = kEmpty;
    uint32_t tag = 0;
  };
  // What the rows keep beside the key and value.
  struct RowLinks {
    uint64_t hash;       // of the key, to rehash without it
    uint32_t next;       // the group's next row, in insertion order; kEmpty after the last
  };
  // The rows of one first component (or of the keys without one): a list through the rows'
  // links, so that adding a row allocates nothing, and a sorted copy made only when scanned.
  struct Group {
    std::string_view first_component;  // the first row's (rows never move)
    uint64_t hash = 0;                 // of first_component
    uint32_t first = kEmpty;           // row
    uint32_t last = kEmpty;            // row
    uint32_t size = 0;                 // rows
    std::vector<uint32_t> sorted;      // the list up to sorted_through, in key order
    uint32_t sorted_through = kEmpty;  // row
  };

  static bool StartsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
  }
  static uint32_t Tag(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

  // A 64-bit hash of `key` (wyhash's mixing): the long shared prefixes of the keys get through
  // it 16 bytes per multiplication.
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
  static uint64_t Hash(std::string_view key) {
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

  Row& RowAt(uint32_t row) const { return chunks_[row / kRowsPerChunk][row % kRowsPerChunk]; }
  std::string_view Key(uint32_t row) const { return RowAt(row).first; }

  // The row of `key`, added (with no value) if this batch did not touch it yet.
  Row& RowFor(std::string_view key) {
    if ((size_ + 1) * 2 > slots_.size()) Rehash(std::max(kMinSlots, slots_.size() * 2));
    const uint64_t hash = Hash(key);
    size_t i = hash & mask_;
    for (;; i = (i + 1) & mask_) {  // bounded: the table is at most half full
      const Slot slot = slots_[i];
      if (slot.index == kEmpty) break;
      if (slot.tag == Tag(hash) && Key(slot.index) == key) return RowAt(slot.index);
    }
    TL_ASSERT(size_ < kMaxRows);
    const auto row = static_cast<uint32_t>(size_);
    if (row % kRowsPerChunk == 0) chunks_.push_back(std::make_unique<Row[]>(kRowsPerChunk));
    Row& added = RowAt(row);
    added.first.assign(key.data(), key.size());
    links_.push_back(RowLinks{hash, kEmpty});
    slots_[i] = Slot{row, Tag(hash)};
    ++size_;
    AddToGroup(key, row);
    return added;
  }
  void Rehash(size_t slot_count) {
    slots_.assign(slot_count, Slot());
    mask_ = slot_count - 1;
    for (uint32_t row = 0; row < size_; ++row) {
      size_t i = links_[row].hash & mask_;
      while (slots_[i].index != kEmpty) i = (i + 1) & mask_;
      slots_[i] = Slot{row, Tag(links_[row].hash)};
    }
  }

  void AddToGroup(std::string_view key, uint32_t row) {
    if (groups_.empty()) groups_.emplace_back();  // kUngrouped
    const size_t length = FirstComponentPrefixLength(key);
    uint32_t group = kUngrouped;
    if (length > 0) {
      const std::string_view first_component = key.substr(0, length);
      // A projection writes one object's rows a few at a time: the group added to last is
      // checked before hashing the first component.
      if (last_group_ != kEmpty && groups_[last_group_].first_component == first_component) {
        group = last_group_;
      } else {
        const uint64_t hash = Hash(first_component);
        group = FindGroup(first_component, hash);
        if (group == kEmpty) group = AddGroup(Key(row).substr(0, length), hash);
        last_group_ = group;
      }
    }
    Group& to = groups_[group];
    if (to.last == kEmpty) {
      to.first = row;
    } else {
      links_[to.last].next = row;
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
      group_slots_[i] = Slot{group, Tag(hash)};
    }
    return group;
  }
  // The group of the keys whose first component is `first_component` (of hash `hash`); kEmpty
  // if there is none.
  uint32_t FindGroup(std::string_view first_component, uint64_t hash) const {
    if (group_slots_.empty()) return kEmpty;
    for (size_t i = hash & group_mask_;; i = (i + 1) & group_mask_) {  // at most half full
      const Slot slot = group_slots_[i];
      if (slot.index == kEmpty) return kEmpty;
      if (slot.tag == Tag(hash) && groups_[slot.index].first_component == first_component) {
        return slot.index;
      }
    }
  }
  void RehashGroups(size_t slot_count) {
    group_slots_.assign(slot_count, Slot());
    group_mask_ = slot_count - 1;
    for (uint32_t group = kFirstGroup; group < groups_.size(); ++group) {
      size_t i = groups_[group].hash & group_mask_;
      while (group_slots_[i].index != kEmpty) i = (i + 1) & group_mask_;
      group_slots_[i] = Slot{group, Tag(groups_[group].hash)};
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
    uint32_t row = group.sorted_through == kEmpty ? group.first : links_[group.sorted_through].next;
    for (; row != kEmpty; row = links_[row].next) sorted.push_back(row);
    group.sorted_through = group.last;
    TL_ASSERT(sorted.size() == group.size);
    const auto middle = sorted.begin() + static_cast<std::ptrdiff_t>(old_size);
    std::sort(middle, sorted.end(), LessInGroup(group));
    std::inplace_merge(sorted.begin(), middle, sorted.end(), LessInGroup(group));
    return sorted;
  }
  // The group's rows in key order, into `out`: the sorted copy if it is up to date, else
  // sorted here (most groups are never scanned and are sorted only when the batch is written).
  void InOrder(const Group& group, std::vector<uint32_t>* out) const {
    if (group.sorted.size() == group.size) {
      out->assign(group.sorted.begin(), group.sorted.end());
      return;
    }
    out->clear();
    for (uint32_t row = group.first; row != kEmpty; row = links_[row].next) out->push_back(row);
    std::sort(out->begin(), out->end(), LessInGroup(group));
  }

  std::vector<std::unique_ptr<Row[]>> chunks_;  // row r: chunks_[r / kRowsPerChunk]
  std::vector<RowLinks> links_;                 // links_[r]: row r's
  std::vector<Slot> slots_;                     // the rows by key; empty, or a power of two
  size_t mask_ = 0;                             // slots_.size() - 1
  size_t size_ = 0;                             // rows
  mutable std::vector<Group> groups_;           // [kUngrouped], then one per first component
  std::vector<Slot> group_slots_;               // groups_ by first component, as slots_
  size_t group_mask_ = 0;
  uint32_t last_group_ = kEmpty;                // added to last; kEmpty at first
};

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_INTERNAL_PENDING_ROWS_H_
