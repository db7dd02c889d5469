#include "projections/oversight/enforcement.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "ledger/data_dir.h"
#include "projections/runner.h"

namespace traceledger::projections {
namespace {

// 2026-01-01T00:00:00Z.
constexpr int64_t kDay0Seconds = 1767225600;
constexpr char kRegulator[] = "regulator:SAMR-310104";
constexpr char kDairy[] = "91310115MA1H000024";
constexpr char kShop[] = "91310104MA1F000047";

int64_t DaySeconds(int day) { return kDay0Seconds + int64_t{day} * 86400; }

v1::Event Inspection(std::string_view enterprise, v1::Inspection::Kind kind,
                     v1::Inspection::Outcome outcome, int day) {
  v1::Event event;
  event.set_submitter_id(kRegulator);
  v1::Inspection* e = event.mutable_inspection();
  e->set_enterprise_id(std::string(enterprise));
  e->add_inspector_ids("ZF31010400123");
  e->set_kind(kind);
  e->set_location("urn:epc:id:sgln:9521002.00001.0");
  e->mutable_inspected_at()->set_seconds(DaySeconds(day));
  e->set_outcome(outcome);
  if (outcome != v1::Inspection::OUTCOME_COMPLIANT) {
    v1::Inspection::Finding* finding = e->add_findings();
    finding->set_code("SC-4.2");
    finding->set_description("Incoming inspection records incomplete");
    finding->set_severity(v1::SEVERITY_SERIOUS);
  }
  return event;
}

v1::Event Sampling(std::string_view enterprise, v1::SamplingResult::Verdict verdict, int day,
                   std::string_view sample_id) {
  v1::Event event;
  event.set_submitter_id(kRegulator);
  v1::SamplingResult* e = event.mutable_sampling_result();
  e->set_sample_id(std::string(sample_id));
  e->set_enterprise_id(std::string(enterprise));
  e->add_object_ids("urn:epc:class:lgtin:9521002.010001.L261110");
  e->set_product_name("Bright Star full-cream milk powder 900 g");
  e->mutable_sampled_at()->set_seconds(DaySeconds(day));
  e->mutable_reported_at()->set_seconds(DaySeconds(day + 4));
  e->set_lab_id("12310000MB2B000113");
  e->set_verdict(verdict);
  if (verdict == v1::SamplingResult::VERDICT_UNQUALIFIED) {
    v1::SamplingResult::FailedItem* item = e->add_failed_items();
    item->set_item("protein");
    item->set_measured("15.2");
    item->set_limit(">= 16.5");
    item->set_uom("g/100g");
  }
  return event;
}

v1::Event Action(std::string_view enterprise, v1::Severity severity, int day) {
  v1::Event event;
  event.set_submitter_id(kRegulator);
  v1::EnforcementAction* e = event.mutable_enforcement_action();
  e->set_case_id("HSJ-310104-2026-" + std::to_string(day));
  e->set_enterprise_id(std::string(enterprise));
  e->set_kind(v1::EnforcementAction::KIND_FINE);
  e->set_severity(severity);
  e->set_fine_amount_fen(5000000);
  e->set_legal_basis("Food Safety Law of the PRC, Article 124");
  e->mutable_decided_at()->set_seconds(DaySeconds(day));
  return event;
}

v1::Event Removal(std::string_view holder, int day) {
  v1::Event event;
  event.set_submitter_id(std::string(holder));
  v1::RecallRemoval* e = event.mutable_recall_removal();
  e->set_recall_id("RC-310104-2026-0007");
  e->set_holder_id(std::string(holder));
  e->set_object_id("urn:epc:class:lgtin:9521002.010001.L261110");
  e->set_quantity(600);
  e->mutable_removed_at()->set_seconds(DaySeconds(day));
  e->set_disposition(v1::RecallRemoval::DISPOSITION_QUARANTINED);
  return event;
}

class EnforcementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("oversight_enforcement_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto ledger = ledger::CreateDataDir((dir_ / "ledger").string(), "enforcement.test/log", {});
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(ledger).value();
    source_ = LedgerEntrySource(*ledger_);
    std::vector<std::unique_ptr<Projection>> projections;
    projections.push_back(NewEnforcementProjection());
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
    event.set_event_id("urn:uuid:enforcement-" + std::to_string(next_id_++));
    std::string json;
    EXPECT_TRUE(google::protobuf::util::MessageToJsonString(event, &json).ok());
    ledger::AppendRequest request;
    request.event_id = event.event_id();
    request.submitter_id = event.submitter_id();
    request.encoding = v1::EVENT_ENCODING_JSON;
    request.event = json;
    request.source.mutable_file()->set_path("enforcement_test");
    std::vector<ledger::AppendRequest> requests;
    requests.push_back(std::move(request));
    auto appended = ledger_->Append(std::move(requests));
    EXPECT_TRUE(appended.ok()) << appended.status().ToString();
    EXPECT_TRUE(runner_->CatchUp(*source_).ok());
    return (*appended)[0].receipt.sequence;
  }
  v1::CreditStatus CreditOf(std::string_view enterprise) {
    auto credit = Credit(runner_->store().Reader(kEnforcementViewName), enterprise);
    EXPECT_TRUE(credit.ok()) << credit.status().ToString();
    return credit.ok() ? *credit : v1::CreditStatus();
  }
  v1::EnterpriseTimeline TimelineOf(std::string_view enterprise, size_t limit = 100) {
    auto timeline = Timeline(runner_->store().Reader(kEnforcementViewName), enterprise, limit);
    EXPECT_TRUE(timeline.ok()) << timeline.status().ToString();
    return timeline.ok() ? *timeline : v1::EnterpriseTimeline();
  }

