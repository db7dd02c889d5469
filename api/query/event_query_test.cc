#include "api/query/event_query.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "api/query/epc_pattern.h"
#include "api/query/epcis_render.h"
#include "ingest/epcis_json.h"
#include "ingest/event_decoder.h"
#include "ledger/data_dir.h"
#include "ledger/ledger.h"
#include "projections/chain/history.h"
#include "projections/event_facts.h"
#include "projections/runner.h"

namespace traceledger::api {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;
namespace pb = google::protobuf;

constexpr char kPartyA[] = "9521234000004";
constexpr char kPartyB[] = "91310115MA1H000024";
constexpr char kRegulator[] = "regulator:SAMR-310104";
constexpr int64_t kNow = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z

constexpr char kItem1[] = "urn:epc:id:sgtin:9521234.054321.1001";
constexpr char kItem2[] = "urn:epc:id:sgtin:9521234.054321.1002";
constexpr char kItem3[] = "urn:epc:id:sgtin:9521234.054321.1003";
constexpr char kItem4[] = "urn:epc:id:sgtin:9521234.054321.1004";
constexpr char kOutput[] = "urn:epc:id:sgtin:9521234.054322.2001";
constexpr char kPallet[] = "urn:epc:id:sscc:9521234.0000000011";
constexpr char kDigitalLink[] = "https://id.gs1.org/01/09521234543213/21/ABC";
constexpr char kDock[] = "urn:epc:id:sgln:9521234.00001.0";
constexpr char kStore[] = "urn:epc:id:sgln:9521235.00001.0";

// Our own EPCIS 2.0 events, written from the standard (section 9 event structure, CBV 2.0
// values in all three spellings).
constexpr char kShip[] = R"json({"type": "ObjectEvent", "eventID": "urn:uuid:q-1",
  "eventTime": "2026-03-01T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
  "epcList": ["urn:epc:id:sgtin:9521234.054321.1001", "urn:epc:id:sgtin:9521234.054321.1002"],
  "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
  "readPoint": {"id": "urn:epc:id:sgln:9521234.00001.0"},
  "bizLocation": {"id": "urn:epc:id:sgln:9521234.00001.0"},
  "example:note": "kept as stored"})json";
constexpr char kReceive[] = R"json({"type": "ObjectEvent", "eventID": "urn:uuid:q-2",
  "eventTime": "2026-03-02T00:00:00Z", "eventTimeZoneOffset": "+00:00",
  "epcList": ["urn:epc:id:sgtin:9521234.054321.1001"], "action": "OBSERVE",
  "bizStep": "https://ref.gs1.org/cbv/BizStep-receiving",
  "disposition": "https://ref.gs1.org/cbv/Disp-in_progress",
  "bizLocation": {"id": "urn:epc:id:sgln:9521235.00001.0"}})json";
constexpr char kPack[] = R"json({"type": "AggregationEvent", "eventID": "urn:uuid:q-3",
  "eventTime": "2026-03-03T00:00:00Z", "eventTimeZoneOffset": "+00:00",
  "parentID": "urn:epc:id:sscc:9521234.0000000011",
  "childEPCs": ["urn:epc:id:sgtin:9521234.054321.1001", "urn:epc:id:sgtin:9521234.054321.1003"],
  "action": "ADD", "bizStep": "https://ref.gs1.org/cbv/BizStep-packing"})json";
constexpr char kTransform[] = R"json({"type": "TransformationEvent", "eventID": "urn:uuid:q-4",
  "eventTime": "2026-03-04T00:00:00Z", "eventTimeZoneOffset": "+00:00",
  "inputEPCList": ["urn:epc:id:sgtin:9521234.054321.1002"],
  "outputEPCList": ["urn:epc:id:sgtin:9521234.054322.2001"], "bizStep": "transforming"})json";
constexpr char kTransaction[] = R"json({"type": "TransactionEvent", "eventID": "urn:uuid:q-5",
  "eventTime": "2026-03-05T00:00:00Z", "eventTimeZoneOffset": "+00:00",
  "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:9521234000004:PO-7"}],
  "parentID": "urn:epc:id:sscc:9521234.0000000011",
  "epcList": ["urn:epc:id:sgtin:9521234.054321.1003"], "action": "ADD",
  "bizStep": "shipping"})json";
constexpr char kAssociate[] = R"json({"type": "AssociationEvent", "eventID": "urn:uuid:q-6",
  "eventTime": "2026-03-06T00:00:00Z", "eventTimeZoneOffset": "+00:00",
  "parentID": "urn:epc:id:grai:9521234.00001.77",
  "childEPCs": ["https://id.gs1.org/01/09521234543213/21/ABC"], "action": "ADD",
  "bizStep": "assembling"})json";

struct Stored {
  std::string event_id;
  std::string submitter;
  v1::EventEncoding encoding;
  std::string bytes;
};

v1::Event NativeOf(const std::string& json) {
  v1::Event event;
  EXPECT_TRUE(pb::util::JsonStringToMessage(json, &event).ok()) << json;
  return event;
}

Stored Native(const v1::Event& event, v1::EventEncoding encoding) {
  Stored s{event.event_id(), event.submitter_id(), encoding, ""};
  if (encoding == v1::EVENT_ENCODING_JSON) {
    EXPECT_TRUE(pb::util::MessageToJsonString(event, &s.bytes).ok());
  } else {
    EXPECT_TRUE(event.SerializeToString(&s.bytes));
  }
  return s;
}

