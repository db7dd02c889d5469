// File: projections/recalls/recalls.h
//
// The recalls view: a regulator's Recall OPENED event opens a case whose scope is the forward
// trace of its root lots/serials at that entry (snapshotted: every holder of an affected object
// with the quantity it held, and what was already sold to consumers); holders confirm removal
// with RecallRemoval events; the case shows, per holder and overall, distributed vs removed
// quantity and effectiveness, and who has not answered. UPDATED changes the case's terms;
// CLOSED closes it. Online platforms are parties like any other.
//
// Depends on the genealogy view (projections/chain/, with its holdings) and reads it as it
// stood just before the Recall entry. Thread-compatible.
#ifndef TRACELEDGER_PROJECTIONS_RECALLS_RECALLS_H_
#define TRACELEDGER_PROJECTIONS_RECALLS_RECALLS_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/base/status.h"
#include "projections/chain/trace.h"
#include "projections/projection.h"
#include "tl/v1/view_recalls.pb.h"

namespace traceledger::projections {

inline constexpr std::string_view kRecallsView = "recalls";

// The scope trace's limits (a recall may reach far: more nodes than an interactive trace).
TraceLimits RecallScopeLimits();

std::unique_ptr<Projection> NewRecallsProjection();

// The case, if `recall_id` was opened.
Result<std::optional<v1::RecallCase>> RecallCaseOf(const ViewReader& recalls,
                                                   std::string_view recall_id);
// Totals and who has not answered.
v1::RecallProgress ProgressOf(const v1::RecallCase& recall);
// Recalls whose scope names `party` (what an enterprise may see), newest first.
Result<std::vector<std::string>> RecallsAddressedTo(const ViewReader& recalls,
                                                    std::string_view party, size_t limit);

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_RECALLS_RECALLS_H_
