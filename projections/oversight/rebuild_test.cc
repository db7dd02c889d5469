// The three oversight views together: over the demo data set (tools/demo/sample_events.jsonl)
// and a few anomalies, built incrementally in small batches and rebuilt in one go.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "ledger/data_dir.h"
#include "projections/oversight/cylinders.h"
#include "projections/oversight/enforcement.h"
#include "projections/oversight/serials.h"
#include "projections/runner.h"

#ifndef TL_SOURCE_DIR
#error "TL_SOURCE_DIR must name the repository root"
#endif

namespace traceledger::projections {
namespace {

std::vector<std::unique_ptr<Projection>> OversightProjections() {
  std::vector<std::unique_ptr<Projection>> out;
  out.push_back(NewSerialsProjection());
  out.push_back(NewCylindersProjection());
  out.push_back(NewEnforcementProjection());
  return out;
}

std::map<std::string, std::string> Dump(const ViewStore& store, std::string_view view) {
  std::map<std::string, std::string> rows;
  EXPECT_TRUE(store
                  .ForEach(view,
                           [&](std::string_view k, std::string_view v) {
                             rows.emplace(k, v);
                             return true;
                           })
                  .ok());
  return rows;
}

ledger::AppendRequest JsonRequest(const std::string& json) {
  v1::Event event;
  google::protobuf::util::JsonParseOptions options;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &event, options).ok()) << json;
  ledger::AppendRequest request;
  request.event_id = event.event_id();
  request.submitter_id = event.submitter_id();
  request.encoding = v1::EVENT_ENCODING_JSON;
  request.event = json;
  request.source.mutable_file()->set_path("rebuild_test");
  return request;
}

// The demo data set, one native JSON event per line.
std::vector<std::string> DemoEvents() {
  std::ifstream in(std::string(TL_SOURCE_DIR) + "/tools/demo/sample_events.jsonl");
  EXPECT_TRUE(in.good());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Anomalies on the demo's objects, after it (as native JSON).
std::vector<std::string> AnomalyEvents() {
  return {
      // The pharmacy dispenses a pack the demo dispensed already.
      R"({"eventId":"urn:uuid:anomaly-1","submitterId":"91310104MA1J00008B","objectEvent":{"common":{"eventTime":"2026-11-19T06:20:00Z","bizStep":"dispensing"},"action":"ACTION_OBSERVE","epcList":["cn-drug:81001260000010032757"]}})",
      // A hospital dispenses a pack the pharmacy holds.
      R"({"eventId":"urn:uuid:anomaly-2","submitterId":"12310000MB2A00099X","objectEvent":{"common":{"eventTime":"2026-11-19T07:00:00Z","bizStep":"dispensing"},"action":"ACTION_OBSERVE","epcList":["cn-drug:81001260000010016919"]}})",
      // A pack nobody commissioned.
      R"({"eventId":"urn:uuid:anomaly-3","submitterId":"91310104MA1J00008B","objectEvent":{"common":{"eventTime":"2026-11-19T08:00:00Z","bizStep":"receiving"},"action":"ACTION_OBSERVE","epcList":["cn-drug:99999999999999999999"]}})",
      // Another station fills the demo's cylinder.
      R"({"eventId":"urn:uuid:anomaly-4","submitterId":"91310115MA1E00011X","cylinderFill":{"cylinderId":"SH-LPG-2019-004512","stationId":"91310115MA1E00011X","filledAt":"2026-11-21T01:00:00Z","medium":"LPG","netMassKg":14.1}})",
      // The shop's second unqualified sampling within a year.
      R"({"eventId":"urn:uuid:anomaly-5","submitterId":"regulator:SAMR-310104","samplingResult":{"sampleId":"CJ-2026-310104-1002","enterpriseId":"91310104MA1F000047","objectIds":["urn:epc:class:lgtin:9521002.010001.L261110"],"sampledAt":"2026-11-25T03:00:00Z","reportedAt":"2026-11-28T08:00:00Z","labId":"12310000MB2B000113","verdict":"VERDICT_UNQUALIFIED","failedItems":[{"item":"protein"}]}})",
  };
}

class OversightTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("oversight_rebuild_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto ledger = ledger::CreateDataDir((dir_ / "ledger").string(), "oversight.test/log", {});
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(ledger).value();
    source_ = LedgerEntrySource(*ledger_);
  }
  void TearDown() override {
    source_.reset();
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Append(const std::vector<std::string>& events) {
    std::vector<ledger::AppendRequest> requests;
    for (const std::string& json : events) requests.push_back(JsonRequest(json));
    auto appended = ledger_->Append(std::move(requests));
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  }

  std::filesystem::path dir_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<EntrySource> source_;
};

TEST_F(OversightTest, TheDemoDataSetRaisesNoAlertsAndFlagsTheFinedDairy) {
  Append(DemoEvents());
  auto runner = *ProjectionRunner::Open((dir_ / "views").string(), OversightProjections(), {});
  ASSERT_TRUE(runner->CatchUp(*source_).ok());
  const ViewStore& store = runner->store();

  auto serial_alerts = SerialAlerts(store.Reader(kSerialsViewName), 0, 100);
  ASSERT_TRUE(serial_alerts.ok());
  for (const auto& alert : serial_alerts->alerts()) ADD_FAILURE() << alert.message();
  auto pack = SerialStatus(store.Reader(kSerialsViewName), "cn-drug:81001260000010032757");
  ASSERT_TRUE(pack.ok());
  EXPECT_EQ(pack->state().stage(), v1::SERIAL_STAGE_DISPENSED);
  EXPECT_EQ(pack->state().holder(), "91310104MA1J00008B");
  auto other = SerialStatus(store.Reader(kSerialsViewName), "cn-drug:81001260000010016919");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->state().stage(), v1::SERIAL_STAGE_RECEIVED);
  EXPECT_EQ(other->state().packed_in(), "");

  auto cylinder_alerts = CylinderAlerts(store.Reader(kCylindersViewName), 0, 100);
  ASSERT_TRUE(cylinder_alerts.ok());
  for (const auto& alert : cylinder_alerts->alerts()) ADD_FAILURE() << alert.message();
  auto cylinder = CylinderStatus(store.Reader(kCylindersViewName), "SH-LPG-2019-004512");
  ASSERT_TRUE(cylinder.ok());
  EXPECT_EQ(cylinder->record().next_inspection_due(), "2027-06-19");
  EXPECT_EQ(cylinder->record().design_life_ends_on(), "2027-06-20");
  EXPECT_EQ(cylinder->recent_fills_size(), 2);
  // The gate: fine until the due date, overdue after, and past design life a day later.
  auto permit = FillPermitFor(store.Reader(kCylindersViewName), "SH-LPG-2019-004512",
                              "91310112MA1E00009N", 1781827200LL * 1000000);  // 2026-06-19
  ASSERT_TRUE(permit.ok());
  EXPECT_TRUE(permit->allowed());
  permit = FillPermitFor(store.Reader(kCylindersViewName), "SH-LPG-2019-004512",
                         "91310112MA1E00009N", (1813449600LL + 86400) * 1000000);  // 2027-06-21
  ASSERT_TRUE(permit.ok());
  EXPECT_EQ(permit->reasons_size(), 2);

  auto dairy = Credit(store.Reader(kEnforcementViewName), "91310115MA1H000024");
  ASSERT_TRUE(dairy.ok());
  EXPECT_TRUE(dairy->flagged());
  auto shop = Credit(store.Reader(kEnforcementViewName), "91310104MA1F000047");
  ASSERT_TRUE(shop.ok());
  EXPECT_FALSE(shop->flagged());  // one unqualified sampling
  auto timeline = Timeline(store.Reader(kEnforcementViewName), "91310104MA1F000047", 10);
  ASSERT_TRUE(timeline.ok());
  ASSERT_EQ(timeline->items_size(), 2);  // the sampling, then the recall removal
  EXPECT_EQ(timeline->items(0).kind(), v1::TIMELINE_ITEM_KIND_SAMPLING_RESULT);
  EXPECT_EQ(timeline->items(1).kind(), v1::TIMELINE_ITEM_KIND_RECALL_REMOVAL);
}

