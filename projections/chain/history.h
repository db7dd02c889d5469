// File: projections/chain/history.h
//
// The object history view ("history"): every event that names an object (EventFacts::mentioned:
// EPCs and serials, lots as class or class#lot=..., parents, cylinder ids, the objects of
// sampling results and recalls), in time order, as one row per (object, event):
//
//   h | object | time | sequence  -> HistoryItem without sequence and time (the key says them)
//   e | sequence                  -> HistoryItem without role, sequence and time
//
// so an object's history is one prefix scan. An event naming one object writes its whole item
// in the object's row; an event naming several writes what they share once, in its `e` row,
// and each object's row holds only its role (no event_type: how the queries tell). Events that
// cannot be decoded name no object and leave no row.
//
// Thread-safety: the projection is used by one runner thread; ObjectHistory is thread-safe.
#ifndef TRACELEDGER_PROJECTIONS_CHAIN_HISTORY_H_
#define TRACELEDGER_PROJECTIONS_CHAIN_HISTORY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "ledger/base/status.h"
#include "projections/projection.h"
#include "tl/v1/view_chain.pb.h"

namespace traceledger::projections {

inline constexpr std::string_view kHistoryView = "history";

// The history projection (name "history", no dependencies).
std::unique_ptr<Projection> NewHistoryProjection();

// The first `limit` events naming `object_id`, by event time (then sequence), oldest first.
// Empty if none. Returns DataLoss if a row does not decode, or a storage error.
Result<std::vector<v1::HistoryItem>> ObjectHistory(const ViewReader& history,
                                                   std::string_view object_id, size_t limit);

// A history row's key taken apart: "h" | object 0x00 | time (8) | sequence (8). `object`
// points into the key. nullopt if the key is not of that form.
struct HistoryKeyParts {
  std::string_view object;
  int64_t time_unix_micros = 0;
  uint64_t sequence = 0;
};
std::optional<HistoryKeyParts> ParseHistoryKey(std::string_view key);

// The item the history row keyed `key` (ParseHistoryKey) with value `value` stands for: its
// sequence and time from the key, and, for an event naming several objects, what its `e` row
// holds (read through `history`). Returns DataLoss if the row does not decode or the `e` row
// is missing or does not, or a storage error. For readers that scan the rows themselves (the
// EPCIS query's index) as well as the queries below.
Status HistoryItemOfRow(const ViewReader& history, const HistoryKeyParts& key,
                        std::string_view value, v1::HistoryItem* item);

// Whether `submitter_id` submitted an event naming `object_id`: the object's history is read
// up to the first such event, however long it is. Returns DataLoss if a row does not decode, or
// a storage error.
Result<bool> SubmittedEventNaming(const ViewReader& history, std::string_view object_id,
                                  std::string_view submitter_id);

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_CHAIN_HISTORY_H_
