#include "projections/oversight/cylinders.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "ledger/data_dir.h"
#include "projections/keys.h"
#include "projections/runner.h"

namespace traceledger::projections {
namespace {

constexpr char kStation[] = "91310112MA1E00009N";
constexpr char kOtherStation[] = "91310115MA1E00011X";
constexpr char kAgency[] = "12310000MB2A00010D";
constexpr char kCylinder[] = "SH-LPG-2019-004512";

// Seconds since the epoch of `date` at `hour`:00 UTC.
int64_t Seconds(std::string_view date, int hour = 0) {
  return *DaysFromDate(date) * 86400 + hour * 3600;
}
int64_t Micros(std::string_view date, int hour = 0) { return Seconds(date, hour) * 1000000; }

std::vector<v1::FillDenialReason> Reasons(const v1::FillPermit& permit) {
  std::vector<v1::FillDenialReason> out;
  for (int reason : permit.reasons()) out.push_back(static_cast<v1::FillDenialReason>(reason));
  return out;
}

// A registered, inspected, young cylinder of kStation: every fill in 2026 is allowed.
v1::CylinderRecord GoodRecord() {
  v1::CylinderRecord record;
  record.set_cylinder_id(kCylinder);
  record.set_registered(true);
  record.set_owner_station_id(kStation);
  record.set_manufactured_on("2022-03-15");
  record.set_design_life_years(8);
  record.set_design_life_ends_on("2030-03-15");
  record.set_last_inspected_on("2022-03-15");
  record.set_next_inspection_due("2026-03-15");
  return record;
}

TEST(CalendarTest, DatesAndDaysRoundTrip) {
  EXPECT_EQ(DaysFromDate("1970-01-01"), 0);
  EXPECT_EQ(DaysFromDate("2026-01-01"), 20454);
  EXPECT_EQ(DateFromDays(20454), "2026-01-01");
  EXPECT_EQ(DateFromDays(-1), "1969-12-31");
  EXPECT_EQ(DaysFromDate("2024-02-29").value() + 1, DaysFromDate("2024-03-01").value());
  EXPECT_FALSE(DaysFromDate("2025-02-29").has_value());
  EXPECT_FALSE(DaysFromDate("2025-13-01").has_value());
  EXPECT_FALSE(DaysFromDate("2025-1-01").has_value());
  EXPECT_FALSE(DaysFromDate("").has_value());
  EXPECT_EQ(UtcDay(-1), -1);
  EXPECT_EQ(UtcDay(Micros("2026-03-15", 23) + 3599999999), *DaysFromDate("2026-03-15"));
  EXPECT_EQ(AddYears("2022-03-15", 8), "2030-03-15");
  EXPECT_EQ(AddYears("2016-02-29", 8), "2024-02-29");
  EXPECT_EQ(AddYears("2016-02-29", 9), "2025-02-28");
  EXPECT_EQ(AddYears("not a date", 9), "");
}

TEST(CheckFillTest, AGoodCylinderMayBeFilledByItsStation) {
  const v1::FillPermit permit = CheckFill(GoodRecord(), kStation, Micros("2026-03-15", 23));
  EXPECT_TRUE(permit.allowed());
  EXPECT_TRUE(Reasons(permit).empty());
  EXPECT_EQ(permit.cylinder_id(), kCylinder);
  EXPECT_EQ(permit.station_id(), kStation);
}

TEST(CheckFillTest, EachReasonAlone) {
  // Unregistered: no row at all.
  v1::FillPermit permit = CheckFill(std::nullopt, kStation, Micros("2026-01-01"));
  EXPECT_FALSE(permit.allowed());
  EXPECT_EQ(Reasons(permit), std::vector{v1::FILL_DENIAL_REASON_UNREGISTERED});
  ASSERT_EQ(permit.messages_size(), 1);

  permit = CheckFill(GoodRecord(), kOtherStation, Micros("2026-01-01"));
  EXPECT_EQ(Reasons(permit), std::vector{v1::FILL_DENIAL_REASON_OTHER_STATION});
  EXPECT_NE(permit.messages(0).find(kStation), std::string::npos) << permit.messages(0);

  // Due 2026-03-15: that whole UTC day is fine, the next day is not.
  EXPECT_TRUE(CheckFill(GoodRecord(), kStation, Micros("2026-03-15", 23)).allowed());
  permit = CheckFill(GoodRecord(), kStation, Micros("2026-03-16"));
  EXPECT_EQ(Reasons(permit), std::vector{v1::FILL_DENIAL_REASON_INSPECTION_OVERDUE});
  EXPECT_NE(permit.messages(0).find("2026-03-15"), std::string::npos);

  v1::CylinderRecord scrapped = GoodRecord();
  scrapped.set_scrapped(true);
  permit = CheckFill(scrapped, kStation, Micros("2026-01-01"));
  EXPECT_EQ(Reasons(permit), std::vector{v1::FILL_DENIAL_REASON_SCRAPPED});

  v1::CylinderRecord old = GoodRecord();
  old.set_manufactured_on("2018-01-01");
  old.set_design_life_ends_on("2026-01-01");
  EXPECT_TRUE(CheckFill(old, kStation, Micros("2026-01-01", 12)).allowed());
  permit = CheckFill(old, kStation, Micros("2026-01-02"));
  EXPECT_EQ(Reasons(permit), std::vector{v1::FILL_DENIAL_REASON_PAST_DESIGN_LIFE});

  v1::CylinderRecord failed = GoodRecord();
  failed.set_failed_inspection(true);
  permit = CheckFill(failed, kStation, Micros("2026-01-01"));
  EXPECT_EQ(Reasons(permit), std::vector{v1::FILL_DENIAL_REASON_FAILED_INSPECTION});
}

TEST(CheckFillTest, EveryReasonIsListedTogether) {
  v1::CylinderRecord record = GoodRecord();
  record.set_scrapped(true);
  record.set_failed_inspection(true);
  record.set_design_life_ends_on("2026-02-01");
  v1::FillPermit permit = CheckFill(record, kOtherStation, Micros("2026-04-01"));
  EXPECT_FALSE(permit.allowed());
  EXPECT_EQ(Reasons(permit), (std::vector{v1::FILL_DENIAL_REASON_OTHER_STATION,
                                          v1::FILL_DENIAL_REASON_INSPECTION_OVERDUE,
                                          v1::FILL_DENIAL_REASON_SCRAPPED,
                                          v1::FILL_DENIAL_REASON_PAST_DESIGN_LIFE,
                                          v1::FILL_DENIAL_REASON_FAILED_INSPECTION}));
  EXPECT_EQ(permit.messages_size(), 5);

  // A cylinder only inspected (never registered) is unregistered and, here, also overdue and
  // scrapped; "other station" needs an owner.
  v1::CylinderRecord unregistered;
  unregistered.set_cylinder_id(kCylinder);
  unregistered.set_next_inspection_due("2025-12-31");
  unregistered.set_scrapped(true);
  permit = CheckFill(unregistered, kOtherStation, Micros("2026-01-01"));
  EXPECT_EQ(Reasons(permit), (std::vector{v1::FILL_DENIAL_REASON_UNREGISTERED,
                                          v1::FILL_DENIAL_REASON_INSPECTION_OVERDUE,
                                          v1::FILL_DENIAL_REASON_SCRAPPED}));
}

class CylindersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("oversight_cylinders_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto ledger = ledger::CreateDataDir((dir_ / "ledger").string(), "cylinders.test/log", {});
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(ledger).value();
    source_ = LedgerEntrySource(*ledger_);
    std::vector<std::unique_ptr<Projection>> projections;
    projections.push_back(NewCylindersProjection());
    auto runner = ProjectionRunner::Open((dir_ / "views").string(), std::move(projections), {});
    ASSERT_TRUE(runner.ok()) << runner.status().ToString();
    runner_ = std::move(runner).value();
  }
  void TearDown() override {
    runner_.reset();
    source_.reset();
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }

