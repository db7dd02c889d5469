// File: projections/oversight/serials.h
//
// The "serials" view: the lifecycle of every serialized pack (drug traceability codes
// "cn-drug:<20 digits>", device SGTINs "urn:epc:id:sgtin:..." and Digital Links with /21/),
// commissioned -> packed -> shipped -> received -> dispensed | decommissioned | destroyed,
// its current holder, and an alert for every impossible transition, naming the conflicting
// events. Shipping, receiving, dispensing or destroying a case or pallet applies to the serials
// packed in it (nested containers too). The rules: projections/oversight/README.md.
//
// Rows (keys per projections/keys.h):
//   "s" <serial>                      SerialState, slim: no serial (the key has it), and its
//                                     event references hold the sequence only
//   "e" <sequence>                    OversightEventRef: the rest of a reference (event id,
//                                     time, party), once per entry that touched a serial.
//                                     Why: a state is rewritten by every event that moves the
//                                     serial (each pack in a case, at every hop), and its five
//                                     full references were ~80 % of its ~430 bytes.
//   "m" <container>                   the container it is packed in ("" if none): a container
//   "c" <container> <child>           "" : child packed in container
//   "n"                               number of alerts (8 bytes BE)
//   "a" <alert_index>                 SerialAlert
//   "x" <serial> <alert_index>        SerialAlert (copy, for SerialStatus)
//
// Thread-safety: the projection is used by one runner thread; the query functions are
// thread-safe (they only read).
#ifndef TRACELEDGER_PROJECTIONS_OVERSIGHT_SERIALS_H_
#define TRACELEDGER_PROJECTIONS_OVERSIGHT_SERIALS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ledger/base/status.h"
#include "projections/projection.h"
#include "tl/v1/view_oversight.pb.h"

namespace traceledger::projections {

inline constexpr std::string_view kSerialsViewName = "serials";
// Containers nest at most this deep (pallet > case > inner pack > ...); deeper levels are not
// followed when a container moves.
inline constexpr int kMaxContainerDepth = 8;
// Alerts returned with one serial's status, and per page of SerialAlerts().
inline constexpr size_t kMaxAlertsPerReport = 100;
inline constexpr size_t kMaxAlertsPerPage = 10000;

// True if `object_id` is a serialized item this view tracks: "cn-drug:", "urn:epc:id:sgtin:",
// or a GS1 Digital Link naming a GTIN (/01/) and a serial (/21/).
bool IsTrackedSerial(std::string_view object_id);

// The codec of the "s" rows, by hand: EncodeSerialState gives the bytes DeterministicBytes(state)
// would, and DecodeSerialState reads them back into `*state` (every field set, present or
// not, so that a state read into again and again keeps its memory). Why: protobuf's parsing
// and serializing of these rows was ~17 % of the instructions of a catch-up (UTF-8 checks of
// up to fifteen strings, and the five event references freed by every parse and allocated
// again; docs/BENCHMARKS.md, "session 18"). DecodeSerialState returns false for bytes it did
// not write (a field it does not know, a message field twice); then parse them with protobuf.
void EncodeSerialState(const v1::SerialState& state, std::string* out);
bool DecodeSerialState(std::string_view bytes, v1::SerialState* state);

// The projection (name "serials"). Reads only its own rows.
std::unique_ptr<Projection> NewSerialsProjection();

// The serial's state, its event references in full, and its first kMaxAlertsPerReport alerts,
// from a reader of the "serials" view (ViewStore::Reader("serials")). NotFound if no event ever
// named the serial; DataLoss if a row does not decode or an event row it names is missing.
Result<v1::SerialReport> SerialStatus(const ViewReader& reader, std::string_view serial);

// Alerts raised by entries at or after `since_sequence`, in ledger order, at most
// min(limit, kMaxAlertsPerPage). Finds the first one with a binary search over the dense
// alert numbers (O(log alerts) point reads). DataLoss if a row does not decode.
Result<v1::SerialAlertPage> SerialAlerts(const ViewReader& reader, uint64_t since_sequence,
                                         size_t limit);
// The same from alert number `from_alert_index` (a page's next_alert_index).
Result<v1::SerialAlertPage> SerialAlertsFrom(const ViewReader& reader, uint64_t from_alert_index,
                                             size_t limit);

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_OVERSIGHT_SERIALS_H_
