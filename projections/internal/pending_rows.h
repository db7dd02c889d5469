// File: projections/internal/pending_rows.h
//
// PendingRows: the rows one projection wrote while the runner applies one batch, held in
// memory until the batch is written. Reads of the view (ViewReader/ViewRows) see these first
// and the database under them, so a projection reads its own writes; the runner then writes
// them, in key order, with the cursor.
//
// Layout: rows are grouped by their key's first component (FirstComponentPrefixLength: the tag
// and the object id, the unit every view scans by), in a hash map of small ordered maps. A
// batch of 100,000 entries holds ~700,000 rows whose keys share long prefixes ("ourn:epc:id:
// sgtin:..."): one ordered map of them all made every read and write ~20 long comparisons,
// the largest cost of applying a large batch (docs/BENCHMARKS.md, "Projections"). Rows
// whose key has no first component go to one ordered map of their own.
//
// Why not rocksdb::WriteBatchWithIndex: its skiplist index and base-delta iterators were the
// largest cost of applying entries before this (projections/README.md, "Performance").
//
// Thread-compatible: used by the runner thread applying the view only.
#ifndef TRACELEDGER_PROJECTIONS_INTERNAL_PENDING_ROWS_H_
#define TRACELEDGER_PROJECTIONS_INTERNAL_PENDING_ROWS_H_

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "projections/keys.h"

namespace traceledger::projections {

class PendingRows {
 public:
  // Key -> value, or nullopt for a row deleted in this batch.
  using Rows = std::map<std::string, std::optional<std::string>, std::less<>>;
  using Row = Rows::value_type;

  // The pending state of `key`: null if this batch did not touch it; else the value, or
  // nullopt if it was deleted.
  const std::optional<std::string>* Find(std::string_view key) const {
    const Rows* rows = GroupOf(key);
    if (rows == nullptr) return nullptr;
    auto it = rows->find(key);
    return it == rows->end() ? nullptr : &it->second;
  }
  void Put(std::string_view key, std::string_view value) {
    Rows& rows = MutableGroupOf(key);
    auto it = rows.lower_bound(key);
    if (it != rows.end() && it->first == key) {
      it->second.emplace(value);
    } else {
      rows.emplace_hint(it, std::string(key), std::optional<std::string>(std::in_place, value));
      ++size_;
    }
  }
  void Delete(std::string_view key) {
    Rows& rows = MutableGroupOf(key);
    auto it = rows.lower_bound(key);
    if (it != rows.end() && it->first == key) {
      it->second.reset();
    } else {
      rows.emplace_hint(it, std::string(key), std::nullopt);
      ++size_;
    }
  }

  // The rows whose key starts with `prefix`, in key order, into `out` (replacing its contents).
  void Under(std::string_view prefix, std::vector<const Row*>* out) const {
    out->clear();
    auto collect = [&](const Rows& rows) {
      for (auto it = rows.lower_bound(prefix); it != rows.end() && StartsWith(it->first, prefix);
           ++it) {
        out->push_back(&*it);
      }
    };
    if (FirstComponentPrefixLength(prefix) > 0) {
      // Every key under the prefix has the same first component: one group.
      if (const Rows* rows = GroupOf(prefix)) collect(*rows);
      return;
    }
    // A shorter prefix (a whole tag, say) may span groups: look at them all (rare: the views
    // scan by object).
    collect(ungrouped_);
    for (const auto& [name, group] : groups_) {
      if (StartsWith(name, prefix)) collect(group->rows);
    }
    std::sort(out->begin(), out->end(), [](const Row* a, const Row* b) { return a->first < b->first; });
  }

  // Calls visit(key, value) for every row, in key order.
  void ForEachInOrder(
      const std::function<void(const std::string&, const std::optional<std::string>&)>& visit)
      const {
    // Groups are contiguous in key order and ordered by their prefix (a prefix ends at its
    // first 0x00, so no prefix is a prefix of another); a key without a group goes before a
    // group exactly when it sorts before the group's prefix.
    std::vector<std::pair<std::string_view, const Rows*>> groups;
    groups.reserve(groups_.size());
    for (const auto& [name, group] : groups_) groups.emplace_back(name, &group->rows);
    std::sort(groups.begin(), groups.end());
    auto ungrouped = ungrouped_.begin();
    for (const auto& [group, rows] : groups) {
      for (; ungrouped != ungrouped_.end() && std::string_view(ungrouped->first) < group;
           ++ungrouped) {
        visit(ungrouped->first, ungrouped->second);
      }
      for (const auto& [key, value] : *rows) visit(key, value);
    }
    for (; ungrouped != ungrouped_.end(); ++ungrouped) visit(ungrouped->first, ungrouped->second);
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void Clear() {
    last_ = nullptr;
    groups_.clear();
    ungrouped_.clear();
    size_ = 0;
  }

 private:
  static bool StartsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
  }
  struct Group {
    std::string prefix;
    Rows rows;
  };

  const Rows* GroupOf(std::string_view key) const {
    const size_t length = FirstComponentPrefixLength(key);
    if (length == 0) return &ungrouped_;
    const Group* group = FindGroup(key.substr(0, length));
    return group == nullptr ? nullptr : &group->rows;
  }
  Rows& MutableGroupOf(std::string_view key) {
    const size_t length = FirstComponentPrefixLength(key);
    if (length == 0) return ungrouped_;
    const std::string_view prefix = key.substr(0, length);
    if (Group* group = FindGroup(prefix)) return group->rows;
    auto group = std::make_unique<Group>();
    group->prefix.assign(prefix.data(), prefix.size());
    last_ = group.get();
    const std::string_view name = group->prefix;  // the map's key views the group's own copy
    groups_.emplace(name, std::move(group));
    return last_->rows;
  }
  // A projection reads and writes one object's rows a few times in a row: the group used last
  // is checked before the hash map.
  Group* FindGroup(std::string_view prefix) const {
    if (last_ != nullptr && last_->prefix == prefix) return last_;
    auto it = groups_.find(prefix);
    if (it == groups_.end()) return nullptr;
    last_ = it->second.get();
    return last_;
  }

  std::unordered_map<std::string_view, std::unique_ptr<Group>> groups_;
  mutable Group* last_ = nullptr;  // in groups_, or null
  Rows ungrouped_;
  size_t size_ = 0;
};

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_INTERNAL_PENDING_ROWS_H_