  uint64_t Add(v1::Event event) {
    event.set_event_id("urn:uuid:cylinders-" + std::to_string(next_id_++));
    std::string json;
    EXPECT_TRUE(google::protobuf::util::MessageToJsonString(event, &json).ok());
    ledger::AppendRequest request;
    request.event_id = event.event_id();
    request.submitter_id = event.submitter_id();
    request.encoding = v1::EVENT_ENCODING_JSON;
    request.event = json;
    request.source.mutable_file()->set_path("cylinders_test");
    std::vector<ledger::AppendRequest> requests;
    requests.push_back(std::move(request));
    auto appended = ledger_->Append(std::move(requests));
    EXPECT_TRUE(appended.ok()) << appended.status().ToString();
    EXPECT_TRUE(runner_->CatchUp(*source_).ok());
    event_ids_.push_back(event.event_id());
    return (*appended)[0].receipt.sequence;
  }

  static v1::Event Registration(std::string_view cylinder, std::string_view owner,
                                std::string_view made, uint32_t life_years,
                                std::string_view next_due) {
    v1::Event event;
    event.set_submitter_id(std::string(owner));
    v1::CylinderRegistration* e = event.mutable_cylinder_registration();
    e->set_cylinder_id(std::string(cylinder));
    e->set_owner_station_id(std::string(owner));
    e->set_manufacturer("Zhejiang Jindun Pressure Vessel Co.");
    e->set_manufactured_on(std::string(made));
    e->set_design_life_years(life_years);
    e->set_medium("LPG");
    e->set_capacity_liters(35.5);
    e->set_last_inspected_on(std::string(made));
    e->set_next_inspection_due(std::string(next_due));
    e->mutable_registered_at()->set_seconds(Seconds("2025-06-01"));
    return event;
  }
  static v1::Event Inspection(std::string_view cylinder, v1::CylinderInspection::Result result,
                              std::string_view date, std::string_view next_due) {
    v1::Event event;
    event.set_submitter_id(kAgency);
    v1::CylinderInspection* e = event.mutable_cylinder_inspection();
    e->set_cylinder_id(std::string(cylinder));
    e->set_agency_id(kAgency);
    e->mutable_inspected_at()->set_seconds(Seconds(date, 6));
    e->set_result(result);
    e->set_next_inspection_due(std::string(next_due));
    e->set_report_id("SEI-2026-LPG-18842");
    return event;
  }
  static v1::Event Fill(std::string_view cylinder, std::string_view station, std::string_view date,
                        int hour = 8) {
    v1::Event event;
    event.set_submitter_id(std::string(station));
    v1::CylinderFill* e = event.mutable_cylinder_fill();
    e->set_cylinder_id(std::string(cylinder));
    e->set_station_id(std::string(station));
    e->mutable_filled_at()->set_seconds(Seconds(date, hour));
    e->set_medium("LPG");
    e->set_net_mass_kg(14.5);
    e->set_operator_id("TSZY-310112-0457");
    e->set_scale_id("SCALE-02");
    return event;
  }