// The ten events of most tests, in sequence order 0..9.
std::vector<Stored> StandardEvents() {
  std::vector<Stored> out;
  out.push_back({"urn:uuid:q-1", kPartyA, v1::EVENT_ENCODING_EPCIS_JSON, kShip});
  out.push_back({"urn:uuid:q-2", kPartyB, v1::EVENT_ENCODING_EPCIS_JSON, kReceive});
  out.push_back({"urn:uuid:q-3", kPartyA, v1::EVENT_ENCODING_EPCIS_JSON, kPack});
  out.push_back({"urn:uuid:q-4", kPartyA, v1::EVENT_ENCODING_EPCIS_JSON, kTransform});
  // A recall names kItem1 too (so the history view indexes it), but is not an EPCIS event.
  out.push_back(Native(NativeOf(R"json({"eventId": "urn:uuid:recall-1",
      "submitterId": "regulator:SAMR-310104", "recall": {"recallId": "RC-1",
      "phase": "PHASE_OPENED", "level": "LEVEL_III",
      "rootIds": ["urn:epc:id:sgtin:9521234.054321.1001"], "issuedAt": "2026-03-04T12:00:00Z"}})json"),
                       v1::EVENT_ENCODING_JSON));
  out.push_back({"urn:uuid:q-5", kPartyB, v1::EVENT_ENCODING_EPCIS_JSON, kTransaction});
  out.push_back({"urn:uuid:q-6", kPartyA, v1::EVENT_ENCODING_EPCIS_JSON, kAssociate});
  out.push_back(Native(NativeOf(R"json({"eventId": "urn:uuid:n-1", "submitterId": "9521234000004",
      "objectEvent": {"common": {"eventTime": "2026-03-07T00:00:00Z",
        "eventTimeZoneOffset": "+08:00", "bizStep": "shipping", "disposition": "in_transit",
        "bizLocation": {"id": "urn:epc:id:sgln:9521234.00001.0"}},
      "action": "ACTION_OBSERVE", "epcList": ["urn:epc:id:sgtin:9521234.054321.1004"],
      "quantityList": [{"epcClass": "urn:epc:class:lgtin:9521234.054321.L7",
                        "quantity": 12.5, "uom": "KGM"}]}})json"),
                       v1::EVENT_ENCODING_JSON));
  out.push_back(Native(NativeOf(R"json({"eventId": "urn:uuid:n-2",
      "submitterId": "91310115MA1H000024",
      "aggregationEvent": {"common": {"eventTime": "2026-03-08T00:00:00Z",
        "bizStep": "unpacking"}, "action": "ACTION_DELETE",
      "parentId": "urn:epc:id:sscc:9521234.0000000011",
      "childEpcs": ["urn:epc:id:sgtin:9521234.054321.1003"]}})json"),
                       v1::EVENT_ENCODING_PROTOBUF));
  out.push_back(Native(NativeOf(R"json({"eventId": "urn:uuid:fill-1",
      "submitterId": "91310112MA1E00009N", "cylinderFill": {"cylinderId": "SH-LPG-1",
      "stationId": "91310112MA1E00009N", "filledAt": "2026-03-09T00:00:00Z"}})json"),
                       v1::EVENT_ENCODING_JSON));
  return out;
}

const std::vector<std::string> kAllEpcis = {"urn:uuid:q-1", "urn:uuid:q-2", "urn:uuid:q-3",
                                            "urn:uuid:q-4", "urn:uuid:q-5", "urn:uuid:q-6",
                                            "urn:uuid:n-1", "urn:uuid:n-2"};

class EventQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("api_query_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto ledger = ledger::CreateDataDir((dir_ / "ledger").string(), "query.test/log", {});
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(*ledger);
    source_ = projections::LedgerEntrySource(*ledger_);
  }
  void TearDown() override {
    runner_.reset();
    source_.reset();
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Append(const std::vector<Stored>& events) {
    std::vector<ledger::AppendRequest> requests;
    for (const Stored& s : events) {
      ledger::AppendRequest& r = requests.emplace_back();
      r.event_id = s.event_id;
      r.submitter_id = s.submitter;
      r.encoding = s.encoding;
      r.event = s.bytes;
      r.source.mutable_file()->set_path("api_query_test");
    }
    auto results = ledger_->Append(std::move(requests));
    ASSERT_TRUE(results.ok()) << results.status().ToString();
    for (const ledger::AppendResult& result : *results) {
      ASSERT_EQ(result.outcome, ledger::AppendOutcome::kAppended) << result.receipt.event_id;
    }
  }

  // Folds everything appended so far into the history view (decoding EPCIS JSON with ingest's
  // decoder, as `traceledger serve` does).
  void CatchUp() {
    if (runner_ == nullptr) {
      std::vector<std::unique_ptr<projections::Projection>> views;
      views.push_back(projections::NewHistoryProjection());
      projections::RunnerOptions options;
      options.decoder = ingest::DecodeStoredEventInto;
      auto runner = projections::ProjectionRunner::Open((dir_ / "views").string(),
                                                        std::move(views), std::move(options));
      ASSERT_TRUE(runner.ok()) << runner.status().ToString();
      runner_ = std::move(*runner);
    }
    auto applied = runner_->CatchUp(*source_);
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
    history_.emplace(runner_->store().Reader(projections::kHistoryView));
  }

  const projections::ViewReader* History() { return history_.has_value() ? &*history_ : nullptr; }

  static EventQuery Parse(const Params& params) {
    auto parsed = ParseEventQuery(params);
    if (auto* error = std::get_if<QueryError>(&parsed)) {
      ADD_FAILURE() << error->parameter << " " << error->rule << ": " << error->detail;
      return EventQuery{};
    }
    return std::get<EventQuery>(parsed);
  }

  QueryPage Run(const EventQuery& query, const projections::ViewReader* history,
                const QueryScope& scope = {}, QueryOptions options = {}) {
    options.now_unix_micros = kNow;
    auto page = RunEventQuery(*ledger_, history, query, scope, options);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? std::move(*page) : QueryPage{};
  }

  struct AllPages {
    std::vector<std::string> ids;
    std::vector<OrderedJson> events;
    size_t pages = 0;
  };

  // Follows nextPageToken to the end, as a client would.
  AllPages RunAll(Params params, const projections::ViewReader* history,
                  const QueryScope& scope = {}, const QueryOptions& options = {}) {
    AllPages all;
    std::optional<std::string> token;
    constexpr size_t kMaxPages = 1000;
    while (all.pages < kMaxPages) {
      Params with_token = params;
      if (token.has_value()) with_token.emplace_back("nextPageToken", *token);
      const QueryPage page = Run(Parse(with_token), history, scope, options);
      ++all.pages;
      for (const auto& event : page.document["epcisBody"]["queryResults"]["resultsBody"]
                                            ["eventList"]) {
        all.ids.push_back(event.value("eventID", std::string()));
        all.events.push_back(event);
      }
      token = page.next_page_token;
      if (!token.has_value()) break;
    }
    EXPECT_LT(all.pages, kMaxPages);
    return all;
  }

  // The ids of the whole answer, checked to be the same with the index and without it.
  std::vector<std::string> Ids(const Params& params, const QueryScope& scope = {}) {
    const AllPages scanned = RunAll(params, nullptr, scope);
    const AllPages indexed = RunAll(params, History(), scope);
    EXPECT_EQ(scanned.ids, indexed.ids) << "index and scan disagree";
    return indexed.ids;
  }

  std::filesystem::path dir_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<projections::EntrySource> source_;
  std::unique_ptr<projections::ProjectionRunner> runner_;
  std::optional<projections::ViewReader> history_;
};

using IdList = std::vector<std::string>;

