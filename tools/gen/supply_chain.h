// File: tools/gen/supply_chain.h
//
// Realistic, deterministic synthetic supply chains for `tracectl gen`: streams of
// traceledger.v1.Events that follow docs/formats/supply-chain-model.md (custody moves only by
// commissioning, shipping to an owning_party, receiving from one, transforming, selling,
// dispensing, destroying), for food, drugs, medical devices, gas cylinders, or all of them plus
// the regulator's inspections, sampling, enforcement and recalls.
//
//   Options options{.profile = Profile::kMixed, .events = 1000000, .seed = 7};
//   Status s = Generate(options, [&](const v1::Event& e) { return Publish(e); });
//
// Every event passes ingest::ValidateEvent with ctx.now_unix_micros = its own time + 1 h and
// is_known_submitter = membership in Parties(options). The stream is in time order, has exactly
// options.events events, and is a pure function of the options (the same bytes on every
// platform: own SplitMix64 generator, no std:: distributions, no wall clock). A few injected
// anomalies (drug/device serials, cylinder fills) break the custody or cylinder rules on
// purpose; Generator::last_anomaly() names them. What each profile produces: README.md.
//
// Memory stays bounded whatever options.events is: only live chains (lots, pallets, packs still
// held by someone), the cylinder registry and pending steps are kept.
//
// Thread-compatible: a Generator is used by one thread at a time; the free functions are
// thread-safe.
#ifndef TRACELEDGER_TOOLS_GEN_SUPPLY_CHAIN_H_
#define TRACELEDGER_TOOLS_GEN_SUPPLY_CHAIN_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/base/status.h"
#include "tl/v1/events.pb.h"

namespace traceledger::tools::gen {

enum class Profile { kFood, kDrug, kDevice, kCylinder, kMixed };

// Parses "food", "drug", "device", "cylinder" or "mixed". Returns InvalidArgument otherwise.
Result<Profile> ParseProfile(std::string_view name);
// The name ParseProfile accepts for `profile`.
std::string_view ProfileName(Profile profile);

// 2025-01-01T00:00:00Z: early enough that 10 million events (about 500 simulated days at the
// default volume) are in the past for `tracectl append`, which rejects future events.
inline constexpr int64_t kDefaultStartUnixMicros = 1735689600LL * 1000000;

// The largest volume events_per_day derives by default.
inline constexpr uint64_t kMaxDerivedEventsPerDay = 20000;
// The largest events_per_day accepted.
inline constexpr uint64_t kMaxEventsPerDay = 1000000;
// The most parties of one kind (the party number is 4 digits of the company prefix).
inline constexpr uint32_t kMaxPartiesPerKind = 9999;

struct Options {
  Profile profile = Profile::kMixed;
  // Exact number of events produced.
  uint64_t events = 10000;
  uint64_t seed = 1;
  // Time of the first activity; events advance from here (minutes to hours apart per chain).
  int64_t start_unix_micros = kDefaultStartUnixMicros;

  // Scale knobs. 0 means "derive from `events`": events_per_day = clamp(events / 60, 200,
  // kMaxDerivedEventsPerDay) (so a run spans about 60 simulated days, longer beyond 1.2 million
  // events), and each party count from events_per_day and the profile's share of it.
  uint64_t events_per_day = 0;
  // Food.
  uint32_t farms = 0;
  uint32_t processors = 0;
  uint32_t distributors = 0;
  uint32_t supermarkets = 0;
  uint32_t canteens = 0;  // school canteens
  uint32_t online_shops = 0;
  // Drugs and devices (hospitals receive both).
  uint32_t drug_makers = 0;
  uint32_t wholesalers = 0;
  uint32_t pharmacies = 0;
  uint32_t hospitals = 0;
  uint32_t device_makers = 0;
  uint32_t device_distributors = 0;
  // Cylinders.
  uint32_t filling_stations = 0;
  uint32_t inspection_agencies = 0;
  uint32_t cylinders = 0;
  // Testing laboratories (sampling results, mixed profile).
  uint32_t labs = 0;