  std::vector<v1::CylinderAlert> Alerts(uint64_t since = 0) {
    auto page = CylinderAlerts(runner_->store().Reader(kCylindersViewName), since, 1000);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? std::vector<v1::CylinderAlert>(page->alerts().begin(), page->alerts().end())
                     : std::vector<v1::CylinderAlert>();
  }
  void ExpectAlert(const v1::CylinderAlert& alert, v1::FillDenialReason kind,
                   const std::vector<uint64_t>& sequences) {
    EXPECT_EQ(alert.kind(), kind) << v1::FillDenialReason_Name(alert.kind()) << ": "
                                  << alert.message();
    EXPECT_EQ(std::vector<uint64_t>(alert.sequences().begin(), alert.sequences().end()), sequences)
        << alert.message();
    std::vector<std::string> ids;
    for (uint64_t s : sequences) ids.push_back(event_ids_.at(s));
    EXPECT_EQ(std::vector<std::string>(alert.event_ids().begin(), alert.event_ids().end()), ids);
    EXPECT_EQ(alert.sequence(), sequences.back());
  }
  v1::FillPermit Permit(std::string_view cylinder, std::string_view station, std::string_view date) {
    auto permit = FillPermitFor(runner_->store().Reader(kCylindersViewName), cylinder, station,
                                Micros(date, 8));
    EXPECT_TRUE(permit.ok()) << permit.status().ToString();
    return permit.ok() ? *permit : v1::FillPermit();
  }

