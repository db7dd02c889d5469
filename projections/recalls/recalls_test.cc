// The recalls view over a small food chain with known answers: a contaminated ingredient lot
// L goes into product lot X, which reaches a distributor, an online shop and a school canteen;
// a lot Y made before L arrived is not in scope.
#include "projections/recalls/recalls.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "ledger/data_dir.h"
#include "projections/chain/genealogy.h"
#include "projections/chain/holdings.h"
#include "projections/runner.h"

namespace traceledger::projections {
namespace {

constexpr char kFarm[] = "9521001000005";
constexpr char kProcessor[] = "9521002000004";
constexpr char kDistributor[] = "9521003000003";
constexpr char kShop[] = "9521004000002";     // an online shop
constexpr char kCanteen[] = "9521005000001";  // a school canteen
constexpr char kLotL[] = "urn:epc:class:lgtin:9521001.000010.L1";
constexpr char kLotX[] = "urn:epc:class:lgtin:9521002.000020.X1";
constexpr char kLotY[] = "urn:epc:class:lgtin:9521002.000020.Y1";
constexpr char kOtherInput[] = "urn:epc:class:lgtin:9521001.000011.M1";

std::string Quantity(const std::string& lot, double q) {
  return R"({"epcClass":")" + lot + R"(","quantity":)" + std::to_string(q) + R"(,"uom":"KGM"})";
}

std::string Object(const std::string& id, const std::string& party, const std::string& time,
                   const std::string& step, const std::string& action, const std::string& lot,
                   double q, const std::string& dest = "", const std::string& source = "") {
  std::string common = R"({"eventTime":")" + time + R"(","bizStep":")" + step + R"(")";
  if (!dest.empty()) {
    common += R"(,"destinationList":[{"type":"owning_party","id":")" + dest + R"("}])";
  }
  if (!source.empty()) {
    common += R"(,"sourceList":[{"type":"owning_party","id":")" + source + R"("}])";
  }
  common += "}";
  return R"({"eventId":")" + id + R"(","submitterId":")" + party + R"(","objectEvent":{"common":)" +
         common + R"(,"action":")" + action + R"(","quantityList":[)" + Quantity(lot, q) + "]}}";
}

std::string Transform(const std::string& id, const std::string& party, const std::string& time,
                      const std::string& input, double in_q, const std::string& output,
                      double out_q) {
  return R"({"eventId":")" + id + R"(","submitterId":")" + party +
         R"(","transformationEvent":{"common":{"eventTime":")" + time +
         R"("},"inputQuantityList":[)" + Quantity(input, in_q) + R"(],"outputQuantityList":[)" +
         Quantity(output, out_q) + "]}}";
}

std::string Recall(const std::string& id, const std::string& phase, const std::string& time,
                   const std::string& root) {
  return R"({"eventId":")" + id + R"(","submitterId":"regulator:SH-AMR","recall":{"recallId":"R-1","phase":")" +
         phase + R"(","level":"LEVEL_I","reason":"Listeria in ingredient lot L1","rootIds":[")" +
         root + R"("],"deadline":"2026-11-20T00:00:00Z","issuedBy":"regulator:SH-AMR","issuedAt":")" +
         time + R"("}})";
}

std::string Removal(const std::string& id, const std::string& holder, const std::string& lot,
                    double q, const std::string& time) {
  return R"({"eventId":")" + id + R"(","submitterId":")" + holder +
         R"(","recallRemoval":{"recallId":"R-1","holderId":")" + holder + R"(","objectId":")" +
         lot + R"(","quantity":)" + std::to_string(q) + R"(,"uom":"KGM","removedAt":")" + time +
         R"(","disposition":"DISPOSITION_DESTROYED"}})";
}

class RecallsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("recalls_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    ledger_ = std::move(ledger::CreateDataDir((dir_ / "ledger").string(), "recalls.test/log", {}))
                  .value();
  }
  void TearDown() override {
    runner_.reset();
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Append(const std::vector<std::string>& events) {
    std::vector<ledger::AppendRequest> requests;
    for (const std::string& json : events) {
      ledger::AppendRequest request;
      request.event = json;
      request.encoding = v1::EVENT_ENCODING_JSON;
      request.event_id = std::string("e").append(std::to_string(next_++));
      request.submitter_id = "test";
      requests.push_back(std::move(request));
    }
    auto appended = ledger_->Append(std::move(requests));
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  }
  void Project() {
    if (runner_ == nullptr) {
      std::vector<std::unique_ptr<Projection>> views;
      views.push_back(NewGenealogyProjection());
      views.push_back(NewRecallsProjection());
      runner_ = std::move(ProjectionRunner::Open((dir_ / "views").string(), std::move(views), {}))
                    .value();
    }
    auto source = LedgerEntrySource(*ledger_);
    ASSERT_TRUE(runner_->CatchUp(*source).ok());
  }
  v1::RecallCase Case() {
    auto recall_case = RecallCaseOf(runner_->store().Reader(kRecallsView), "R-1");
    EXPECT_TRUE(recall_case.ok() && recall_case->has_value());
    return **recall_case;
  }
  const v1::RecallHolder* Holder(const v1::RecallCase& c, const std::string& party,
                                 const std::string& object, bool sold = false) {
    for (const v1::RecallHolder& h : c.holders()) {
      if (h.party() == party && h.object_id() == object && h.sold_to_consumers() == sold) {
        return &h;
      }
    }
    return nullptr;
  }

  std::filesystem::path dir_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<ProjectionRunner> runner_;
  int next_ = 0;
};

