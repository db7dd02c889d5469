// File: projections/internal/pending_rows.h
//
// PendingRows: the rows one projection wrote while the runner applies one batch, held in
// memory (sorted) until the batch is written. Reads of the view (ViewReader/ViewRows) see these
// first and the database under them, so a projection reads its own writes; the runner then
// copies them, in key order, into the one RocksDB write batch that also carries the cursor.
//
// Why not rocksdb::WriteBatchWithIndex: its skiplist index and base-delta iterators were the
// largest cost of applying entries (projections/README.md, "Performance"), and writing the
// rows sorted makes the memtable inserts sequential.
//
// Thread-compatible: used by the runner thread only.
#ifndef TRACELEDGER_PROJECTIONS_INTERNAL_PENDING_ROWS_H_
#define TRACELEDGER_PROJECTIONS_INTERNAL_PENDING_ROWS_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace traceledger::projections {

class PendingRows {
 public:
  // Key -> value, or nullopt for a row deleted in this batch.
  using Rows = std::map<std::string, std::optional<std::string>, std::less<>>;

  // The pending state of `key`: null if this batch did not touch it; else the value, or
  // nullopt if it was deleted.
  const std::optional<std::string>* Find(std::string_view key) const {
    auto it = rows_.find(key);
    return it == rows_.end() ? nullptr : &it->second;
  }
  void Put(std::string_view key, std::string_view value) {
    auto it = rows_.lower_bound(key);
    if (it != rows_.end() && it->first == key) {
      it->second.emplace(value);
    } else {
      rows_.emplace_hint(it, std::string(key), std::optional<std::string>(std::in_place, value));
    }
  }
  void Delete(std::string_view key) {
    auto it = rows_.lower_bound(key);
    if (it != rows_.end() && it->first == key) {
      it->second.reset();
    } else {
      rows_.emplace_hint(it, std::string(key), std::nullopt);
    }
  }
  const Rows& rows() const { return rows_; }
  bool empty() const { return rows_.empty(); }
  void Clear() { rows_.clear(); }

 private:
  Rows rows_;
};

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_INTERNAL_PENDING_ROWS_H_