  std::filesystem::path dir_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<EntrySource> source_;
  std::unique_ptr<ProjectionRunner> runner_;
  std::vector<std::string> event_ids_;
  int next_id_ = 0;
};

TEST_F(CylindersTest, RegistryFollowsRegistrationAndInspections) {
  const uint64_t registered = Add(Registration(kCylinder, kStation, "2022-03-15", 8, "2026-03-15"));
  auto report = CylinderStatus(runner_->store().Reader(kCylindersViewName), kCylinder);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->record().registered());
  EXPECT_EQ(report->record().owner_station_id(), kStation);
  EXPECT_EQ(report->record().design_life_ends_on(), "2030-03-15");
  EXPECT_EQ(report->record().next_inspection_due(), "2026-03-15");
  EXPECT_EQ(report->record().due_set_by().sequence(), registered);

  const uint64_t passed =
      Add(Inspection(kCylinder, v1::CylinderInspection::RESULT_PASS, "2026-03-01", "2030-02-28"));
  report = CylinderStatus(runner_->store().Reader(kCylindersViewName), kCylinder);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->record().last_inspected_on(), "2026-03-01");
  EXPECT_EQ(report->record().next_inspection_due(), "2030-02-28");
  EXPECT_EQ(report->record().due_set_by().sequence(), passed);
  EXPECT_EQ(report->record().last_inspection_result(), v1::CYLINDER_INSPECTION_RESULT_PASS);
  EXPECT_TRUE(Permit(kCylinder, kStation, "2026-06-01").allowed());

  Add(Inspection(kCylinder, v1::CylinderInspection::RESULT_FAIL, "2026-07-01", ""));
  EXPECT_EQ(Reasons(Permit(kCylinder, kStation, "2026-07-02")),
            std::vector{v1::FILL_DENIAL_REASON_FAILED_INSPECTION});
  Add(Inspection(kCylinder, v1::CylinderInspection::RESULT_PASS, "2026-07-10", "2030-02-28"));
  EXPECT_TRUE(Permit(kCylinder, kStation, "2026-07-11").allowed());
  Add(Inspection(kCylinder, v1::CylinderInspection::RESULT_SCRAP, "2026-08-01", ""));
  EXPECT_EQ(Reasons(Permit(kCylinder, kStation, "2026-08-02")),
            std::vector{v1::FILL_DENIAL_REASON_SCRAPPED});
  // A later registration does not unscrap it.
  Add(Registration(kCylinder, kStation, "2022-03-15", 8, "2030-02-28"));
  EXPECT_EQ(Reasons(Permit(kCylinder, kStation, "2026-08-02")),
            std::vector{v1::FILL_DENIAL_REASON_SCRAPPED});
  EXPECT_EQ(Reasons(Permit("never-seen", kStation, "2026-08-02")),
            std::vector{v1::FILL_DENIAL_REASON_UNREGISTERED});
  EXPECT_EQ(Permit("never-seen", kStation, "2026-08-02").cylinder_id(), "never-seen");
  EXPECT_TRUE(Alerts().empty());
}