TEST_F(RecallsTest, ScopeIsTheForwardTraceAtOpeningAndRemovalsCount) {
  Append({
      // The processor makes lot Y on day 1 from another input, before L arrives.
      Object("c0", kFarm, "2026-11-01T00:00:00Z", "commissioning", "ACTION_ADD", kOtherInput, 100),
      Object("s0", kFarm, "2026-11-01T01:00:00Z", "shipping", "ACTION_OBSERVE", kOtherInput, 100,
             kProcessor),
      Object("r0", kProcessor, "2026-11-01T02:00:00Z", "receiving", "ACTION_OBSERVE", kOtherInput,
             100, "", kFarm),
      Transform("t0", kProcessor, "2026-11-01T03:00:00Z", kOtherInput, 100, kLotY, 800),
      // L arrives on day 2 and goes into X.
      Object("c1", kFarm, "2026-11-02T00:00:00Z", "commissioning", "ACTION_ADD", kLotL, 100),
      Object("s1", kFarm, "2026-11-02T01:00:00Z", "shipping", "ACTION_OBSERVE", kLotL, 100,
             kProcessor),
      Object("r1", kProcessor, "2026-11-02T02:00:00Z", "receiving", "ACTION_OBSERVE", kLotL, 100,
             "", kFarm),
      Transform("t1", kProcessor, "2026-11-02T03:00:00Z", kLotL, 100, kLotX, 1000),
      Object("s2", kProcessor, "2026-11-03T00:00:00Z", "shipping", "ACTION_OBSERVE", kLotX, 600,
             kDistributor),
      Object("r2", kDistributor, "2026-11-03T05:00:00Z", "receiving", "ACTION_OBSERVE", kLotX, 600,
             "", kProcessor),
      // Lot Y goes to the distributor too: not in scope.
      Object("s3", kProcessor, "2026-11-03T01:00:00Z", "shipping", "ACTION_OBSERVE", kLotY, 300,
             kDistributor),
      Object("r3", kDistributor, "2026-11-03T06:00:00Z", "receiving", "ACTION_OBSERVE", kLotY, 300,
             "", kProcessor),
      Object("s4", kDistributor, "2026-11-04T00:00:00Z", "shipping", "ACTION_OBSERVE", kLotX, 200,
             kShop),
      Object("r4", kShop, "2026-11-04T04:00:00Z", "receiving", "ACTION_OBSERVE", kLotX, 200, "",
             kDistributor),
      Object("s5", kDistributor, "2026-11-04T01:00:00Z", "shipping", "ACTION_OBSERVE", kLotX, 300,
             kCanteen),
      Object("r5", kCanteen, "2026-11-04T05:00:00Z", "receiving", "ACTION_OBSERVE", kLotX, 300, "",
             kDistributor),
      Object("sold", kShop, "2026-11-05T00:00:00Z", "retail_selling", "ACTION_OBSERVE", kLotX, 50),
      Recall("open", "PHASE_OPENED", "2026-11-06T00:00:00Z", kLotL),
  });
  Project();
  v1::RecallCase c = Case();
  EXPECT_EQ(c.phase(), v1::Recall::PHASE_OPENED);
  EXPECT_EQ(c.level(), v1::Recall::LEVEL_I);
  EXPECT_EQ(c.opened_sequence(), 17u);
  EXPECT_EQ(c.tree_size(), 17u);
  EXPECT_FALSE(c.scope_truncated());
  // Holders of X now: processor 400, distributor 100, shop 150 (+50 sold), canteen 300.
  ASSERT_NE(Holder(c, kProcessor, kLotX), nullptr);
  EXPECT_EQ(Holder(c, kProcessor, kLotX)->distributed(), 400);
  EXPECT_EQ(Holder(c, kDistributor, kLotX)->distributed(), 100);
  EXPECT_EQ(Holder(c, kShop, kLotX)->distributed(), 150);
  EXPECT_EQ(Holder(c, kCanteen, kLotX)->distributed(), 300);
  ASSERT_NE(Holder(c, kShop, kLotX, /*sold=*/true), nullptr);
  EXPECT_EQ(Holder(c, kShop, kLotX, true)->distributed(), 50);
  // Lot Y was made before L reached the processor: no holder of Y is in scope.
  for (const v1::RecallHolder& h : c.holders()) EXPECT_NE(h.object_id(), kLotY) << h.party();

  Append({
      Removal("rm1", kShop, kLotX, 150, "2026-11-06T10:00:00Z"),
      Removal("rm2", kCanteen, kLotX, 100, "2026-11-06T11:00:00Z"),
      Removal("rm3", "9521006000000", kLotX, 20, "2026-11-06T12:00:00Z"),  // not in scope
  });
  Project();
  const v1::RecallProgress progress = ProgressOf(Case());
  EXPECT_EQ(progress.distributed(), 950);
  EXPECT_EQ(progress.removed(), 270);
  EXPECT_NEAR(progress.effectiveness_percent(), 100.0 * 270 / 950, 1e-9);
  EXPECT_EQ(progress.sold_to_consumers(), 50);
  EXPECT_EQ(std::vector<std::string>(progress.not_answered().begin(), progress.not_answered().end()),
            (std::vector<std::string>{kProcessor, kDistributor}));
  const v1::RecallCase after_removals = Case();  // Holder() points into it: keep it alive
  const v1::RecallHolder* outsider = Holder(after_removals, "9521006000000", kLotX);
  ASSERT_NE(outsider, nullptr);
  EXPECT_FALSE(outsider->in_scope());

  auto addressed = RecallsAddressedTo(runner_->store().Reader(kRecallsView), kCanteen, 10);
  ASSERT_TRUE(addressed.ok());
  EXPECT_EQ(*addressed, std::vector<std::string>{"R-1"});
  EXPECT_TRUE(RecallsAddressedTo(runner_->store().Reader(kRecallsView), kFarm, 10)->empty());

  Append({Recall("close", "PHASE_CLOSED", "2026-11-21T00:00:00Z", kLotL)});
  Project();
  EXPECT_EQ(Case().phase(), v1::Recall::PHASE_CLOSED);
  EXPECT_EQ(Case().closed_sequence(), 21u);
}

}  // namespace
}  // namespace traceledger::projections