TEST_F(EventQueryTest, NoParametersAnswersEveryEpcisEventInSequenceOrder) {
  Append(StandardEvents());
  CatchUp();
  const QueryPage page = Run(Parse({}), History());
  EXPECT_FALSE(page.next_page_token.has_value());
  const OrderedJson& doc = page.document;
  EXPECT_EQ(doc["type"], "EPCISQueryDocument");
  EXPECT_EQ(doc["schemaVersion"], "2.0");
  EXPECT_EQ(doc["creationDate"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(doc["@context"][0], "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld");
  const OrderedJson& results = doc["epcisBody"]["queryResults"];
  EXPECT_EQ(results["queryName"], "SimpleEventQuery");
  EXPECT_FALSE(results.contains("subscriptionID"));  // an ad-hoc query has none
  const OrderedJson& list = results["resultsBody"]["eventList"];
  IdList ids;
  for (const auto& event : list) ids.push_back(event["eventID"]);
  EXPECT_EQ(ids, kAllEpcis);  // no recall, no cylinder fill
  // Stored EPCIS JSON comes back as stored, keys in their order, extensions included.
  EXPECT_EQ(list[0].dump(), OrderedJson::parse(kShip).dump());
  // Native events are rendered.
  EXPECT_EQ(list[6]["type"], "ObjectEvent");
  EXPECT_EQ(list[6]["action"], "OBSERVE");
  EXPECT_EQ(list[6]["quantityList"][0]["quantity"], 12.5);
  EXPECT_EQ(list[7]["type"], "AggregationEvent");
  EXPECT_EQ(list[7]["parentID"], kPallet);
  EXPECT_EQ(list[7]["eventTimeZoneOffset"], "+00:00");
  EXPECT_EQ(page.entries_examined, 10u);
}

TEST_F(EventQueryTest, EventTypeTakesPipeCommaAndRepeatedLists) {
  Append(StandardEvents());
  CatchUp();
  const IdList want = {"urn:uuid:q-3", "urn:uuid:q-6", "urn:uuid:n-2"};
  EXPECT_EQ(Ids({{"eventType", "AggregationEvent|AssociationEvent"}}), want);
  EXPECT_EQ(Ids({{"eventType", "AssociationEvent,AggregationEvent"}}), want);
  EXPECT_EQ(Ids({{"eventType", "AggregationEvent"}, {"eventType", "AssociationEvent"}}), want);
  EXPECT_EQ(Ids({{"eventType", "TransformationEvent"}}), IdList{"urn:uuid:q-4"});
}

TEST_F(EventQueryTest, EventTimeBoundsAreInclusiveExclusiveWithOffsets) {
  Append(StandardEvents());
  CatchUp();
  // q-1 happened at 2026-03-01T00:00:00Z (08:00 at +08:00).
  EXPECT_EQ(Ids({{"GE_eventTime", "2026-03-01T08:00:00+08:00"},
                 {"LT_eventTime", "2026-03-03T00:00:00Z"}}),
            (IdList{"urn:uuid:q-1", "urn:uuid:q-2"}));
  EXPECT_EQ(Ids({{"GE_eventTime", "2026-03-01T00:00:00.000000001Z"},
                 {"LT_eventTime", "2026-03-02T00:00:00.000000001Z"}}),
            IdList{"urn:uuid:q-2"});
  EXPECT_EQ(Ids({{"GE_eventTime", "2026-03-07T00:00:00-01:00"}}), IdList{"urn:uuid:n-2"});
  EXPECT_TRUE(Ids({{"LT_eventTime", "2026-03-01T00:00:00Z"}}).empty());
}

TEST_F(EventQueryTest, BizStepAndDispositionEquateCbvShortNamesAndUris) {
  Append(StandardEvents());
  CatchUp();
  const IdList shipping = {"urn:uuid:q-1", "urn:uuid:q-5", "urn:uuid:n-1"};
  EXPECT_EQ(Ids({{"EQ_bizStep", "shipping"}}), shipping);
  EXPECT_EQ(Ids({{"EQ_bizStep", "urn:epcglobal:cbv:bizstep:shipping"}}), shipping);
  EXPECT_EQ(Ids({{"EQ_bizStep", "https://ref.gs1.org/cbv/BizStep-shipping"}}), shipping);
  EXPECT_EQ(Ids({{"EQ_bizStep", "receiving"}}), IdList{"urn:uuid:q-2"});  // stored as a Web URI
  EXPECT_EQ(Ids({{"EQ_bizStep", "urn:epcglobal:cbv:bizstep:packing"}}), IdList{"urn:uuid:q-3"});
  EXPECT_EQ(Ids({{"EQ_bizStep", "packing|receiving"}}), (IdList{"urn:uuid:q-2", "urn:uuid:q-3"}));
  EXPECT_EQ(Ids({{"EQ_disposition", "in_progress"}}), IdList{"urn:uuid:q-2"});
  EXPECT_EQ(Ids({{"EQ_disposition", "urn:epcglobal:cbv:disp:in_transit"}}),
            (IdList{"urn:uuid:q-1", "urn:uuid:n-1"}));
  EXPECT_TRUE(Ids({{"EQ_disposition", "urn:epcglobal:cbv:bizstep:in_transit"}}).empty());
  // URN forms as stored (ingest accepts them; the EPCIS 2.0 JSON schema prefers bare words).
  Append({Native(NativeOf(R"json({"eventId": "urn:uuid:n-3", "submitterId": "9521234000004",
      "objectEvent": {"common": {"eventTime": "2026-03-10T00:00:00Z",
        "bizStep": "urn:epcglobal:cbv:bizstep:receiving",
        "disposition": "urn:epcglobal:cbv:disp:in_progress"},
      "action": "ACTION_OBSERVE", "epcList": ["urn:epc:id:sgtin:9521234.054321.1004"]}})json"),
                 v1::EVENT_ENCODING_PROTOBUF)});
  CatchUp();
  EXPECT_EQ(Ids({{"EQ_bizStep", "receiving"}}), (IdList{"urn:uuid:q-2", "urn:uuid:n-3"}));
  EXPECT_EQ(Ids({{"EQ_bizStep", "https://ref.gs1.org/cbv/BizStep-receiving"}}),
            (IdList{"urn:uuid:q-2", "urn:uuid:n-3"}));
  EXPECT_EQ(Ids({{"EQ_disposition", "in_progress"}, {"MATCH_epc", kItem4}}),
            IdList{"urn:uuid:n-3"});
}

TEST_F(EventQueryTest, BizLocationMatchesAsStored) {
  Append(StandardEvents());
  CatchUp();
  EXPECT_EQ(Ids({{"EQ_bizLocation", kDock}}), (IdList{"urn:uuid:q-1", "urn:uuid:n-1"}));
  EXPECT_EQ(Ids({{"EQ_bizLocation", std::string(kStore) + "|" + kDock}}),
            (IdList{"urn:uuid:q-1", "urn:uuid:q-2", "urn:uuid:n-1"}));
  EXPECT_TRUE(Ids({{"EQ_bizLocation", "urn:epc:id:sgln:9521234.00001"}}).empty());
}

TEST_F(EventQueryTest, MatchEpcCoversEpcListAndChildEpcsOnly) {
  Append(StandardEvents());
  CatchUp();
  // kItem1: epcList of q-1, q-2, child of q-3; the recall's root id is not an EPCIS event.
  EXPECT_EQ(Ids({{"MATCH_epc", kItem1}}), (IdList{"urn:uuid:q-1", "urn:uuid:q-2", "urn:uuid:q-3"}));
  // kItem2 is an input of q-4: MATCH_epc does not look there.
  EXPECT_EQ(Ids({{"MATCH_epc", kItem2}}), IdList{"urn:uuid:q-1"});
  EXPECT_TRUE(Ids({{"MATCH_epc", kPallet}}).empty());  // only ever a parent
  EXPECT_EQ(Ids({{"MATCH_epc", kDigitalLink}}), IdList{"urn:uuid:q-6"});
  EXPECT_EQ(Ids({{"MATCH_epc", std::string(kItem4) + "|" + kOutput}}), IdList{"urn:uuid:n-1"});
}

TEST_F(EventQueryTest, MatchAnyEpcAlsoCoversParentInputAndOutput) {
  Append(StandardEvents());
  CatchUp();
  EXPECT_EQ(Ids({{"MATCH_anyEPC", kItem2}}), (IdList{"urn:uuid:q-1", "urn:uuid:q-4"}));
  EXPECT_EQ(Ids({{"MATCH_anyEPC", kOutput}}), IdList{"urn:uuid:q-4"});
  EXPECT_EQ(Ids({{"MATCH_anyEPC", kPallet}}),
            (IdList{"urn:uuid:q-3", "urn:uuid:q-5", "urn:uuid:n-2"}));
  EXPECT_EQ(Ids({{"MATCH_parentID", kPallet}}),
            (IdList{"urn:uuid:q-3", "urn:uuid:q-5", "urn:uuid:n-2"}));
  EXPECT_EQ(Ids({{"MATCH_inputEPC", kItem2}}), IdList{"urn:uuid:q-4"});
  EXPECT_EQ(Ids({{"MATCH_outputEPC", kItem2}}), IdList{});
  EXPECT_EQ(Ids({{"MATCH_outputEPC", kOutput}}), IdList{"urn:uuid:q-4"});
}

TEST_F(EventQueryTest, EpcPatternsMatchThroughTheIndexPrefixAndTheScan) {
  Append(StandardEvents());
  CatchUp();
  EXPECT_EQ(Ids({{"MATCH_epc", "urn:epc:idpat:sgtin:9521234.054321.*"}}),
            (IdList{"urn:uuid:q-1", "urn:uuid:q-2", "urn:uuid:q-3", "urn:uuid:q-5",
                 "urn:uuid:n-1", "urn:uuid:n-2"}));
  EXPECT_EQ(Ids({{"MATCH_anyEPC", "urn:epc:idpat:sgtin:9521234.*.*"}}),
            (IdList{"urn:uuid:q-1", "urn:uuid:q-2", "urn:uuid:q-3", "urn:uuid:q-4", "urn:uuid:q-5",
                 "urn:uuid:n-1", "urn:uuid:n-2"}));
  EXPECT_EQ(Ids({{"MATCH_anyEPC", "urn:epc:idpat:sscc:*"}}),
            (IdList{"urn:uuid:q-3", "urn:uuid:q-5", "urn:uuid:n-2"}));
  // "9521234.05432" is a prefix of the item reference's text, not a field.
  EXPECT_TRUE(Ids({{"MATCH_anyEPC", "urn:epc:idpat:sgtin:9521234.05432.*"}}).empty());
}

TEST_F(EventQueryTest, EpcPatternRules) {
  EXPECT_TRUE(EpcMatches("urn:epc:idpat:sgtin:0614141.107346.*",
                         "urn:epc:id:sgtin:0614141.107346.2017"));
  EXPECT_TRUE(EpcMatches("urn:epc:idpat:sgtin:0614141.*.*", "urn:epc:id:sgtin:0614141.107346.1"));
  // The serial is the last field and may hold dots.
  EXPECT_TRUE(EpcMatches("urn:epc:idpat:sgtin:0614141.107346.*",
                         "urn:epc:id:sgtin:0614141.107346.A.B"));
  EXPECT_TRUE(EpcMatches("urn:epc:idpat:sgtin:0614141.107346.2017",
                         "urn:epc:id:sgtin:0614141.107346.2017"));
  EXPECT_FALSE(EpcMatches("urn:epc:idpat:sgtin:0614141.107346.*",
                          "urn:epc:id:sgtin:0614141.107347.2017"));
  EXPECT_FALSE(EpcMatches("urn:epc:idpat:sgtin:0614141.107346.*",
                          "urn:epc:id:sgtina:0614141.107346.2017"));
  EXPECT_FALSE(EpcMatches("urn:epc:idpat:sgtin:0614141.107346.*", "urn:epc:id:sgtin:0614141"));
  EXPECT_FALSE(EpcMatches("urn:epc:idpat:sscc:*", "urn:epc:class:lgtin:0614141.107346.L1"));
  EXPECT_TRUE(EpcMatches(kDigitalLink, kDigitalLink));
  EXPECT_FALSE(EpcMatches(kDigitalLink, "https://id.gs1.org/01/09521234543213/21/ABCD"));
  EXPECT_TRUE(CheckEpcPattern("urn:epc:idpat:sgtin:*.*.*").ok());
  EXPECT_FALSE(CheckEpcPattern("urn:epc:idpat:sgtin:*.107346.*").ok());
  EXPECT_FALSE(CheckEpcPattern("urn:epc:idpat:sgtin:0614141.1073*.*").ok());
  EXPECT_FALSE(CheckEpcPattern("urn:epc:idpat:sgtin:0614141..*").ok());
  EXPECT_FALSE(CheckEpcPattern("urn:epc:idpat:sgtin").ok());
  EXPECT_EQ(EpcPatternPrefix("urn:epc:idpat:sgtin:0614141.107346.*"),
            "urn:epc:id:sgtin:0614141.107346.");
  EXPECT_EQ(EpcPatternPrefix("urn:epc:idpat:sscc:*"), "urn:epc:id:sscc:");
}

TEST_F(EventQueryTest, ParametersCombineWithAnd) {
  Append(StandardEvents());
  CatchUp();
  EXPECT_EQ(Ids({{"MATCH_anyEPC", kItem1}, {"EQ_bizStep", "shipping"},
                 {"eventType", "ObjectEvent"}}),
            IdList{"urn:uuid:q-1"});
  EXPECT_EQ(Ids({{"MATCH_anyEPC", kPallet}, {"MATCH_epc", kItem3},
                 {"GE_eventTime", "2026-03-04T00:00:00Z"}}),
            (IdList{"urn:uuid:q-5", "urn:uuid:n-2"}));
  EXPECT_TRUE(Ids({{"MATCH_epc", kItem1}, {"eventType", "TransactionEvent"}}).empty());
}

TEST_F(EventQueryTest, PagesTogetherAreTheWholeAnswerWithoutRepeats) {
  Append(StandardEvents());
  CatchUp();
  const projections::ViewReader* no_index = nullptr;
  for (const projections::ViewReader* history : {History(), no_index}) {
    const AllPages all = RunAll({{"perPage", "3"}}, history);
    EXPECT_EQ(all.ids, kAllEpcis);
    EXPECT_EQ(all.pages, 3u);
    const AllPages matched = RunAll({{"perPage", "1"}, {"MATCH_anyEPC", kPallet}}, history);
    EXPECT_EQ(matched.ids, (IdList{"urn:uuid:q-3", "urn:uuid:q-5", "urn:uuid:n-2"}));
    EXPECT_EQ(matched.pages, 3u);  // the last page knows it is the last: no empty extra page
  }
  // perPage may change between pages; the token still fits the query.
  const QueryPage first = Run(Parse({{"perPage", "2"}}), History());
  ASSERT_TRUE(first.next_page_token.has_value());
  const QueryPage second =
      Run(Parse({{"perPage", "100"}, {"nextPageToken", *first.next_page_token}}), History());
  EXPECT_EQ(second.document["epcisBody"]["queryResults"]["resultsBody"]["eventList"].size(), 6u);
  EXPECT_FALSE(second.next_page_token.has_value());
}

TEST_F(EventQueryTest, ScanBudgetEndsAPageEarlyWithAToken) {
  Append(StandardEvents());
  QueryOptions options;
  options.max_scan_entries = 3;
  const QueryPage first = Run(Parse({}), nullptr, {}, options);
  EXPECT_EQ(first.entries_examined, 3u);
  EXPECT_EQ(first.document["epcisBody"]["queryResults"]["resultsBody"]["eventList"].size(), 3u);
  ASSERT_TRUE(first.next_page_token.has_value());
  const AllPages all = RunAll({}, nullptr, {}, options);
  EXPECT_EQ(all.ids, kAllEpcis);
  EXPECT_EQ(all.pages, 4u);  // 10 entries, 3 per page
  // A rare event: pages may be empty but still lead on.
  const AllPages rare = RunAll({{"EQ_bizStep", "unpacking"}}, nullptr, {}, options);
  EXPECT_EQ(rare.ids, IdList{"urn:uuid:n-2"});
  EXPECT_EQ(rare.pages, 4u);
}

TEST_F(EventQueryTest, IndexReadsOnlyCandidatesAndScansWhatTheViewHasNotApplied) {
  Append(StandardEvents());
  CatchUp();
  // The index finds q-1's item 4 without reading the other entries.
  EXPECT_EQ(Run(Parse({{"MATCH_epc", kItem4}}), History()).entries_examined, 1u);
  EXPECT_EQ(Run(Parse({{"MATCH_epc", kItem4}}), nullptr).entries_examined, 10u);
  // A budget that could not scan the ledger is enough for the index.
  QueryOptions tight;
  tight.max_scan_entries = 3;
  const QueryPage indexed = Run(Parse({{"MATCH_epc", kItem1}}), History(), {}, tight);
  EXPECT_EQ(indexed.document["epcisBody"]["queryResults"]["resultsBody"]["eventList"].size(), 3u);
  EXPECT_FALSE(indexed.next_page_token.has_value());
  // Events appended after the view's last catch-up are found by scanning the tail.
  std::string late(kShip);
  late.replace(late.find("urn:uuid:q-1"), 12, "urn:uuid:q-7");
  Append({{"urn:uuid:q-7", kPartyA, v1::EVENT_ENCODING_EPCIS_JSON, late}});
  const QueryPage lagging = Run(Parse({{"MATCH_epc", kItem1}}), History());
  IdList ids;
  for (const auto& e : lagging.document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) {
    ids.push_back(e["eventID"]);
  }
  EXPECT_EQ(ids, (IdList{"urn:uuid:q-1", "urn:uuid:q-2", "urn:uuid:q-3", "urn:uuid:q-7"}));
  EXPECT_EQ(lagging.entries_examined, 4u);  // 3 candidates + the 1 unindexed entry
  // Too many index rows: the query scans instead and still answers.
  QueryOptions few_rows;
  few_rows.max_index_rows = 1;
  EXPECT_EQ(Run(Parse({{"MATCH_epc", kItem1}}), History(), {}, few_rows).entries_examined, 11u);
}

TEST_F(EventQueryTest, AnEnterpriseSeesOnlyItsOwnEvents) {
  Append(StandardEvents());
  CatchUp();
  const QueryScope b{std::string(kPartyB)};
  EXPECT_EQ(Ids({}, b), (IdList{"urn:uuid:q-2", "urn:uuid:q-5", "urn:uuid:n-2"}));
  EXPECT_EQ(Ids({{"MATCH_anyEPC", kItem1}}, b), IdList{"urn:uuid:q-2"});
  EXPECT_EQ(Ids({{"MATCH_anyEPC", kPallet}}, b), (IdList{"urn:uuid:q-5", "urn:uuid:n-2"}));
  EXPECT_TRUE(Ids({{"MATCH_anyEPC", kItem1}}, QueryScope{std::string(kRegulator)}).empty());
  const AllPages paged = RunAll({{"perPage", "1"}}, History(), b);
  EXPECT_EQ(paged.ids, (IdList{"urn:uuid:q-2", "urn:uuid:q-5", "urn:uuid:n-2"}));
}

QueryError ErrorOf(const Params& params) {
  auto parsed = ParseEventQuery(params);
  if (!std::holds_alternative<QueryError>(parsed)) {
    ADD_FAILURE() << "parameters were accepted";
    return {};
  }
  return std::get<QueryError>(parsed);
}

TEST(ParseEventQueryTest, EachBadParameterNamesItsRule) {
  struct Case {
    Params params;
    std::string parameter;
    std::string rule;
  };
  const std::vector<Case> cases = {
      {{{"colour", "red"}}, "colour", "unknown_parameter"},
      {{{"match_epc", kItem1}}, "match_epc", "unknown_parameter"},
      {{{"EQ_action", "ADD"}}, "EQ_action", "unsupported_parameter"},
      {{{"GE_recordTime", "2026-01-01T00:00:00Z"}}, "GE_recordTime", "unsupported_parameter"},
      {{{"orderBy", "eventTime"}}, "orderBy", "unsupported_parameter"},
      {{{"GE_eventTime", "2026-01-01T00:00:00Z"}, {"GE_eventTime", "2026-01-02T00:00:00Z"}},
       "GE_eventTime", "repeated_parameter"},
      {{{"perPage", "5"}, {"perPage", "5"}}, "perPage", "repeated_parameter"},
      {{{"EQ_bizStep", "shipping||receiving"}}, "EQ_bizStep", "empty_value"},
      {{{"MATCH_epc", ""}}, "MATCH_epc", "empty_value"},
      {{{"LT_eventTime", ""}}, "LT_eventTime", "empty_value"},
      {{{"MATCH_anyEPC", std::string(kMaxValueBytes + 1, 'x')}}, "MATCH_anyEPC", "value_too_long"},
      {{{"GE_eventTime", "2026-01-01"}}, "GE_eventTime", "bad_time"},
      {{{"LT_eventTime", "2026-01-01T00:00:00"}}, "LT_eventTime", "bad_time"},
      {{{"LT_eventTime", "yesterday"}}, "LT_eventTime", "bad_time"},
      {{{"eventType", "ObjectEvent|QuantityEvent"}}, "eventType", "bad_event_type"},
      {{{"eventType", "objectevent"}}, "eventType", "bad_event_type"},
      {{{"perPage", "0"}}, "perPage", "bad_per_page"},
      {{{"perPage", "1001"}}, "perPage", "bad_per_page"},
      {{{"perPage", "-1"}}, "perPage", "bad_per_page"},
      {{{"perPage", "ten"}}, "perPage", "bad_per_page"},
      {{{"MATCH_epc", "urn:epc:idpat:sgtin:*.107346.*"}}, "MATCH_epc", "bad_epc_pattern"},
      {{{"nextPageToken", "abc"}}, "nextPageToken", "bad_page_token"},
      {{{"nextPageToken", "AQAAAAAAAAAAAAAAAAAAAA=="}}, "nextPageToken", "bad_page_token"},
      {{{"nextPageToken", "!QAAAAAAAAAAAAAAAAAAAAAA"}}, "nextPageToken", "bad_page_token"},
      {{{"nextPageToken", "AgAAAAAAAAAAAAAAAAAAAAAA"}}, "nextPageToken", "bad_page_token"},
  };
  for (const Case& c : cases) {
    const QueryError error = ErrorOf(c.params);
    EXPECT_EQ(error.parameter, c.parameter) << c.params[0].first << "=" << c.params[0].second;
    EXPECT_EQ(error.rule, c.rule) << c.params[0].first << "=" << c.params[0].second << ": "
                                  << error.detail;
    EXPECT_FALSE(error.detail.empty());
  }
  Params many;
  for (size_t i = 0; i <= kMaxValuesPerParameter; ++i) {
    many.emplace_back("MATCH_epc", "urn:epc:id:sgtin:9521234.054321." + std::to_string(i));
  }
  EXPECT_EQ(ErrorOf(many).rule, "too_many_values");
}

TEST(ParseEventQueryTest, ATokenOnlyFitsTheQueryThatIssuedIt) {
  auto parsed = ParseEventQuery({{"MATCH_epc", kItem1}, {"EQ_bizStep", "shipping"}});
  ASSERT_TRUE(std::holds_alternative<EventQuery>(parsed));
  const std::string token = EncodePageToken(std::get<EventQuery>(parsed), 7);
  EXPECT_EQ(token.size(), 24u);
  EXPECT_EQ(token.find_first_of("+/="), std::string::npos);  // base64url, no padding
  // The same filter, values in another order and split otherwise, takes the token.
  auto same = ParseEventQuery({{"EQ_bizStep", "shipping"}, {"MATCH_epc", kItem1},
                               {"perPage", "3"}, {"nextPageToken", token}});
  ASSERT_TRUE(std::holds_alternative<EventQuery>(same));
  EXPECT_EQ(std::get<EventQuery>(same).start_sequence, 7u);
  // Any other filter refuses it.
  for (const Params& other :
       {Params{{"MATCH_epc", kItem1}}, Params{{"MATCH_anyEPC", kItem1}, {"EQ_bizStep", "shipping"}},
        Params{{"MATCH_epc", kItem2}, {"EQ_bizStep", "shipping"}},
        Params{{"MATCH_epc", kItem1}, {"EQ_bizStep", "shipping"},
               {"GE_eventTime", "2026-01-01T00:00:00Z"}}}) {
    Params with_token = other;
    with_token.emplace_back("nextPageToken", token);
    const QueryError error = ErrorOf(with_token);
    EXPECT_EQ(error.parameter, "nextPageToken");
    EXPECT_EQ(error.rule, "page_token_of_other_query") << error.detail;
  }
}

TEST_F(EventQueryTest, ATokenPastTheLedgerEndIsRefused) {
  Append(StandardEvents());
  const EventQuery query = Parse({});
  const EventQuery forged = Parse({{"nextPageToken", EncodePageToken(query, 11)}});
  auto page = RunEventQuery(*ledger_, nullptr, forged, {}, {});
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(page.status().message().find("past the end"), std::string::npos);
  // The end itself is a valid (empty, last) page.
  const QueryPage at_end = Run(Parse({{"nextPageToken", EncodePageToken(query, 10)}}), nullptr);
  EXPECT_TRUE(at_end.document["epcisBody"]["queryResults"]["resultsBody"]["eventList"].empty());
  EXPECT_FALSE(at_end.next_page_token.has_value());
}

// ---------------------------------------------------------------------------------------------
// RenderEpcisEvent round trip.

void ExpectRoundTrip(const v1::Event& event, const std::string& what) {
  Result<OrderedJson> rendered = RenderEpcisEvent(event);
  ASSERT_TRUE(rendered.ok()) << what << ": " << rendered.status().ToString();
  Result<v1::Event> decoded = ingest::DecodeEpcisJsonEvent(rendered->dump());
  ASSERT_TRUE(decoded.ok()) << what << ": " << decoded.status().ToString() << "\n"
                            << rendered->dump(2);
  decoded->set_submitter_id(event.submitter_id());  // EPCIS has no submitter
  std::string diff;
  pb::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(event, *decoded)) << what << ": " << diff << "\n"
                                                    << rendered->dump(2);
}

