// File: projections/chain/testing/chain_events.h
//
// Builders of supply-chain events for the chain views' tests, and a fixture that appends them
// to a real Ledger (as native JSON) and folds them with a ProjectionRunner. Test-only.
#ifndef TRACELEDGER_PROJECTIONS_CHAIN_TESTING_CHAIN_EVENTS_H_
#define TRACELEDGER_PROJECTIONS_CHAIN_TESTING_CHAIN_EVENTS_H_

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ledger/data_dir.h"
#include "ledger/ledger.h"
#include "projections/chain/genealogy.h"
#include "projections/chain/history.h"
#include "projections/chain/holdings.h"
#include "projections/runner.h"
#include "tl/v1/events.pb.h"

namespace traceledger::projections::testing {

// 2026-01-01T00:00:00Z plus `minutes`.
inline int64_t At(int64_t minutes) { return (1767225600LL + minutes * 60) * 1000000; }

// An object and how much of it: ids with ":class:" or "#lot=" are quantity elements (lots),
// anything else a serialized EPC.
struct Item {
  Item(std::string id_in, double quantity_in = 1, std::string uom_in = "")  // NOLINT
      : id(std::move(id_in)), quantity(quantity_in), uom(std::move(uom_in)) {}
  std::string id;
  double quantity = 1;
  std::string uom;
};

inline bool IsClass(const std::string& id) {
  return id.find(":class:") != std::string::npos || id.find(":idpat:") != std::string::npos;
}

inline void SetTime(int64_t micros, google::protobuf::Timestamp* t) {
  *t = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(micros);
}

inline void SetCommon(int64_t micros, const std::string& biz_step, const std::string& location,
                      v1::EpcisCommon* common) {
  SetTime(micros, common->mutable_event_time());
  common->set_event_time_zone_offset("+08:00");
  if (!biz_step.empty()) common->set_biz_step(biz_step);
  if (!location.empty()) common->mutable_biz_location()->set_id(location);
}

inline void AddItems(const std::vector<Item>& items,
                     google::protobuf::RepeatedPtrField<std::string>* epcs,
                     google::protobuf::RepeatedPtrField<v1::QuantityElement>* quantities) {
  for (const Item& item : items) {
    if (IsClass(item.id)) {
      v1::QuantityElement* q = quantities->Add();
      q->set_epc_class(item.id);
      q->set_quantity(item.quantity);
      if (!item.uom.empty()) q->set_uom(item.uom);
    } else {
      epcs->Add(std::string(item.id));
    }
  }
}

inline v1::Event Envelope(const std::string& event_id, const std::string& party) {
  v1::Event event;
  event.set_event_id(event_id);
  event.set_submitter_id(party);
  return event;
}

// An ObjectEvent; `counterparty` is the owning_party destination (shipping) or source
// (receiving).
inline v1::Event ObjectEventOf(const std::string& event_id, const std::string& party,
                               int64_t micros, const std::string& biz_step, v1::Action action,
                               const std::vector<Item>& items,
                               const std::string& counterparty = "",
                               const std::string& location = "") {
  v1::Event event = Envelope(event_id, party);
  v1::ObjectEvent* e = event.mutable_object_event();
  SetCommon(micros, biz_step, location, e->mutable_common());
  e->set_action(action);
  AddItems(items, e->mutable_epc_list(), e->mutable_quantity_list());
  if (!counterparty.empty()) {
    v1::SourceDestination* sd = biz_step == "receiving"
                                    ? e->mutable_common()->add_source_list()
                                    : e->mutable_common()->add_destination_list();
    sd->set_type("owning_party");
    sd->set_id(counterparty);
  }
  return event;
}

inline v1::Event Commission(const std::string& event_id, const std::string& party,
                            int64_t micros, const std::vector<Item>& items,
                            const std::string& location = "") {
  return ObjectEventOf(event_id, party, micros, "commissioning", v1::ACTION_ADD, items, "",
                       location);
}
inline v1::Event Ship(const std::string& event_id, const std::string& party, int64_t micros,
                      const std::vector<Item>& items, const std::string& to) {
  return ObjectEventOf(event_id, party, micros, "shipping", v1::ACTION_OBSERVE, items, to);
}
inline v1::Event Receive(const std::string& event_id, const std::string& party, int64_t micros,
                         const std::vector<Item>& items, const std::string& from,
                         const std::string& location = "") {
  return ObjectEventOf(event_id, party, micros, "receiving", v1::ACTION_OBSERVE, items, from,
                       location);
}
inline v1::Event Sell(const std::string& event_id, const std::string& party, int64_t micros,
                      const std::vector<Item>& items) {
  return ObjectEventOf(event_id, party, micros, "retail_selling", v1::ACTION_OBSERVE, items);
}
inline v1::Event Destroy(const std::string& event_id, const std::string& party, int64_t micros,
                         const std::vector<Item>& items) {
  return ObjectEventOf(event_id, party, micros, "destroying", v1::ACTION_DELETE, items);
}

inline v1::Event Transform(const std::string& event_id, const std::string& party,
                           int64_t micros, const std::vector<Item>& inputs,
                           const std::vector<Item>& outputs, const std::string& location = "") {
  v1::Event event = Envelope(event_id, party);
  v1::TransformationEvent* e = event.mutable_transformation_event();
  SetCommon(micros, "transforming", location, e->mutable_common());
  AddItems(inputs, e->mutable_input_epc_list(), e->mutable_input_quantity_list());
  AddItems(outputs, e->mutable_output_epc_list(), e->mutable_output_quantity_list());
  return event;
}

// AggregationEvent: ADD "packing", DELETE "unpacking" (no children: all), or another bizStep
// (e.g. "shipping" with a destination) when given.
inline v1::Event Aggregate(const std::string& event_id, const std::string& party,
                           int64_t micros, v1::Action action, const std::string& parent,
                           const std::vector<Item>& children, const std::string& biz_step = "",
                           const std::string& counterparty = "") {
  v1::Event event = Envelope(event_id, party);
  v1::AggregationEvent* e = event.mutable_aggregation_event();
  const std::string step =
      !biz_step.empty() ? biz_step : action == v1::ACTION_ADD ? "packing" : "unpacking";
  SetCommon(micros, step, "", e->mutable_common());
  e->set_action(action);
  e->set_parent_id(parent);
  AddItems(children, e->mutable_child_epcs(), e->mutable_child_quantity_list());
  if (!counterparty.empty()) {
    v1::SourceDestination* sd = step == "receiving" ? e->mutable_common()->add_source_list()
                                                    : e->mutable_common()->add_destination_list();
    sd->set_type("owning_party");
    sd->set_id(counterparty);
  }
  return event;
}

inline v1::Event Removal(const std::string& event_id, const std::string& party, int64_t micros,
                         const std::string& recall_id, const Item& item) {
  v1::Event event = Envelope(event_id, party);
  v1::RecallRemoval* e = event.mutable_recall_removal();
  e->set_recall_id(recall_id);
  e->set_holder_id(party);
  e->set_object_id(item.id);
  e->set_quantity(item.quantity);
  if (!item.uom.empty()) e->set_uom(item.uom);
  SetTime(micros, e->mutable_removed_at());
  return event;
}

// The four chain views over a fresh ledger in a temporary directory.
class ChainFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("chain_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto ledger = ledger::CreateDataDir((dir_ / "ledger").string(), "chain.test/log", {});
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(*ledger);
    source_ = LedgerEntrySource(*ledger_);
  }
  void TearDown() override {
    runners_.clear();
    source_.reset();
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }

  static std::vector<std::unique_ptr<Projection>> ChainProjections() {
    std::vector<std::unique_ptr<Projection>> out;
    out.push_back(NewHistoryProjection());
    out.push_back(NewGenealogyProjection());
    return out;
  }

  // Appends `events` (in order) as native JSON, or protobuf binary.
  void Append(const std::vector<v1::Event>& events,
              v1::EventEncoding encoding = v1::EVENT_ENCODING_JSON) {
    constexpr size_t kCall = 1000;
    for (size_t start = 0; start < events.size(); start += kCall) {
      std::vector<ledger::AppendRequest> requests;
      for (size_t i = start; i < std::min(events.size(), start + kCall); ++i) {
        ledger::AppendRequest& request = requests.emplace_back();
        request.event_id = events[i].event_id();
        request.submitter_id = events[i].submitter_id();
        request.encoding = encoding;
        if (encoding == v1::EVENT_ENCODING_JSON) {
          ASSERT_TRUE(google::protobuf::util::MessageToJsonString(events[i], &request.event).ok());
        } else {
          ASSERT_TRUE(events[i].SerializeToString(&request.event));
        }
        request.source.mutable_file()->set_path("chain_test");
      }
      auto results = ledger_->Append(std::move(requests));
      ASSERT_TRUE(results.ok()) << results.status().ToString();
    }
  }

  // Opens (once per name) a runner over the chain views in DIR/<name> and catches it up.
  ProjectionRunner& CatchUp(const std::string& name = "views", size_t batch_entries = 2000) {
    auto it = runners_.find(name);
    if (it == runners_.end()) {
      RunnerOptions options;
      options.batch_entries = batch_entries;
      auto runner =
          ProjectionRunner::Open((dir_ / name).string(), ChainProjections(), std::move(options));
      EXPECT_TRUE(runner.ok()) << runner.status().ToString();
      it = runners_.emplace(name, std::move(*runner)).first;
    }
    auto applied = it->second->CatchUp(*source_);
    EXPECT_TRUE(applied.ok()) << applied.status().ToString();
    return *it->second;
  }

  ViewReader Reader(std::string_view view, const std::string& runner = "views") {
    return runners_.at(runner)->store().Reader(view);
  }

  std::filesystem::path dir_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<EntrySource> source_;
  std::map<std::string, std::unique_ptr<ProjectionRunner>> runners_;
};

}  // namespace traceledger::projections::testing

#endif  // TRACELEDGER_PROJECTIONS_CHAIN_TESTING_CHAIN_EVENTS_H_
