// File: projections/oversight/cylinders.h
//
// The "cylinders" view: the registry of gas cylinders (owner filling station, manufacture
// date, design life, last and next periodic inspection, failed and scrapped flags), each
// cylinder's fill history, and an alert for every fill that should not have happened
// (unregistered cylinder, another station's cylinder, inspection overdue, scrapped, past design
// life, failed inspection). The same rules are the fill gate in front of a station's scale:
// CheckFill() is pure, FillPermitFor() is one point read plus CheckFill().
//
// Dates: events carry "YYYY-MM-DD" strings; a fill is compared by its UTC calendar day, so a
// fill on the due day (or on the last day of the design life) is allowed and one on the next
// day is not. manufactured_on + design_life_years keeps month and day (Feb 29 becomes Feb 28).
//
// Rows (keys per projections/keys.h):
//   "r" <cylinder>                    CylinderRecord (the registry row; registrations and
//                                     inspections write it, without the four fill fields)
//   "g" <cylinder>                    CylinderRecord with only fill_count,
//                                     last_fill_unix_micros, last_fill_station_id and
//                                     alert_count (fills write it; CylinderStatus merges both)
//   "f" <cylinder> <fill_index>       CylinderFillRecord
//   "n"                               number of alerts (8 bytes BE)
//   "a" <alert_index>                 CylinderAlert
//   "x" <cylinder> <alert_index>      CylinderAlert (copy, for CylinderStatus)
//
// Thread-safety: the projection is used by one runner thread; the functions below are
// thread-safe.
#ifndef TRACELEDGER_PROJECTIONS_OVERSIGHT_CYLINDERS_H_
#define TRACELEDGER_PROJECTIONS_OVERSIGHT_CYLINDERS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/base/status.h"
#include "projections/projection.h"
#include "tl/v1/view_oversight.pb.h"

namespace traceledger::projections {

inline constexpr std::string_view kCylindersViewName = "cylinders";
// Fills and alerts CylinderStatus() returns by default, and the most it returns.
inline constexpr size_t kDefaultRecentFills = 20;
inline constexpr size_t kMaxRecentFills = 1000;
inline constexpr size_t kMaxCylinderAlertsPerPage = 10000;

// The projection (name "cylinders"). Reads only its own rows.
std::unique_ptr<Projection> NewCylindersProjection();

// Whether `station` may fill the cylinder whose registry row is `record` (nullopt: no row) at
// `at_unix_micros`. Lists every reason that denies it, in FillDenialReason order; allowed iff
// none. Pure; no clock (the caller passes the moment).
v1::FillPermit CheckFill(const std::optional<v1::CylinderRecord>& record, std::string_view station,
                         int64_t at_unix_micros);

// CheckFill() on the registry row of `cylinder` read from `reader` (a reader of the
// "cylinders" view): exactly one point read. DataLoss if the row does not decode.
Result<v1::FillPermit> FillPermitFor(const ViewReader& reader, std::string_view cylinder,
                                     std::string_view station, int64_t at_unix_micros);

// The registry row with the last `recent` fills (at most kMaxRecentFills) and the last
// `recent` alerts of the cylinder. NotFound if no event names the cylinder; DataLoss if a row
// does not decode or a fill row is missing.
Result<v1::CylinderReport> CylinderStatus(const ViewReader& reader, std::string_view cylinder,
                                          size_t recent = kDefaultRecentFills);

// Alerts raised by entries at or after `since_sequence`, in ledger order, at most
// min(limit, kMaxCylinderAlertsPerPage) (binary search over the dense alert numbers).
// DataLoss if a row does not decode.
Result<v1::CylinderAlertPage> CylinderAlerts(const ViewReader& reader, uint64_t since_sequence,
                                             size_t limit);
// The same from alert number `from_alert_index` (a page's next_alert_index).
Result<v1::CylinderAlertPage> CylinderAlertsFrom(const ViewReader& reader,
                                                 uint64_t from_alert_index, size_t limit);

// Calendar helpers (exposed for tests and the API). Days since 1970-01-01 of a "YYYY-MM-DD"
// Gregorian date; nullopt if it is not one.
std::optional<int64_t> DaysFromDate(std::string_view date);
// "YYYY-MM-DD" of days since 1970-01-01.
std::string DateFromDays(int64_t days);
// The UTC calendar day of an instant, as days since 1970-01-01 (floor, also before 1970).
int64_t UtcDay(int64_t unix_micros);
// `date` + `years` with month and day kept (Feb 29 -> Feb 28 in a common year); "" if `date`
// is not a date.
std::string AddYears(std::string_view date, uint32_t years);

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_OVERSIGHT_CYLINDERS_H_
