// File: projections/oversight/enforcement.h
//
// The "enforcement" view: per enterprise, a timeline of what the regulator recorded about it
// (inspections, including double-random spot checks; sampling results; enforcement actions;
// and its recall participation, i.e. RecallRemovals with it as holder), in time order with a
// one-line summary each, and its credit flag (docs/formats/supply-chain-model.md): flagged
// after any SERIOUS enforcement action, an inspection with outcome CLOSED_DOWN, or two
// UNQUALIFIED sampling results sampled at most 365 days apart, with the reasons kept.
//
// Rows (keys per projections/keys.h):
//   "t" <enterprise> <time> <sequence>   TimelineItem
//   "c" <enterprise>                     CreditStatus
//
// Thread-safety: the projection is used by one runner thread; the functions below are
// thread-safe.
#ifndef TRACELEDGER_PROJECTIONS_OVERSIGHT_ENFORCEMENT_H_
#define TRACELEDGER_PROJECTIONS_OVERSIGHT_ENFORCEMENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "ledger/base/status.h"
#include "projections/projection.h"
#include "tl/v1/view_oversight.pb.h"

namespace traceledger::projections {

inline constexpr std::string_view kEnforcementViewName = "enforcement";
// Two UNQUALIFIED sampling results at most this far apart (by sampled_at) flag an enterprise.
inline constexpr int64_t kUnqualifiedWindowMicros = int64_t{365} * 86400 * 1000000;
// Reasons kept in a CreditStatus (later ones are counted in reasons_not_kept), and UNQUALIFIED
// sampling results kept for the window rule (the latest by time).
inline constexpr int kMaxCreditReasons = 100;
inline constexpr int kMaxUnqualifiedKept = 256;
// Most timeline items one Timeline() call returns.
inline constexpr size_t kMaxTimelineItems = 10000;

// The projection (name "enforcement"). Reads only its own rows.
std::unique_ptr<Projection> NewEnforcementProjection();

// The first min(limit, kMaxTimelineItems) items of `enterprise`'s timeline, in time order
// (ties in ledger order), from a reader of the "enforcement" view. An enterprise the view never
// saw has an empty timeline. DataLoss if a row does not decode.
Result<v1::EnterpriseTimeline> Timeline(const ViewReader& reader, std::string_view enterprise,
                                        size_t limit);

// The credit status of `enterprise`; not flagged, with zero counts, if the view never saw it.
// DataLoss if the row does not decode.
Result<v1::CreditStatus> Credit(const ViewReader& reader, std::string_view enterprise);

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_OVERSIGHT_ENFORCEMENT_H_