TEST(RenderEpcisEventTest, NativeEventsOfEveryTypeRoundTrip) {
  const std::vector<std::string> natives = {
      R"json({"eventId": "urn:uuid:r-1", "submitterId": "9521234000004",
        "objectEvent": {"common": {"eventTime": "2026-03-07T01:02:03.456789Z",
          "eventTimeZoneOffset": "+08:00", "recordTime": "2026-03-07T01:05:00Z",
          "certificationInfo": ["https://cert.example/1"], "bizStep": "commissioning",
          "disposition": "active", "readPoint": {"id": "urn:epc:id:sgln:9521234.00001.0",
            "extensions": {"ext1:gate": "3"}},
          "bizLocation": {"id": "urn:epc:id:sgln:9521234.00001.0"},
          "persistentDisposition": {"set": ["completeness_verified"], "unset": ["needs_replacement"]},
          "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:9521234000004:1"},
                                 {"bizTransaction": "urn:epcglobal:cbv:bt:9521234000004:2"}],
          "sourceList": [{"type": "owning_party", "id": "urn:epc:id:pgln:9521234.00000"}],
          "destinationList": [{"type": "location", "id": "urn:epc:id:sgln:9521235.00001.0"}],
          "sensorElementList": [{"sensorMetadata": {"time": "2026-03-07T01:00:00Z",
              "deviceId": "urn:epc:id:giai:9521234.T1", "startTime": "2026-03-07T00:00:00Z",
              "endTime": "2026-03-07T01:00:00Z", "bizRules": "https://rules.example/1",
              "extensions": {"ext1:firmware": "2.1"}},
            "sensorReports": [{"type": "Temperature", "value": 4.5, "uom": "CEL",
              "minValue": 2, "maxValue": 7.25, "meanValue": 4.5, "sDev": 0.5, "percRank": 50,
              "percValue": 4.4, "time": "2026-03-07T00:30:00Z", "exception": "ALARM_CONDITION",
              "component": "x", "stringValue": "", "booleanValue": false,
              "hexBinaryValue": "0aff", "uriValue": "https://u.example/", "deviceId": "urn:epc:id:giai:9521234.T2",
              "deviceMetadata": "https://m.example/", "rawData": "https://raw.example/",
              "dataProcessingMethod": "https://dpm.example/", "bizRules": "https://br.example/",
              "microorganism": "https://www.ncbi.nlm.nih.gov/taxonomy/1110693",
              "chemicalSubstance": "https://identifiers.org/inchikey:X",
              "coordinateReferenceSystem": "http://www.opengis.net/def/crs/EPSG/0/4326",
              "extensions": {"ext1:calibrated": true}}],
            "extensions": {"ext1:zone": {"a": [1, "b", null]}}}],
          "extensions": {"ext1:float": 20.0, "ext1:nested": {"k": "v"}}},
        "action": "ACTION_ADD",
        "epcList": ["urn:epc:id:sgtin:9521234.054321.1001"],
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:9521234.054321.L1", "quantity": 2000,
                          "uom": "KGM"},
                         {"epcClass": "urn:epc:idpat:sgtin:9521234.054321.*", "quantity": 0.25, "uom": "LTR"},
                         {"epcClass": "urn:epc:class:lgtin:9521234.054321.L2"}],
        "ilmd": {"lotNumber": "L1", "itemExpirationDate": "2027-01-01",
                 "productionDate": "2026-03-01", "bestBeforeDate": "2026-12-01",
                 "sellByDate": "2026-11-01", "extensions": {"cbvmda:countryOfOrigin": "CN"}}}})json",
      R"json({"eventId": "urn:uuid:r-2", "submitterId": "9521234000004",
        "aggregationEvent": {"common": {"eventTime": "2026-03-07T00:00:00Z",
          "eventTimeZoneOffset": "-05:00"}, "action": "ACTION_DELETE",
          "parentId": "urn:epc:id:sscc:9521234.0000000011",
          "childEpcs": ["urn:epc:id:sgtin:9521234.054321.1001"],
          "childQuantityList": [{"epcClass": "urn:epc:class:lgtin:9521234.054321.L1", "quantity": 3}]}})json",
      R"json({"eventId": "urn:uuid:r-3", "submitterId": "9521234000004",
        "transactionEvent": {"common": {"eventTime": "2026-03-07T00:00:00Z",
          "eventTimeZoneOffset": "+00:00",
          "bizTransactionList": [{"type": "inv", "bizTransaction": "urn:epcglobal:cbv:bt:9521234000004:9"}]},
          "action": "ACTION_OBSERVE", "parentId": "urn:epc:id:sscc:9521234.0000000011",
          "epcList": ["urn:epc:id:sgtin:9521234.054321.1001"],
          "quantityList": [{"epcClass": "urn:epc:class:lgtin:9521234.054321.L1", "quantity": 1}]}})json",
      R"json({"eventId": "urn:uuid:r-4", "submitterId": "9521234000004",
        "transformationEvent": {"common": {"eventTime": "2026-03-07T00:00:00Z",
          "eventTimeZoneOffset": "+08:00", "bizStep": "transforming"},
          "inputEpcList": ["urn:epc:id:sgtin:9521234.054321.1001"],
          "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:9521234.054321.L1", "quantity": 10, "uom": "KGM"}],
          "outputEpcList": ["urn:epc:id:sgtin:9521234.054322.2001"],
          "outputQuantityList": [{"epcClass": "urn:epc:class:lgtin:9521234.054322.P1", "quantity": 20}],
          "transformationId": "urn:epc:id:gdti:9521234.00001.1",
          "ilmd": {"lotNumber": "P1"}}})json",
      R"json({"eventId": "urn:uuid:r-5", "submitterId": "9521234000004",
        "associationEvent": {"common": {"eventTime": "2026-03-07T00:00:00Z",
          "eventTimeZoneOffset": "+08:00"}, "action": "ACTION_ADD",
          "parentId": "urn:epc:id:grai:9521234.00001.77",
          "childEpcs": ["https://id.gs1.org/01/09521234543213/21/ABC"],
          "childQuantityList": [{"epcClass": "urn:epc:class:lgtin:9521234.054321.L1", "quantity": 4}]}})json",
      // An error declaration: EPCIS repeats the erroneous event's id.
      R"json({"eventId": "urn:uuid:r-1#error-declaration", "submitterId": "9521234000004",
        "objectEvent": {"common": {"eventTime": "2026-03-07T01:02:03Z",
          "eventTimeZoneOffset": "+08:00",
          "errorDeclaration": {"declarationTime": "2026-03-08T00:00:00Z", "reason": "incorrect_data",
            "correctiveEventIds": ["urn:uuid:r-6"], "erroneousEventId": "urn:uuid:r-1",
            "extensions": {"ext1:ticket": "T-1"}}},
        "action": "ACTION_OBSERVE", "epcList": ["urn:epc:id:sgtin:9521234.054321.1001"]}})json",
  };
  for (const std::string& json : natives) {
    const v1::Event event = NativeOf(json);
    ExpectRoundTrip(event, event.event_id());
  }
  const OrderedJson rendered = *RenderEpcisEvent(NativeOf(natives[0]));
  EXPECT_EQ(rendered.begin().key(), "type");
  EXPECT_EQ(rendered["quantityList"][0]["quantity"].dump(), "2000");  // whole: an integer
  EXPECT_EQ(rendered["ilmd"]["cbvmda:lotNumber"], "L1");
  EXPECT_EQ(rendered["sensorElementList"][0]["sensorReport"][0]["deviceID"],
            "urn:epc:id:giai:9521234.T2");
  EXPECT_EQ((*RenderEpcisEvent(NativeOf(natives[5])))["eventID"], "urn:uuid:r-1");
}

