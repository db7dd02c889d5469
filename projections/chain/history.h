// File: projections/chain/history.h
//
// The object history view ("history"): every event that names an object (EventFacts::mentioned:
// EPCs and serials, lots as class or class#lot=..., parents, cylinder ids, the objects of
// sampling results and recalls), in time order, as one row per (object, event):
//
//   h | object | time | sequence  -> HistoryItem
//
// so an object's history is one prefix scan. Events that cannot be decoded name no object and
// leave no row.
//
// Thread-safety: the projection is used by one runner thread; ObjectHistory is thread-safe.
#ifndef TRACELEDGER_PROJECTIONS_CHAIN_HISTORY_H_
#define TRACELEDGER_PROJECTIONS_CHAIN_HISTORY_H_

#include <cstddef>
#include <memory>
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

// Whether `submitter_id` submitted an event naming `object_id`: the object's history is read
// up to the first such event, however long it is. Returns DataLoss if a row does not decode, or
// a storage error.
Result<bool> SubmittedEventNaming(const ViewReader& history, std::string_view object_id,
                                  std::string_view submitter_id);

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_CHAIN_HISTORY_H_
