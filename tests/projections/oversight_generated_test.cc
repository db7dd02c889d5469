// The oversight views over the synthetic generator (tools/gen/): drug, device and cylinder
// streams with injected anomalies. Every injected anomaly must be flagged at its own event, with
// the alert kind that names it, and nothing else may be flagged. Also prints the apply rate of
// the three views together.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ledger/data_dir.h"
#include "projections/oversight/cylinders.h"
#include "projections/oversight/enforcement.h"
#include "projections/oversight/serials.h"
#include "projections/runner.h"
#include "tools/gen/supply_chain.h"

namespace traceledger::projections {
namespace {

using tools::gen::Anomaly;

// The alert kinds that flag an injected anomaly. A receipt elsewhere of a pack its outlet has
// dispensed by then is a reappearance rather than a receipt without shipment.
std::set<int> SerialKindsFor(Anomaly anomaly) {
  switch (anomaly) {
    case Anomaly::kDoubleDispensing: return {v1::SERIAL_ALERT_KIND_DOUBLE_DISPENSING};
    case Anomaly::kReceiptWithoutShipment:
      return {v1::SERIAL_ALERT_KIND_RECEIPT_WITHOUT_SHIPMENT, v1::SERIAL_ALERT_KIND_REAPPEARED};
    case Anomaly::kUnknownSerial: return {v1::SERIAL_ALERT_KIND_UNKNOWN_SERIAL};
    case Anomaly::kDecommissionedReappears: return {v1::SERIAL_ALERT_KIND_REAPPEARED};
    default: return {};
  }
}
std::set<int> CylinderKindsFor(Anomaly anomaly) {
  switch (anomaly) {
    case Anomaly::kFillUnregistered: return {v1::FILL_DENIAL_REASON_UNREGISTERED};
    case Anomaly::kFillOtherStation: return {v1::FILL_DENIAL_REASON_OTHER_STATION};
    case Anomaly::kFillOverdue: return {v1::FILL_DENIAL_REASON_INSPECTION_OVERDUE};
    case Anomaly::kFillScrapped: return {v1::FILL_DENIAL_REASON_SCRAPPED};
    case Anomaly::kFillPastDesignLife: return {v1::FILL_DENIAL_REASON_PAST_DESIGN_LIFE};
    default: return {};
  }
}

class GeneratedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("oversight_generated_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto ledger = ledger::CreateDataDir((dir_ / "ledger").string(), "generated.test/log", {});
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(ledger).value();
    source_ = LedgerEntrySource(*ledger_);
  }
  void TearDown() override {
    source_.reset();
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Appends a generated stream as protobuf (the Kafka wire form); remembers the anomalies.
  void AppendStream(tools::gen::Profile profile, uint64_t events, uint64_t seed) {
    tools::gen::Options options;
    options.profile = profile;
    options.events = events;
    options.seed = seed;
    options.anomaly_rate = 0.004;
    auto generator = tools::gen::Generator::Create(options);
    ASSERT_TRUE(generator.ok()) << generator.status().ToString();
    std::vector<ledger::AppendRequest> batch;
    std::vector<std::optional<Anomaly>> batch_anomalies;
    auto flush = [&]() {
      if (batch.empty()) return;
      auto results = ledger_->Append(std::move(batch));
      ASSERT_TRUE(results.ok()) << results.status().ToString();
      for (size_t i = 0; i < results->size(); ++i) {
        ASSERT_EQ((*results)[i].outcome, ledger::AppendOutcome::kAppended);
        if (batch_anomalies[i].has_value()) {
          anomalies_[(*results)[i].receipt.sequence] = *batch_anomalies[i];
        }
      }
      batch.clear();
      batch_anomalies.clear();
    };
    while (const v1::Event* event = (*generator)->Next()) {
      ledger::AppendRequest request;
      request.event_id = event->event_id();
      request.submitter_id = event->submitter_id();
      request.encoding = v1::EVENT_ENCODING_PROTOBUF;
      ASSERT_TRUE(event->SerializeToString(&request.event));
      request.source.mutable_file()->set_path("generated_test");
      batch.push_back(std::move(request));
      batch_anomalies.push_back((*generator)->last_anomaly());
      if (batch.size() == 1000) flush();
    }
    flush();
  }

  std::filesystem::path dir_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<EntrySource> source_;
  std::map<uint64_t, Anomaly> anomalies_;  // by ledger sequence
};

TEST_F(GeneratedTest, EveryInjectedAnomalyIsFlaggedAndNormalFlowsAreNot) {
  AppendStream(tools::gen::Profile::kDrug, 20000, 7);
  AppendStream(tools::gen::Profile::kDevice, 10000, 8);
  AppendStream(tools::gen::Profile::kCylinder, 20000, 9);
  const uint64_t entries = ledger_->size();
  ASSERT_EQ(entries, 50000u);

  std::vector<std::unique_ptr<Projection>> views;
  views.push_back(NewSerialsProjection());
  views.push_back(NewCylindersProjection());
  views.push_back(NewEnforcementProjection());
  auto runner = *ProjectionRunner::Open((dir_ / "views").string(), std::move(views), {});
  const auto start = std::chrono::steady_clock::now();
  auto applied = runner->CatchUp(*source_);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  ASSERT_EQ(*applied, entries);
  std::printf("oversight views: applied %llu entries in %.3f s: %.0f entries/s\n",
              static_cast<unsigned long long>(entries), seconds,
              static_cast<double>(entries) / seconds);
  RecordProperty("entries_per_second", static_cast<int>(static_cast<double>(entries) / seconds));

  // Alerts by the sequence that raised them.
  std::map<uint64_t, std::set<int>> flagged;
  auto serial_alerts = SerialAlerts(runner->store().Reader(kSerialsViewName), 0, kMaxAlertsPerPage);
  ASSERT_TRUE(serial_alerts.ok());
  ASSERT_FALSE(serial_alerts->more());
  for (const v1::SerialAlert& alert : serial_alerts->alerts()) {
    flagged[alert.sequence()].insert(alert.kind());
  }
  auto cylinder_alerts =
      CylinderAlerts(runner->store().Reader(kCylindersViewName), 0, kMaxCylinderAlertsPerPage);
  ASSERT_TRUE(cylinder_alerts.ok());
  ASSERT_FALSE(cylinder_alerts->more());
  for (const v1::CylinderAlert& alert : cylinder_alerts->alerts()) {
    flagged[alert.sequence()].insert(100 + alert.kind());  // distinct from serial kinds
  }

  std::map<Anomaly, int> injected;
  std::map<int, int> kinds_seen;
  for (const auto& [sequence, anomaly] : anomalies_) {
    ++injected[anomaly];
    std::set<int> wanted = SerialKindsFor(anomaly);
    for (int kind : CylinderKindsFor(anomaly)) wanted.insert(100 + kind);
    const auto it = flagged.find(sequence);
    bool hit = false;
    if (it != flagged.end()) {
      for (int kind : it->second) {
        if (wanted.count(kind) > 0) {
          hit = true;
          ++kinds_seen[kind];
        }
      }
    }
    EXPECT_TRUE(hit) << "entry " << sequence << ": injected " << tools::gen::AnomalyName(anomaly)
                     << " is not flagged";
  }
  for (Anomaly anomaly : tools::gen::kAllAnomalies) {
    EXPECT_GT(injected[anomaly], 0) << tools::gen::AnomalyName(anomaly) << " was not injected";
  }
  EXPECT_GT(kinds_seen[v1::SERIAL_ALERT_KIND_RECEIPT_WITHOUT_SHIPMENT], 0);

  // Normal flows raise nothing.
  for (const auto& [sequence, kinds] : flagged) {
    if (anomalies_.count(sequence) > 0) continue;
    for (const v1::SerialAlert& alert : serial_alerts->alerts()) {
      if (alert.sequence() == sequence) ADD_FAILURE() << "normal flow flagged: " << alert.message();
    }
    for (const v1::CylinderAlert& alert : cylinder_alerts->alerts()) {
      if (alert.sequence() == sequence) ADD_FAILURE() << "normal flow flagged: " << alert.message();
    }
  }
  std::printf("injected %zu anomalies; %d serial and %d cylinder alerts\n", anomalies_.size(),
              serial_alerts->alerts_size(), cylinder_alerts->alerts_size());
}

}  // namespace
}  // namespace traceledger::projections