TEST(RenderEpcisEventTest, RegulatorEventsAreNotEpcisEvents) {
  const v1::Event recall = NativeOf(R"json({"eventId": "urn:uuid:x", "submitterId": "regulator:A",
      "recall": {"recallId": "RC-1"}})json");
  EXPECT_FALSE(projections::IsEpcisEvent(recall));
  auto rendered = RenderEpcisEvent(recall);
  ASSERT_FALSE(rendered.ok());
  EXPECT_EQ(rendered.status().code(), StatusCode::kInvalidArgument);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Every event of the repository's own EPCIS fixtures (ingest/testdata/epcis/, written for
// this project) survives decode -> render -> decode.
TEST(RenderEpcisEventTest, RepositoryFixturesRoundTrip) {
  const std::filesystem::path dir = std::filesystem::path(TL_SOURCE_DIR) / "ingest/testdata/epcis";
  int checked = 0;
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    if (file.path().extension() != ".jsonld") continue;
    const OrderedJson document = OrderedJson::parse(ReadFile(file.path()), nullptr, false);
    ASSERT_TRUE(document.is_object()) << file.path();
    for (const auto& element : document["epcisBody"]["eventList"]) {
      Result<v1::Event> event = ingest::DecodeEpcisJsonEvent(element.dump());
      ASSERT_TRUE(event.ok()) << file.path() << ": " << event.status().ToString();
      ExpectRoundTrip(*event, file.path().filename().string() + " " + event->event_id());
      ++checked;
    }
  }
  EXPECT_GE(checked, 9);
}