TEST_F(CylindersTest, EachFillAlertNamesTheEventsItConflictsWith) {
  const uint64_t registered = Add(Registration("C-1", kStation, "2018-01-01", 8, "2027-01-01"));
  const uint64_t other = Add(Fill("C-1", kOtherStation, "2025-07-01"));
  const uint64_t unregistered = Add(Fill("C-2", kStation, "2025-07-01"));
  const uint64_t past_life = Add(Fill("C-1", kStation, "2026-01-02"));
  const uint64_t registered_3 = Add(Registration("C-3", kStation, "2024-01-01", 8, "2026-01-01"));
  const uint64_t due_3 =
      Add(Inspection("C-3", v1::CylinderInspection::RESULT_PASS, "2025-12-01", "2026-02-01"));
  const uint64_t overdue = Add(Fill("C-3", kStation, "2026-02-02"));
  const uint64_t registered_4 = Add(Registration("C-4", kStation, "2024-01-01", 8, "2028-01-01"));
  const uint64_t scrap =
      Add(Inspection("C-4", v1::CylinderInspection::RESULT_SCRAP, "2025-12-01", ""));
  const uint64_t scrapped = Add(Fill("C-4", kStation, "2026-01-05"));
  const uint64_t registered_5 = Add(Registration("C-5", kStation, "2024-01-01", 8, "2028-01-01"));
  const uint64_t fail =
      Add(Inspection("C-5", v1::CylinderInspection::RESULT_FAIL, "2025-12-01", ""));
  const uint64_t failed = Add(Fill("C-5", kStation, "2026-01-05"));
  const uint64_t fine = Add(Fill("C-1", kStation, "2025-08-01"));

  const auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 6u);
  ExpectAlert(alerts[0], v1::FILL_DENIAL_REASON_OTHER_STATION, {registered, other});
  ExpectAlert(alerts[1], v1::FILL_DENIAL_REASON_UNREGISTERED, {unregistered});
  ExpectAlert(alerts[2], v1::FILL_DENIAL_REASON_PAST_DESIGN_LIFE, {registered, past_life});
  ExpectAlert(alerts[3], v1::FILL_DENIAL_REASON_INSPECTION_OVERDUE, {due_3, overdue});
  ExpectAlert(alerts[4], v1::FILL_DENIAL_REASON_SCRAPPED, {scrap, scrapped});
  ExpectAlert(alerts[5], v1::FILL_DENIAL_REASON_FAILED_INSPECTION, {fail, failed});
  EXPECT_EQ(alerts[0].station_id(), kOtherStation);
  EXPECT_NE(alerts[3].message().find("2026-02-01"), std::string::npos) << alerts[3].message();
  (void)registered_3;
  (void)registered_4;
  (void)registered_5;

  // The fill history and the cylinder's own alerts.
  auto report = CylinderStatus(runner_->store().Reader(kCylindersViewName), "C-1", 2);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->record().fill_count(), 3u);
  EXPECT_EQ(report->record().alert_count(), 2u);
  ASSERT_EQ(report->recent_fills_size(), 2);
  EXPECT_EQ(report->recent_fills(0).event().sequence(), past_life);
  EXPECT_EQ(report->recent_fills(0).denials_size(), 1);
  EXPECT_EQ(report->recent_fills(1).event().sequence(), fine);
  EXPECT_EQ(report->recent_fills(1).fill_index(), 2u);
  EXPECT_EQ(report->recent_fills(1).denials_size(), 0);
  EXPECT_EQ(report->recent_fills(1).scale_id(), "SCALE-02");
  EXPECT_DOUBLE_EQ(report->recent_fills(1).net_mass_kg(), 14.5);
  ASSERT_EQ(report->recent_alerts_size(), 2);
  EXPECT_EQ(report->recent_alerts(1).kind(), v1::FILL_DENIAL_REASON_PAST_DESIGN_LIFE);
  // An unregistered cylinder that was filled has a row (not registered) with its fills.
  auto unknown = CylinderStatus(runner_->store().Reader(kCylindersViewName), "C-2");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->record().registered());
  EXPECT_EQ(unknown->record().cylinder_id(), "C-2");
  EXPECT_EQ(unknown->record().fill_count(), 1u);
  EXPECT_EQ(unknown->record().alert_count(), 1u);
  EXPECT_EQ(unknown->recent_fills_size(), 1);
  EXPECT_EQ(CylinderStatus(runner_->store().Reader(kCylindersViewName), "C-9").status().code(),
            StatusCode::kNotFound);

  // Paging.
  auto since = CylinderAlerts(runner_->store().Reader(kCylindersViewName), overdue, 2);
  ASSERT_TRUE(since.ok());
  ASSERT_EQ(since->alerts_size(), 2);
  EXPECT_EQ(since->alerts(0).sequence(), overdue);
  EXPECT_TRUE(since->more());
  auto rest = CylinderAlertsFrom(runner_->store().Reader(kCylindersViewName),
                                 since->next_alert_index(), 10);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->alerts_size(), 1);
  EXPECT_EQ(rest->alerts(0).sequence(), failed);
  EXPECT_FALSE(rest->more());
}