TEST_F(OversightTest, ARebuiltViewIsByteIdenticalToTheIncrementalOne) {
  RunnerOptions small_batches;
  small_batches.batch_entries = 3;
  auto incremental =
      *ProjectionRunner::Open((dir_ / "incremental").string(), OversightProjections(), small_batches);
  std::vector<std::string> events = DemoEvents();
  for (const std::string& anomaly : AnomalyEvents()) events.push_back(anomaly);
  for (size_t i = 0; i < events.size(); i += 5) {
    Append(std::vector<std::string>(events.begin() + static_cast<ptrdiff_t>(i),
                                    events.begin() + static_cast<ptrdiff_t>(
                                                         std::min(events.size(), i + 5))));
    ASSERT_TRUE(incremental->CatchUp(*source_).ok());
  }
  auto rebuilt = *ProjectionRunner::Open((dir_ / "rebuilt").string(), OversightProjections(), {});
  ASSERT_TRUE(rebuilt->CatchUp(*source_).ok());
  for (std::string_view view : {kSerialsViewName, kCylindersViewName, kEnforcementViewName}) {
    ASSERT_TRUE(rebuilt->Rebuild(view).ok());
    EXPECT_EQ(rebuilt->NextSequence(view), 0u);
  }
  ASSERT_TRUE(rebuilt->CatchUp(*source_).ok());
  for (std::string_view view : {kSerialsViewName, kCylindersViewName, kEnforcementViewName}) {
    const auto a = Dump(incremental->store(), view);
    const auto b = Dump(rebuilt->store(), view);
    EXPECT_GT(a.size(), 3u) << view;
    EXPECT_EQ(a, b) << view;
  }

  // And the anomalies are there.
  const ViewStore& store = incremental->store();
  auto serial_alerts = SerialAlerts(store.Reader(kSerialsViewName), 0, 100);
  ASSERT_TRUE(serial_alerts.ok());
  std::vector<v1::SerialAlertKind> kinds;
  for (const auto& alert : serial_alerts->alerts()) kinds.push_back(alert.kind());
  EXPECT_EQ(kinds, (std::vector{v1::SERIAL_ALERT_KIND_DOUBLE_DISPENSING,
                                v1::SERIAL_ALERT_KIND_NOT_HOLDER,
                                v1::SERIAL_ALERT_KIND_UNKNOWN_SERIAL}));
  auto cylinder_alerts = CylinderAlerts(store.Reader(kCylindersViewName), 0, 100);
  ASSERT_TRUE(cylinder_alerts.ok());
  ASSERT_EQ(cylinder_alerts->alerts_size(), 1);
  EXPECT_EQ(cylinder_alerts->alerts(0).kind(), v1::FILL_DENIAL_REASON_OTHER_STATION);
  auto shop = Credit(store.Reader(kEnforcementViewName), "91310104MA1F000047");
  ASSERT_TRUE(shop.ok());
  EXPECT_TRUE(shop->flagged());
}

}  // namespace
}  // namespace traceledger::projections