// ---------------------------------------------------------------------------------------------
// Conformance: every event of the GS1 EPCIS 2.0 example documents, once captured, is found.
// Set TL_EPCIS_CONFORMANCE_DIR to their directory (not in the repository; see
// check_conformance.sh). TL_QUERY_DOCUMENT_OUT, if set, receives the full query document so
// the script can validate it against the EPCIS JSON schema.

std::string FirstEpc(const OrderedJson& event) {
  for (const char* list : {"epcList", "childEPCs", "inputEPCList", "outputEPCList"}) {
    if (event.contains(list) && !event[list].empty()) return event[list][0];
  }
  if (event.contains("parentID")) return event["parentID"];
  return "";
}

TEST_F(EventQueryTest, EveryConformanceExampleIsFoundOnceCaptured) {
  const char* dir = std::getenv("TL_EPCIS_CONFORMANCE_DIR");
  if (dir == nullptr) GTEST_SKIP() << "TL_EPCIS_CONFORMANCE_DIR not set";
  std::vector<Stored> captured;
  std::vector<OrderedJson> objects;
  std::vector<std::filesystem::path> files;
  for (const auto& file : std::filesystem::recursive_directory_iterator(dir)) {
    if (file.path().extension() == ".jsonld") files.push_back(file.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    const OrderedJson document = OrderedJson::parse(ReadFile(path), nullptr, false);
    ASSERT_TRUE(document.is_object()) << path;
    const OrderedJson& body = document["epcisBody"];
    const OrderedJson& list = body.contains("eventList")
                                  ? body["eventList"]
                                  : body["queryResults"]["resultsBody"]["eventList"];
    for (size_t i = 0; i < list.size(); ++i) {
      // A ledger id per example event: several examples share eventIDs, 7 have none.
      const std::string id =
          std::filesystem::relative(path, dir).string() + "#" + std::to_string(i);
      captured.push_back({id, "conformance", v1::EVENT_ENCODING_EPCIS_JSON, list[i].dump()});
      objects.push_back(list[i]);
    }
  }
  ASSERT_GE(captured.size(), 56u);
  Append(captured);
  CatchUp();

  size_t by_epc = 0;
  for (const OrderedJson& object : objects) {
    const std::string epc = FirstEpc(object);
    Params params;
    if (!epc.empty()) {
      params = {{"MATCH_anyEPC", epc}};
      ++by_epc;
    } else {
      params = {{"eventType", object["type"]}, {"GE_eventTime", object["eventTime"]}};
    }
    params.emplace_back("perPage", "1000");
    const AllPages found = RunAll(params, History());
    EXPECT_NE(std::find(found.events.begin(), found.events.end(), object), found.events.end())
        << "not found: " << object.dump().substr(0, 200);
  }
  EXPECT_GT(by_epc, 40u);
  // Everything by paging through the whole ledger, too.
  const AllPages everything = RunAll({{"perPage", "7"}}, History());
  EXPECT_EQ(everything.events, objects);

  if (const char* out = std::getenv("TL_QUERY_DOCUMENT_OUT"); out != nullptr) {
    Append(StandardEvents());  // native events too, rendered, for the schema check
    const QueryPage page = Run(Parse({{"perPage", "1000"}}), History());
    std::ofstream(out) << page.document.dump(2) << "\n";
  }
}

}  // namespace
}  // namespace traceledger::api