  // Share of drug, device and cylinder events that are injected anomalies (0 disables them).
  double anomaly_rate = 0.001;
};

// Anomalies injected on purpose; each is one event that a view must flag.
enum class Anomaly {
  kDoubleDispensing,          // a pack dispensed a second time (drug, device)
  kReceiptWithoutShipment,    // a pack received by an outlet it was never shipped to
  kUnknownSerial,             // an event on a serial that was never commissioned
  kDecommissionedReappears,   // a decommissioned pack dispensed later at another outlet
  kFillUnregistered,          // a fill of a cylinder that was never registered
  kFillOtherStation,          // a station fills a cylinder registered to another station
  kFillOverdue,               // a fill after the cylinder's next_inspection_due date
  kFillScrapped,              // a fill of a cylinder an inspection scrapped
  kFillPastDesignLife,        // a fill after manufactured_on + design_life_years
};
inline constexpr size_t kAnomalyKinds = 9;
inline constexpr std::array<Anomaly, kAnomalyKinds> kAllAnomalies = {
    Anomaly::kDoubleDispensing,   Anomaly::kReceiptWithoutShipment, Anomaly::kUnknownSerial,
    Anomaly::kDecommissionedReappears, Anomaly::kFillUnregistered, Anomaly::kFillOtherStation,
    Anomaly::kFillOverdue,        Anomaly::kFillScrapped,           Anomaly::kFillPastDesignLife,
};
// A stable snake_case name, e.g. "double_dispensing".
std::string_view AnomalyName(Anomaly anomaly);

// Returns `options` with every 0 knob replaced by its derived value (knobs of domains the
// profile does not produce become 0). Returns InvalidArgument if anomaly_rate is not in
// [0, 0.1], events_per_day exceeds kMaxEventsPerDay, a party count exceeds kMaxPartiesPerKind,
// cylinders exceeds 10 000 000, or the profile lacks the parties it needs: at least 8 farms, 1
// processor, 1 distributor and 2 food outlets (food); 1 maker, 1 wholesaler and 2 pharmacies +
// hospitals (drug); 1 maker, 1 distributor and 2 hospitals (device); 2 filling stations, 1
// agency and 8 cylinders (cylinder); 1 lab (mixed).
Result<Options> ResolveOptions(const Options& options);

// The event stream, one event at a time.
class Generator {
 public:
  // Returns InvalidArgument for options ResolveOptions rejects.
  static Result<std::unique_ptr<Generator>> Create(const Options& options);
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // The next event, or nullptr once options.events events were produced. The event is owned
  // by the Generator and valid until the next call.
  const traceledger::v1::Event* Next();

  // Events produced so far.
  uint64_t produced() const;
  // The anomaly the last event returned by Next() carries, if it is one.
  std::optional<Anomaly> last_anomaly() const;
  // Anomalies produced so far, per kind (indexed by the enum value).
  const std::array<uint64_t, kAnomalyKinds>& anomaly_counts() const;
  // Events produced so far in the domains that carry anomalies (drug, device, cylinder).
  uint64_t anomaly_domain_events() const;

  // Live state: identifiers currently kept (lots, pallets, cases, packs of live chains, the
  // cylinder registry, anomaly pools) and steps waiting in the schedule.
  size_t LiveObjects() const;
  size_t PendingSteps() const;
  // Upper bounds for LiveObjects() and PendingSteps() that hold for any options.events: they
  // depend only on events_per_day and the cylinder count.
  size_t LiveObjectsBound() const;
  size_t PendingStepsBound() const;

  // The resolved options (ResolveOptions).
  const Options& options() const;

 private:
  class Impl;
  explicit Generator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Streams options.events events in time order to `sink`. Stops at and returns the first
// non-OK status of `sink`; InvalidArgument for options ResolveOptions rejects.
Status Generate(const Options& options,
                const std::function<Status(const traceledger::v1::Event&)>& sink);

// Writes the stream as native JSON lines (proto3 JSON mapping, one compact object per line, as
// `tracectl append` reads them) to `out`. Returns Unavailable if writing fails, Internal if an
// event cannot be printed, InvalidArgument for bad options.
Status WriteJsonLines(const Options& options, std::ostream& out);

// Every party id the stream uses as a submitter or names as an enterprise, holder, station,
// agency or lab (for --known-submitters registries), sorted, without duplicates. Empty if the
// options are invalid.
std::vector<std::string> Parties(const Options& options);

}  // namespace traceledger::tools::gen

#endif  // TRACELEDGER_TOOLS_GEN_SUPPLY_CHAIN_H_