// A fill leaves the registry row alone and rewrites only the cylinder's small fill-counts row
// (version 2); CylinderStatus gives both as one record.
TEST_F(CylindersTest, AFillRewritesOnlyTheFillCounts) {
  Add(Registration("C-1", kStation, "2018-01-01", 8, "2027-01-01"));
  Add(Fill("C-1", kOtherStation, "2025-07-01"));
  const uint64_t last = Add(Fill("C-1", kStation, "2025-08-01"));
  const ViewReader reader = runner_->store().Reader(kCylindersViewName);
  auto registry = reader.GetMessage<v1::CylinderRecord>(Key("r").Str("C-1").str());
  ASSERT_TRUE(registry.ok() && registry->has_value());
  EXPECT_TRUE((*registry)->registered());
  EXPECT_EQ((*registry)->fill_count(), 0u);
  EXPECT_TRUE((*registry)->last_fill_station_id().empty());
  auto counts = reader.GetMessage<v1::CylinderRecord>(Key("g").Str("C-1").str());
  ASSERT_TRUE(counts.ok() && counts->has_value());
  v1::CylinderRecord rest = **counts;
  EXPECT_EQ(rest.fill_count(), 2u);
  EXPECT_EQ(rest.alert_count(), 1u);
  EXPECT_EQ(rest.last_fill_station_id(), kStation);
  rest.clear_fill_count();
  rest.clear_alert_count();
  rest.clear_last_fill_station_id();
  rest.clear_last_fill_unix_micros();
  EXPECT_EQ(rest.ByteSizeLong(), 0u) << rest.ShortDebugString();
  auto report = CylinderStatus(reader, "C-1");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->record().registered());
  EXPECT_EQ(report->record().owner_station_id(), kStation);
  EXPECT_EQ(report->record().fill_count(), 2u);
  EXPECT_EQ(report->record().alert_count(), 1u);
  EXPECT_EQ(report->record().last_fill_station_id(), kStation);
  ASSERT_EQ(report->recent_fills_size(), 2);
  EXPECT_EQ(report->recent_fills(1).event().sequence(), last);
}

TEST_F(CylindersTest, OneFillWithSeveralReasonsRaisesOneAlertPerReason) {
  const uint64_t registered = Add(Registration("C-1", kStation, "2017-01-01", 8, "2025-01-01"));
  const uint64_t scrap =
      Add(Inspection("C-1", v1::CylinderInspection::RESULT_SCRAP, "2025-06-01", ""));
  const uint64_t fill = Add(Fill("C-1", kOtherStation, "2026-01-05"));
  const auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 4u);
  ExpectAlert(alerts[0], v1::FILL_DENIAL_REASON_OTHER_STATION, {registered, fill});
  ExpectAlert(alerts[1], v1::FILL_DENIAL_REASON_INSPECTION_OVERDUE, {registered, fill});
  ExpectAlert(alerts[2], v1::FILL_DENIAL_REASON_SCRAPPED, {scrap, fill});
  ExpectAlert(alerts[3], v1::FILL_DENIAL_REASON_PAST_DESIGN_LIFE, {registered, fill});
  EXPECT_EQ(Alerts(fill + 1).size(), 0u);
}

}  // namespace
}  // namespace traceledger::projections
