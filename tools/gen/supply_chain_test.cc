#include "tools/gen/supply_chain.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ingest/event_decoder.h"
#include "ingest/event_validator.h"

namespace traceledger::tools::gen {
namespace {

namespace v1 = traceledger::v1;

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerHour = 3600 * kMicrosPerSecond;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;
constexpr std::array<Profile, 5> kAllProfiles = {Profile::kFood, Profile::kDrug, Profile::kDevice,
                                                 Profile::kCylinder, Profile::kMixed};

int64_t Micros(const google::protobuf::Timestamp& t) {
  return t.seconds() * kMicrosPerSecond + t.nanos() / 1000;
}

// The time an event happened: eventTime, or the regulator event's *_at field.
int64_t EventMicros(const v1::Event& e) {
  switch (e.body_case()) {
    case v1::Event::kObjectEvent: return Micros(e.object_event().common().event_time());
    case v1::Event::kAggregationEvent: return Micros(e.aggregation_event().common().event_time());
    case v1::Event::kTransactionEvent: return Micros(e.transaction_event().common().event_time());
    case v1::Event::kTransformationEvent:
      return Micros(e.transformation_event().common().event_time());
    case v1::Event::kAssociationEvent: return Micros(e.association_event().common().event_time());
    case v1::Event::kInspection: return Micros(e.inspection().inspected_at());
    case v1::Event::kSamplingResult: return Micros(e.sampling_result().reported_at());
    case v1::Event::kEnforcementAction: return Micros(e.enforcement_action().decided_at());
    case v1::Event::kRecall: return Micros(e.recall().issued_at());
    case v1::Event::kRecallRemoval: return Micros(e.recall_removal().removed_at());
    case v1::Event::kCylinderRegistration:
      return Micros(e.cylinder_registration().registered_at());
    case v1::Event::kCylinderInspection: return Micros(e.cylinder_inspection().inspected_at());
    case v1::Event::kCylinderFill: return Micros(e.cylinder_fill().filled_at());
    case v1::Event::BODY_NOT_SET: break;
  }
  return 0;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// "YYYY-MM-DD" as days since the epoch.
int64_t ParseDay(const std::string& date) {
  EXPECT_EQ(date.size(), 10u) << date;
  return DaysFromCivil(std::stoi(date.substr(0, 4)), std::stoul(date.substr(5, 2)),
                       std::stoul(date.substr(8, 2)));
}

int64_t AddYears(int64_t day, int years) {
  // Inverse of DaysFromCivil via a small search: fine for tests.
  int64_t y = 1970 + day / 365;
  while (DaysFromCivil(y, 1, 1) > day) --y;
  while (DaysFromCivil(y + 1, 1, 1) <= day) ++y;
  unsigned m = 1;
  while (m < 12 && DaysFromCivil(y, m + 1, 1) <= day) ++m;
  unsigned d = static_cast<unsigned>(day - DaysFromCivil(y, m, 1)) + 1;
  if (m == 2 && d == 29) d = 28;
  return DaysFromCivil(y + years, m, d);
}

std::string OwningParty(const google::protobuf::RepeatedPtrField<v1::SourceDestination>& list) {
  for (const v1::SourceDestination& entry : list) {
    if (entry.type() == "owning_party") return entry.id();
  }
  return "";
}

// An independent reading of docs/formats/supply-chain-model.md: holdings per (party, object),
// containers and their contents, shipments in transit, serial states, recalls and the cylinder
// registry. Check() returns the rules an event breaks; it applies the event only when asked
// (injected anomalies are checked but not applied).
class ModelChecker {
 public:
  std::vector<std::string> Check(const v1::Event& e, bool apply) {
    violations_.clear();
    apply_ = apply;
    now_day_ = EventMicros(e) / kMicrosPerDay;
    const std::string& party = e.submitter_id();
    switch (e.body_case()) {
      case v1::Event::kObjectEvent: ObjectEvent(party, e.object_event()); break;
      case v1::Event::kAggregationEvent: Aggregation(party, e.aggregation_event()); break;
      case v1::Event::kTransformationEvent: Transformation(party, e.transformation_event()); break;
      case v1::Event::kTransactionEvent:
        if (!contents_.count(e.transaction_event().parent_id())) Violation("unknown parent");
        break;
      case v1::Event::kRecall: Recall(e.recall()); break;
      case v1::Event::kRecallRemoval: Removal(party, e.recall_removal()); break;
      case v1::Event::kSamplingResult:
        for (const std::string& id : e.sampling_result().object_ids()) {
          if (!known_objects_.count(id)) Violation("sampled an unknown object");
        }
        break;
      case v1::Event::kEnforcementAction:
        for (const std::string& id : e.enforcement_action().related_event_ids()) {
          if (!seen_events_.count(id)) Violation("related event is not earlier");
        }
        break;
      case v1::Event::kCylinderRegistration: Registration(e.cylinder_registration()); break;
      case v1::Event::kCylinderInspection: CylinderInspection(e.cylinder_inspection()); break;
      case v1::Event::kCylinderFill: Fill(party, e.cylinder_fill()); break;
      default: break;
    }
    if (apply_) seen_events_.insert(e.event_id());
    return violations_;
  }

  size_t open_recalls() const {
    size_t n = 0;
    for (const auto& [id, recall] : recalls_) n += recall.open ? 1 : 0;
    return n;
  }

 private:
  struct Quantity {
    std::string id;
    double quantity;
  };
  struct RecallCase {
    std::set<std::string> roots;
    bool open = true;
  };
  struct CylinderRow {
    std::string owner;
    int64_t life_end_day = 0;
    int64_t due_day = 0;
    std::string state = "active";
  };

  void Violation(std::string what) { violations_.push_back(std::move(what)); }

  static std::string Key(const std::string& a, const std::string& b) { return a + '\n' + b; }

  // A container's current children, recursively; anything else is itself.
  void Expand(const std::string& id, double quantity, std::vector<Quantity>* out) const {
    auto it = contents_.find(id);
    if (it == contents_.end()) {
      out->push_back({id, quantity});
      return;
    }
    for (const Quantity& child : it->second) Expand(child.id, child.quantity, out);
  }

  std::vector<Quantity> Listed(const google::protobuf::RepeatedPtrField<std::string>& epcs,
                               const google::protobuf::RepeatedPtrField<v1::QuantityElement>& qs) {
    std::vector<Quantity> out;
    for (const std::string& id : epcs) out.push_back({id, 1});
    for (const v1::QuantityElement& q : qs) out.push_back({q.epc_class(), q.quantity()});
    return out;
  }

  bool IsSerial(const std::string& id) const {
    return id.rfind("cn-drug:", 0) == 0 || id.rfind("urn:epc:id:sgtin:", 0) == 0;
  }

  void Take(const std::string& party, const std::vector<Quantity>& listed, const char* what) {
    for (const Quantity& l : listed) {
      std::vector<Quantity> expanded;
      Expand(l.id, l.quantity, &expanded);
      for (const Quantity& q : expanded) {
        double& held = holdings_[Key(party, q.id)];
        if (held + 1e-6 < q.quantity) {
          Violation(std::string(what) + " more than held");
        }
        if (apply_) held -= q.quantity;
      }
    }
  }
  void Give(const std::string& party, const std::vector<Quantity>& listed) {
    if (!apply_) return;
    for (const Quantity& l : listed) {
      std::vector<Quantity> expanded;
      Expand(l.id, l.quantity, &expanded);
      for (const Quantity& q : expanded) holdings_[Key(party, q.id)] += q.quantity;
    }
  }
  void CheckSerialsLive(const std::vector<Quantity>& listed) {
    for (const Quantity& l : listed) {
      std::vector<Quantity> expanded;
      Expand(l.id, l.quantity, &expanded);
      for (const Quantity& q : expanded) {
        if (!IsSerial(q.id)) continue;
        if (!commissioned_.count(q.id)) Violation("serial never commissioned");
        auto gone = gone_.find(q.id);
        if (gone != gone_.end()) Violation("serial already " + gone->second);
      }
    }
  }
  void MarkGone(const std::vector<Quantity>& listed, const std::string& how) {
    if (!apply_) return;
    for (const Quantity& l : listed) {
      if (IsSerial(l.id)) gone_[l.id] = how;
    }
  }

  void ObjectEvent(const std::string& party, const v1::ObjectEvent& e) {
    const std::string& step = e.common().biz_step();
    const std::vector<Quantity> listed = Listed(e.epc_list(), e.quantity_list());
    if (step == "commissioning") {
      for (const Quantity& q : listed) {
        if (IsSerial(q.id) && commissioned_.count(q.id)) Violation("serial commissioned twice");
        if (apply_) {
          if (IsSerial(q.id)) commissioned_.insert(q.id);
          known_objects_.insert(q.id);
        }
      }
      Give(party, listed);
    } else if (step == "shipping") {
      if (OwningParty(e.common().source_list()) != party) Violation("shipper is not the source");
      const std::string to = OwningParty(e.common().destination_list());
      if (to.empty() || to == party) Violation("shipping without another owning_party");
      CheckSerialsLive(listed);
      Take(party, listed, "ships");
      if (apply_) {
        for (const Quantity& q : listed) in_transit_[Key(q.id, to)] += q.quantity;
      }
    } else if (step == "receiving") {
      if (OwningParty(e.common().destination_list()) != party) {
        Violation("receiver is not the destination");
      }
      for (const Quantity& q : listed) {
        double& pending = in_transit_[Key(q.id, party)];
        if (pending + 1e-6 < q.quantity) Violation("received without a shipment to this party");
        if (apply_) pending -= q.quantity;
      }
      CheckSerialsLive(listed);
      Give(party, listed);
      if (apply_) {
        for (const Quantity& q : listed) received_.insert(Key(party, q.id));
      }
    } else if (step == "retail_selling" || step == "dispensing") {
      CheckSerialsLive(listed);
      Take(party, listed, "sells");
      MarkGone(listed, "dispensed");
    } else if (step == "destroying" || step == "decommissioning") {
      CheckSerialsLive(listed);
      Take(party, listed, "destroys");
      MarkGone(listed, "decommissioned");
    } else {
      Violation("unexpected bizStep " + step);
    }
  }

  void Aggregation(const std::string& party, const v1::AggregationEvent& e) {
    const std::vector<Quantity> children = Listed(e.child_epcs(), e.child_quantity_list());
    if (e.action() == v1::ACTION_ADD) {
      // The packer must hold the children it packs.
      for (const Quantity& c : children) {
        std::vector<Quantity> expanded;
        Expand(c.id, c.quantity, &expanded);
        for (const Quantity& q : expanded) {
          if (holdings_[Key(party, q.id)] + 1e-6 < q.quantity) Violation("packs more than held");
        }
      }
      if (contents_.count(e.parent_id())) Violation("container packed twice");
      if (apply_) contents_[e.parent_id()] = children;
    } else if (e.action() == v1::ACTION_DELETE) {
      auto it = contents_.find(e.parent_id());
      if (it == contents_.end()) {
        Violation("unpacking an empty container");
        return;
      }
      if (it->second.size() != children.size()) Violation("unpacking other children");
      if (apply_) contents_.erase(it);
    }
  }

  void Transformation(const std::string& party, const v1::TransformationEvent& e) {
    Take(party, Listed(e.input_epc_list(), e.input_quantity_list()), "consumes");
    const std::vector<Quantity> outputs = Listed(e.output_epc_list(), e.output_quantity_list());
    Give(party, outputs);
    if (apply_) {
      for (const Quantity& q : outputs) known_objects_.insert(q.id);
    }
  }

  void Recall(const v1::Recall& e) {
    if (e.phase() == v1::Recall::PHASE_OPENED) {
      if (recalls_.count(e.recall_id())) Violation("recall opened twice");
      RecallCase recall;
      for (const std::string& id : e.root_ids()) {
        if (!known_objects_.count(id)) Violation("recall of an unknown lot");
        recall.roots.insert(id);
      }
      if (apply_) recalls_[e.recall_id()] = recall;
    } else if (e.phase() == v1::Recall::PHASE_CLOSED) {
      auto it = recalls_.find(e.recall_id());
      if (it == recalls_.end() || !it->second.open) Violation("closing a recall that is not open");
      if (apply_ && it != recalls_.end()) it->second.open = false;
    }
  }

  void Removal(const std::string& party, const v1::RecallRemoval& e) {
    if (e.holder_id() != party) Violation("removal not by the holder");
    auto it = recalls_.find(e.recall_id());
    if (it == recalls_.end() || !it->second.open) Violation("removal outside an open recall");
    if (it != recalls_.end() && !it->second.roots.count(e.object_id())) {
      Violation("removal of an object the recall does not name");
    }
    if (!received_.count(Key(party, e.object_id()))) Violation("holder never received it");
    Take(party, {{e.object_id(), e.quantity()}}, "removes");
  }

  void Registration(const v1::CylinderRegistration& e) {
    if (cylinders_.count(e.cylinder_id())) Violation("cylinder registered twice");
    CylinderRow row;
    row.owner = e.owner_station_id();
    row.life_end_day = AddYears(ParseDay(e.manufactured_on()),
                                static_cast<int>(e.design_life_years()));
    row.due_day = ParseDay(e.next_inspection_due());
    if (apply_) cylinders_[e.cylinder_id()] = row;
  }

  void CylinderInspection(const v1::CylinderInspection& e) {
    auto it = cylinders_.find(e.cylinder_id());
    if (it == cylinders_.end()) {
      Violation("inspection of an unregistered cylinder");
      return;
    }
    if (it->second.state == "scrapped") Violation("inspection of a scrapped cylinder");
    if (!apply_) return;
    switch (e.result()) {
      case v1::CylinderInspection::RESULT_PASS:
        it->second.state = "active";
        it->second.due_day = ParseDay(e.next_inspection_due());
        break;
      case v1::CylinderInspection::RESULT_FAIL: it->second.state = "failed"; break;
      default: it->second.state = "scrapped"; break;
    }
  }

  void Fill(const std::string& party, const v1::CylinderFill& e) {
    if (e.station_id() != party) Violation("fill not by the station");
    auto it = cylinders_.find(e.cylinder_id());
    if (it == cylinders_.end()) {
      Violation("fill of an unregistered cylinder");
      return;
    }
    const CylinderRow& row = it->second;
    if (row.owner != e.station_id()) Violation("fill of an other station's cylinder");
    if (row.state == "scrapped") Violation("fill of a scrapped cylinder");
    if (row.state == "failed") Violation("fill of a failed cylinder");
    if (now_day_ > row.due_day) Violation("fill of an overdue cylinder");
    if (now_day_ > row.life_end_day) Violation("fill past design life");
  }

  bool apply_ = true;
  int64_t now_day_ = 0;
  std::vector<std::string> violations_;
  std::unordered_map<std::string, double> holdings_;    // party \n object
  std::unordered_map<std::string, double> in_transit_;  // object \n receiving party
  std::unordered_map<std::string, std::vector<Quantity>> contents_;
  std::unordered_set<std::string> commissioned_;
  std::unordered_map<std::string, std::string> gone_;  // serial -> dispensed/decommissioned
  std::unordered_set<std::string> received_;           // party \n object
  std::unordered_set<std::string> known_objects_;
  std::unordered_set<std::string> seen_events_;
  std::map<std::string, RecallCase> recalls_;
  std::unordered_map<std::string, CylinderRow> cylinders_;
};

// The words the checker uses for the rule each anomaly breaks.
std::string_view ExpectedViolation(Anomaly anomaly) {
  switch (anomaly) {
    case Anomaly::kDoubleDispensing: return "serial already dispensed";
    case Anomaly::kReceiptWithoutShipment: return "received without a shipment to this party";
    case Anomaly::kUnknownSerial: return "serial never commissioned";
    case Anomaly::kDecommissionedReappears: return "serial already decommissioned";
    case Anomaly::kFillUnregistered: return "fill of an unregistered cylinder";
    case Anomaly::kFillOtherStation: return "fill of an other station's cylinder";
    case Anomaly::kFillOverdue: return "fill of an overdue cylinder";
    case Anomaly::kFillScrapped: return "fill of a scrapped cylinder";
    case Anomaly::kFillPastDesignLife: return "fill past design life";
  }
  return "";
}

std::string Describe(const v1::Event& event) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(event, &json).ok()) return "<unprintable>";
  return json;
}

std::string Fingerprint(const Options& options) {
  std::string all;
  Status s = Generate(options, [&](const v1::Event& event) {
    std::string bytes;
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    event.SerializeToCodedStream(&coded);
    coded.Trim();
    all.append(bytes);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return all;
}

TEST(SupplyChainTest, ParsesProfileNames) {
  for (Profile profile : kAllProfiles) {
    Result<Profile> parsed = ParseProfile(ProfileName(profile));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, profile);
  }
  Result<Profile> bad = ParseProfile("cosmetics");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(SupplyChainTest, RejectsBadOptions) {
  EXPECT_FALSE(ResolveOptions({.anomaly_rate = 0.5}).ok());
  EXPECT_FALSE(ResolveOptions({.profile = Profile::kFood, .farms = 3}).ok());
  EXPECT_FALSE(ResolveOptions({.profile = Profile::kCylinder, .filling_stations = 1}).ok());
  EXPECT_FALSE(ResolveOptions({.profile = Profile::kDevice, .hospitals = 1}).ok());
  EXPECT_FALSE(ResolveOptions({.profile = Profile::kMixed, .pharmacies = 10000}).ok());
  EXPECT_FALSE(Generator::Create({.profile = Profile::kFood, .farms = 3}).ok());
  EXPECT_TRUE(Parties({.profile = Profile::kFood, .farms = 3}).empty());
  Result<Options> derived = ResolveOptions({.events = 1200000});
  ASSERT_TRUE(derived.ok());
  EXPECT_EQ(derived->events_per_day, kMaxDerivedEventsPerDay);
  EXPECT_GT(derived->farms, 0u);
  EXPECT_GT(derived->cylinders, 0u);
}

TEST(SupplyChainTest, SameSeedSameStreamOtherSeedOtherStream) {
  for (Profile profile : kAllProfiles) {
    SCOPED_TRACE(ProfileName(profile));
    const Options options{.profile = profile, .events = 3000, .seed = 42};
    const std::string first = Fingerprint(options);
    EXPECT_EQ(first, Fingerprint(options));
    Options other = options;
    other.seed = 43;
    EXPECT_NE(first, Fingerprint(other));
  }
}

TEST(SupplyChainTest, ProducesExactlyTheRequestedNumberOfEvents) {
  for (uint64_t events : {0ULL, 1ULL, 7ULL, 12345ULL}) {
    for (Profile profile : kAllProfiles) {
      uint64_t count = 0;
      Status s = Generate({.profile = profile, .events = events}, [&](const v1::Event&) {
        ++count;
        return Status::Ok();
      });
      ASSERT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(count, events) << ProfileName(profile);
    }
  }
}

TEST(SupplyChainTest, StopsAtTheFirstSinkError) {
  uint64_t count = 0;
  Status s = Generate({.events = 100}, [&](const v1::Event&) {
    return ++count == 10 ? Status::Unavailable("sink full") : Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(count, 10u);
}

// Every event of every profile passes the ingest rules, in time order, with unique ids, from a
// party in Parties(); and the custody story holds except where an anomaly was injected.
TEST(SupplyChainTest, EveryEventValidatesAndTheCustodyStoryHolds) {
  for (Profile profile : kAllProfiles) {
    SCOPED_TRACE(ProfileName(profile));
    const Options options{.profile = profile, .events = 20000, .seed = 7};
    const std::vector<std::string> parties = Parties(options);
    ASSERT_FALSE(parties.empty());
    ASSERT_TRUE(std::is_sorted(parties.begin(), parties.end()));
    ingest::ValidationContext ctx;
    ctx.is_known_submitter = [&](std::string_view id) {
      return std::binary_search(parties.begin(), parties.end(), std::string(id));
    };
    Result<std::unique_ptr<Generator>> generator = Generator::Create(options);
    ASSERT_TRUE(generator.ok()) << generator.status().ToString();
    ModelChecker checker;
    std::unordered_set<std::string> ids;
    std::map<std::string, int> shapes;
    int64_t previous = 0;
    int failures = 0;
    while (const v1::Event* event = (*generator)->Next()) {
      const int64_t at = EventMicros(*event);
      ASSERT_GE(at, previous) << Describe(*event);
      previous = at;
      ctx.now_unix_micros = at + kMicrosPerHour;
      std::optional<ingest::Violation> violation = ingest::ValidateEvent(*event, ctx);
      ASSERT_FALSE(violation.has_value())
          << ingest::ValidationRuleName(violation->rule) << " at " << violation->field << ": "
          << violation->message << "\n" << Describe(*event);
      ASSERT_TRUE(ids.insert(event->event_id()).second) << "repeated id " << event->event_id();
      const std::optional<Anomaly> anomaly = (*generator)->last_anomaly();
      const std::vector<std::string> broken = checker.Check(*event, !anomaly.has_value());
      if (anomaly.has_value()) {
        const std::string_view want = ExpectedViolation(*anomaly);
        EXPECT_NE(std::find(broken.begin(), broken.end(), want), broken.end())
            << AnomalyName(*anomaly) << " does not break \"" << want << "\": "
            << Describe(*event);
      } else if (!broken.empty() && ++failures <= 5) {
        ADD_FAILURE() << "event " << (*generator)->produced() << " breaks \"" << broken[0]
                      << "\": " << Describe(*event);
      }
      std::string shape(event->GetDescriptor()->FindFieldByNumber(event->body_case())->name());
      if (event->has_object_event()) shape += "/" + event->object_event().common().biz_step();
      if (event->has_aggregation_event()) {
        shape += "/" + event->aggregation_event().common().biz_step();
      }
      ++shapes[shape];
    }
    EXPECT_EQ(failures, 0);
    EXPECT_EQ((*generator)->produced(), options.events);
    std::string summary;
    for (const auto& [shape, count] : shapes) summary += " " + shape + "=" + std::to_string(count);
    std::printf("%s:%s\n", std::string(ProfileName(profile)).c_str(), summary.c_str());
    if (profile == Profile::kFood || profile == Profile::kMixed) {
      for (const char* shape :
           {"object_event/commissioning", "object_event/shipping", "object_event/receiving",
            "transformation_event", "aggregation_event/packing", "aggregation_event/unpacking",
            "object_event/retail_selling", "transaction_event"}) {
        EXPECT_GT(shapes[shape], 0) << shape;
      }
    }
    if (profile == Profile::kDrug || profile == Profile::kDevice) {
      for (const char* shape :
           {"object_event/commissioning", "aggregation_event/packing", "object_event/shipping",
            "object_event/receiving", "aggregation_event/unpacking", "object_event/dispensing",
            "object_event/destroying"}) {
        EXPECT_GT(shapes[shape], 0) << shape;
      }
    }
    if (profile == Profile::kCylinder || profile == Profile::kMixed) {
      for (const char* shape :
           {"cylinder_registration", "cylinder_inspection", "cylinder_fill"}) {
        EXPECT_GT(shapes[shape], 0) << shape;
      }
    }
  }
}

// The mixed profile carries the regulator's story: spot checks, unqualified samples, serious
// enforcement, recalls opened on a product lot, removals by its holders, recalls closed.
TEST(SupplyChainTest, MixedProfileHasTheRegulatorStory) {
  const Options options{.profile = Profile::kMixed, .events = 200000, .seed = 3};
  Result<std::unique_ptr<Generator>> generator = Generator::Create(options);
  ASSERT_TRUE(generator.ok());
  ModelChecker checker;
  int spot_checks = 0, unqualified = 0, serious = 0, opened = 0, closed = 0, removals = 0;
  int broken_events = 0;
  while (const v1::Event* e = (*generator)->Next()) {
    const std::optional<Anomaly> anomaly = (*generator)->last_anomaly();
    if (!checker.Check(*e, !anomaly.has_value()).empty() && !anomaly.has_value()) ++broken_events;
    if (e->has_inspection() &&
        e->inspection().kind() == v1::Inspection::KIND_DOUBLE_RANDOM_SPOT_CHECK) {
      ++spot_checks;
    }
    if (e->has_sampling_result() &&
        e->sampling_result().verdict() == v1::SamplingResult::VERDICT_UNQUALIFIED) {
      ++unqualified;
    }
    if (e->has_enforcement_action() &&
        e->enforcement_action().severity() == v1::SEVERITY_SERIOUS) {
      ++serious;
    }
    if (e->has_recall()) {
      (e->recall().phase() == v1::Recall::PHASE_OPENED ? opened : closed)++;
    }
    if (e->has_recall_removal()) ++removals;
  }
  std::printf("mixed 200000: spot checks %d, unqualified samples %d, serious actions %d, "
              "recalls opened %d closed %d, removals %d\n",
              spot_checks, unqualified, serious, opened, closed, removals);
  EXPECT_EQ(broken_events, 0);
  EXPECT_GT(spot_checks, 0);
  EXPECT_GT(unqualified, 0);
  EXPECT_GT(serious, 0);
  EXPECT_GT(opened, 0);
  EXPECT_GT(closed, 0);
  EXPECT_GT(removals, 0);
}

// Anomalies are rare (about options.anomaly_rate of the drug, device and cylinder events),
// deterministic, of every kind, and each breaks the rule it is named for.
TEST(SupplyChainTest, AnomaliesOccurAtTheIntendedRateAndOfEveryKind) {
  std::array<uint64_t, kAnomalyKinds> total{};
  for (Profile profile : {Profile::kDrug, Profile::kDevice, Profile::kCylinder, Profile::kMixed}) {
    SCOPED_TRACE(ProfileName(profile));
    const Options options{.profile = profile, .events = 150000, .seed = 11};
    Result<std::unique_ptr<Generator>> generator = Generator::Create(options);
    ASSERT_TRUE(generator.ok());
    ModelChecker checker;
    uint64_t anomalies = 0;
    while (const v1::Event* e = (*generator)->Next()) {
      const std::optional<Anomaly> anomaly = (*generator)->last_anomaly();
      const std::vector<std::string> broken = checker.Check(*e, !anomaly.has_value());
      if (!anomaly.has_value()) continue;
      ++anomalies;
      const std::string_view want = ExpectedViolation(*anomaly);
      EXPECT_NE(std::find(broken.begin(), broken.end(), want), broken.end())
          << AnomalyName(*anomaly) << ": " << Describe(*e);
    }
    const auto& counts = (*generator)->anomaly_counts();
    uint64_t counted = 0;
    std::string summary;
    for (Anomaly a : kAllAnomalies) {
      const uint64_t n = counts[static_cast<size_t>(a)];
      counted += n;
      total[static_cast<size_t>(a)] += n;
      if (n > 0) summary += " " + std::string(AnomalyName(a)) + "=" + std::to_string(n);
    }
    EXPECT_EQ(counted, anomalies);
    const double rate =
        static_cast<double>(anomalies) / static_cast<double>((*generator)->anomaly_domain_events());
    std::printf("%s: %llu anomalies in %llu drug/device/cylinder events (rate %.5f):%s\n",
                std::string(ProfileName(profile)).c_str(),
                static_cast<unsigned long long>(anomalies),
                static_cast<unsigned long long>((*generator)->anomaly_domain_events()), rate,
                summary.c_str());
    EXPECT_GT(rate, options.anomaly_rate * 0.7);
    EXPECT_LT(rate, options.anomaly_rate * 1.3);
    if (profile == Profile::kDrug || profile == Profile::kDevice) {
      for (size_t k = 0; k < 4; ++k) EXPECT_GT(counts[k], 0u) << AnomalyName(kAllAnomalies[k]);
    }
    if (profile == Profile::kCylinder) {
      for (size_t k = 4; k < kAnomalyKinds; ++k) {
        EXPECT_GT(counts[k], 0u) << AnomalyName(kAllAnomalies[k]);
      }
    }
  }
  for (Anomaly a : kAllAnomalies) EXPECT_GT(total[static_cast<size_t>(a)], 0u) << AnomalyName(a);

  // Off means off.
  Result<std::unique_ptr<Generator>> quiet =
      Generator::Create({.profile = Profile::kMixed, .events = 50000, .anomaly_rate = 0});
  ASSERT_TRUE(quiet.ok());
  while ((*quiet)->Next() != nullptr) ASSERT_FALSE((*quiet)->last_anomaly().has_value());
}

// The live state depends on the daily volume, not on how many events are generated.
TEST(SupplyChainTest, LiveStateStaysBounded) {
  const Options options{.profile = Profile::kMixed, .events = 1000000, .seed = 5};
  Result<std::unique_ptr<Generator>> generator = Generator::Create(options);
  ASSERT_TRUE(generator.ok());
  Generator& g = **generator;
  size_t peak_objects = 0, peak_steps = 0;
  size_t objects_at_half = 0;
  uint64_t count = 0;
  while (g.Next() != nullptr) {
    if (++count % 1000 != 0) continue;
    peak_objects = std::max(peak_objects, g.LiveObjects());
    peak_steps = std::max(peak_steps, g.PendingSteps());
    if (count == options.events / 2) objects_at_half = g.LiveObjects();
  }
  std::printf("mixed 1000000 at %llu events/day: peak live objects %zu (bound %zu), peak "
              "pending steps %zu (bound %zu), live objects at 500000 %zu, at the end %zu\n",
              static_cast<unsigned long long>(g.options().events_per_day), peak_objects,
              g.LiveObjectsBound(), peak_steps, g.PendingStepsBound(), objects_at_half,
              g.LiveObjects());
  EXPECT_EQ(count, options.events);
  EXPECT_LE(peak_objects, g.LiveObjectsBound());
  EXPECT_LE(peak_steps, g.PendingStepsBound());
  // Far fewer than the events generated: only what is in stock or in transit is kept.
  EXPECT_LT(peak_objects, options.events / 4);
}

TEST(SupplyChainTest, WritesNativeJsonLinesThatTheIngestDecodes) {
  const Options options{.profile = Profile::kMixed, .events = 3000, .seed = 9};
  std::ostringstream out;
  ASSERT_TRUE(WriteJsonLines(options, out).ok());
  const std::vector<std::string> parties = Parties(options);
  std::istringstream in(out.str());
  std::string line;
  uint64_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    ASSERT_EQ(line.find('\n'), std::string::npos);
    Result<v1::Event> decoded = ingest::DecodeEvent(line, v1::EVENT_ENCODING_JSON);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString() << "\n" << line;
    ingest::ValidationContext ctx;
    ctx.now_unix_micros = EventMicros(*decoded) + kMicrosPerHour;
    ctx.is_known_submitter = [&](std::string_view id) {
      return std::binary_search(parties.begin(), parties.end(), std::string(id));
    };
    EXPECT_FALSE(ingest::ValidateEvent(*decoded, ctx).has_value()) << line;
  }
  EXPECT_EQ(lines, options.events);
}

TEST(SupplyChainTest, PartiesNameEverySubmitter) {
  for (Profile profile : kAllProfiles) {
    const Options options{.profile = profile, .events = 5000};
    const std::vector<std::string> parties = Parties(options);
    EXPECT_TRUE(std::adjacent_find(parties.begin(), parties.end()) == parties.end());
    std::set<std::string> submitters;
    ASSERT_TRUE(Generate(options, [&](const v1::Event& e) {
                  submitters.insert(e.submitter_id());
                  return Status::Ok();
                }).ok());
    for (const std::string& s : submitters) {
      EXPECT_TRUE(std::binary_search(parties.begin(), parties.end(), s)) << s;
    }
  }
}

// Not an assertion: the rate, for the record (STYLE.md section 9 quotes Release numbers).
TEST(SupplyChainTest, PrintsThroughput) {
  for (Profile profile : kAllProfiles) {
    const Options options{.profile = profile, .events = 300000, .seed = 1};
    uint64_t count = 0;
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(Generate(options, [&](const v1::Event&) {
                  ++count;
                  return Status::Ok();
                }).ok());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("throughput %-8s %llu events in %.3f s: %.0f events/s\n",
                std::string(ProfileName(profile)).c_str(), static_cast<unsigned long long>(count),
                seconds, static_cast<double>(count) / seconds);
  }
}

}  // namespace
}  // namespace traceledger::tools::gen