  std::filesystem::path dir_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<EntrySource> source_;
  std::unique_ptr<ProjectionRunner> runner_;
  int next_id_ = 0;
};

TEST_F(EnforcementTest, TheTimelineIsInTimeOrderWhateverTheLedgerOrder) {
  const uint64_t action = Add(Action(kDairy, v1::SEVERITY_MINOR, 30));
  const uint64_t removal = Add(Removal(kDairy, 20));
  const uint64_t sampling = Add(Sampling(kDairy, v1::SamplingResult::VERDICT_QUALIFIED, 10, "CJ-1"));
  const uint64_t spot_check = Add(Inspection(kDairy, v1::Inspection::KIND_DOUBLE_RANDOM_SPOT_CHECK,
                                             v1::Inspection::OUTCOME_CORRECTION_ORDERED, 5));
  const uint64_t same_time = Add(Inspection(kDairy, v1::Inspection::KIND_ROUTINE,
                                            v1::Inspection::OUTCOME_COMPLIANT, 5));
  Add(Inspection(kShop, v1::Inspection::KIND_ROUTINE, v1::Inspection::OUTCOME_COMPLIANT, 1));

  const v1::EnterpriseTimeline timeline = TimelineOf(kDairy);
  ASSERT_EQ(timeline.items_size(), 5);
  EXPECT_FALSE(timeline.more());
  std::vector<uint64_t> order;
  for (const v1::TimelineItem& item : timeline.items()) order.push_back(item.event().sequence());
  EXPECT_EQ(order, (std::vector<uint64_t>{spot_check, same_time, sampling, removal, action}));

  const v1::TimelineItem& spot = timeline.items(0);
  EXPECT_EQ(spot.kind(), v1::TIMELINE_ITEM_KIND_INSPECTION);
  EXPECT_EQ(spot.reference(), "KIND_DOUBLE_RANDOM_SPOT_CHECK");
  EXPECT_EQ(spot.outcome(), "OUTCOME_CORRECTION_ORDERED");
  EXPECT_EQ(spot.summary(),
            "double-random spot check: correction ordered, 1 finding (1 serious) at "
            "urn:epc:id:sgln:9521002.00001.0");
  EXPECT_EQ(timeline.items(2).summary(),
            "sample CJ-1 (Bright Star full-cream milk powder 900 g): qualified, lab "
            "12310000MB2B000113");
  EXPECT_EQ(timeline.items(3).kind(), v1::TIMELINE_ITEM_KIND_RECALL_REMOVAL);
  EXPECT_EQ(timeline.items(3).summary(),
            "removed 600 of urn:epc:class:lgtin:9521002.010001.L261110 for recall "
            "RC-310104-2026-0007 (quarantined)");
  EXPECT_EQ(timeline.items(4).summary(),
            "fine of 50000.00 yuan (minor), case HSJ-310104-2026-30, Food Safety Law of the PRC, "
            "Article 124");
  EXPECT_EQ(timeline.items(4).event().time_unix_micros(), DaySeconds(30) * 1000000);

  const v1::EnterpriseTimeline first_two = TimelineOf(kDairy, 2);
  EXPECT_EQ(first_two.items_size(), 2);
  EXPECT_TRUE(first_two.more());
  EXPECT_EQ(TimelineOf("91000000000000000X").items_size(), 0);

  const v1::CreditStatus credit = CreditOf(kDairy);
  EXPECT_FALSE(credit.flagged());
  EXPECT_EQ(credit.inspections(), 2u);
  EXPECT_EQ(credit.sampling_results(), 1u);
  EXPECT_EQ(credit.enforcement_actions(), 1u);
  EXPECT_EQ(credit.recall_removals(), 1u);
}

TEST_F(EnforcementTest, ASeriousEnforcementActionFlags) {
  Add(Action(kDairy, v1::SEVERITY_MINOR, 1));
  EXPECT_FALSE(CreditOf(kDairy).flagged());
  const uint64_t serious = Add(Action(kDairy, v1::SEVERITY_SERIOUS, 2));
  const v1::CreditStatus credit = CreditOf(kDairy);
  EXPECT_TRUE(credit.flagged());
  ASSERT_EQ(credit.reasons_size(), 1);
  EXPECT_EQ(credit.reasons(0).kind(), v1::CREDIT_REASON_KIND_SERIOUS_ENFORCEMENT);
  ASSERT_EQ(credit.reasons(0).events_size(), 1);
  EXPECT_EQ(credit.reasons(0).events(0).sequence(), serious);
  EXPECT_TRUE(TimelineOf(kDairy).items(1).credit_reason());
  EXPECT_FALSE(TimelineOf(kDairy).items(0).credit_reason());
  EXPECT_FALSE(CreditOf(kShop).flagged());
}

TEST_F(EnforcementTest, AClosedDownInspectionFlags) {
  Add(Inspection(kDairy, v1::Inspection::KIND_COMPLAINT, v1::Inspection::OUTCOME_CORRECTION_ORDERED,
                 1));
  Add(Inspection(kDairy, v1::Inspection::KIND_ROUTINE, v1::Inspection::OUTCOME_DEFECTS_FOUND, 2));
  EXPECT_FALSE(CreditOf(kDairy).flagged());
  const uint64_t closed = Add(Inspection(kDairy, v1::Inspection::KIND_DOUBLE_RANDOM_SPOT_CHECK,
                                         v1::Inspection::OUTCOME_CLOSED_DOWN, 3));
  const v1::CreditStatus credit = CreditOf(kDairy);
  EXPECT_TRUE(credit.flagged());
  ASSERT_EQ(credit.reasons_size(), 1);
  EXPECT_EQ(credit.reasons(0).kind(), v1::CREDIT_REASON_KIND_CLOSED_DOWN);
  EXPECT_EQ(credit.reasons(0).events(0).sequence(), closed);
}

TEST_F(EnforcementTest, TwoUnqualifiedSamplingsWithin365DaysFlag) {
  const uint64_t first = Add(Sampling(kDairy, v1::SamplingResult::VERDICT_UNQUALIFIED, 0, "CJ-1"));
  Add(Sampling(kDairy, v1::SamplingResult::VERDICT_QUALIFIED, 100, "CJ-2"));
  EXPECT_FALSE(CreditOf(kDairy).flagged());
  const uint64_t second =
      Add(Sampling(kDairy, v1::SamplingResult::VERDICT_UNQUALIFIED, 365, "CJ-3"));
  const v1::CreditStatus credit = CreditOf(kDairy);
  EXPECT_TRUE(credit.flagged());
  EXPECT_EQ(credit.unqualified_sampling_results(), 2u);
  ASSERT_EQ(credit.reasons_size(), 1);
  EXPECT_EQ(credit.reasons(0).kind(), v1::CREDIT_REASON_KIND_REPEATED_UNQUALIFIED_SAMPLING);
  ASSERT_EQ(credit.reasons(0).events_size(), 2);
  EXPECT_EQ(credit.reasons(0).events(0).sequence(), first);
  EXPECT_EQ(credit.reasons(0).events(1).sequence(), second);
  EXPECT_NE(credit.reasons(0).message().find("365 days"), std::string::npos)
      << credit.reasons(0).message();
}

TEST_F(EnforcementTest, TwoUnqualifiedSamplings366DaysApartDoNotFlag) {
  Add(Sampling(kDairy, v1::SamplingResult::VERDICT_UNQUALIFIED, 0, "CJ-1"));
  Add(Sampling(kDairy, v1::SamplingResult::VERDICT_UNQUALIFIED, 366, "CJ-2"));
  Add(Sampling(kShop, v1::SamplingResult::VERDICT_UNQUALIFIED, 10, "CJ-3"));  // another enterprise
  const v1::CreditStatus credit = CreditOf(kDairy);
  EXPECT_FALSE(credit.flagged());
  EXPECT_EQ(credit.unqualified_sampling_results(), 2u);
  EXPECT_EQ(credit.reasons_size(), 0);
  EXPECT_FALSE(CreditOf(kShop).flagged());
}

TEST_F(EnforcementTest, UnqualifiedSamplingsRecordedOutOfTimeOrderStillPair) {
  // Sampled on days 800, 0 and 500: only 800 and 500 are within 365 days.
  const uint64_t late = Add(Sampling(kDairy, v1::SamplingResult::VERDICT_UNQUALIFIED, 800, "CJ-1"));
  Add(Sampling(kDairy, v1::SamplingResult::VERDICT_UNQUALIFIED, 0, "CJ-2"));
  EXPECT_FALSE(CreditOf(kDairy).flagged());
  const uint64_t middle =
      Add(Sampling(kDairy, v1::SamplingResult::VERDICT_UNQUALIFIED, 500, "CJ-3"));
  const v1::CreditStatus credit = CreditOf(kDairy);
  EXPECT_TRUE(credit.flagged());
  ASSERT_EQ(credit.reasons_size(), 1);
  EXPECT_EQ(credit.reasons(0).events(0).sequence(), middle);  // earlier sampled first
  EXPECT_EQ(credit.reasons(0).events(1).sequence(), late);
  ASSERT_EQ(credit.unqualified_samplings_size(), 3);
  EXPECT_LT(credit.unqualified_samplings(0).time_unix_micros(),
            credit.unqualified_samplings(1).time_unix_micros());
  EXPECT_LT(credit.unqualified_samplings(1).time_unix_micros(),
            credit.unqualified_samplings(2).time_unix_micros());
}

}  // namespace
}  // namespace traceledger::projections
