#include "projections/oversight/serials.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include "ledger/data_dir.h"
#include "projections/keys.h"
#include "projections/runner.h"

namespace traceledger::projections {
namespace {

// 2026-01-01T00:00:00Z.
constexpr int64_t kDay0Seconds = 1767225600;

constexpr char kMaker[] = "91320500MA1M00006U";
constexpr char kWholesaler[] = "91310000MA1K00007U";
constexpr char kPharmacy[] = "91310104MA1J00008B";
constexpr char kHospital[] = "12310000MB2A00010D";
constexpr char kWholesalerPgln[] = "urn:epc:id:pgln:9521007.00000";
constexpr char kPharmacyPgln[] = "urn:epc:id:pgln:9521008.00000";

constexpr char kS1[] = "cn-drug:81001260000010016919";
constexpr char kS2[] = "cn-drug:81001260000010024838";
constexpr char kS3[] = "cn-drug:81001260000010032757";
constexpr char kCase[] = "urn:epc:id:sscc:9521006.0000000201";
constexpr char kPallet[] = "urn:epc:id:sscc:9521006.0000000900";

void SetTime(v1::EpcisCommon* common, int day, int hour) {
  common->mutable_event_time()->set_seconds(kDay0Seconds + day * 86400 + hour * 3600);
  common->set_event_time_zone_offset("+08:00");
}

void AddOwningParty(google::protobuf::RepeatedPtrField<v1::SourceDestination>* list,
                    std::string_view party) {
  v1::SourceDestination* entry = list->Add();
  entry->set_type("owning_party");
  entry->set_id(std::string(party));
}

v1::Event ObjectEvent(std::string_view party, const std::vector<std::string>& epcs,
                      std::string_view biz_step, v1::Action action, int day, int hour) {
  v1::Event event;
  event.set_submitter_id(std::string(party));
  v1::ObjectEvent* e = event.mutable_object_event();
  SetTime(e->mutable_common(), day, hour);
  e->mutable_common()->set_biz_step(std::string(biz_step));
  e->set_action(action);
  for (const std::string& epc : epcs) e->add_epc_list(epc);
  return event;
}

v1::Event Commission(std::string_view party, const std::vector<std::string>& serials, int day) {
  return ObjectEvent(party, serials, "commissioning", v1::ACTION_ADD, day, 1);
}
v1::Event Ship(std::string_view party, const std::vector<std::string>& objects,
               std::string_view to, int day) {
  v1::Event event = ObjectEvent(party, objects, "shipping", v1::ACTION_OBSERVE, day, 2);
  AddOwningParty(event.mutable_object_event()->mutable_common()->mutable_destination_list(), to);
  return event;
}
// `as` is how the shipper named the receiver (the receipt's owning_party destination), if set.
v1::Event Receive(std::string_view party, const std::vector<std::string>& objects, int day,
                  std::string_view as = "") {
  v1::Event event = ObjectEvent(party, objects, "receiving", v1::ACTION_OBSERVE, day, 3);
  if (!as.empty()) {
    AddOwningParty(event.mutable_object_event()->mutable_common()->mutable_destination_list(), as);
  }
  return event;
}
v1::Event Dispense(std::string_view party, const std::vector<std::string>& objects, int day) {
  return ObjectEvent(party, objects, "dispensing", v1::ACTION_OBSERVE, day, 4);
}
v1::Event Decommission(std::string_view party, const std::vector<std::string>& objects, int day) {
  return ObjectEvent(party, objects, "decommissioning", v1::ACTION_DELETE, day, 5);
}
v1::Event Destroy(std::string_view party, const std::vector<std::string>& objects, int day) {
  return ObjectEvent(party, objects, "destroying", v1::ACTION_DELETE, day, 5);
}
v1::Event Aggregation(std::string_view party, std::string_view parent,
                      const std::vector<std::string>& children, v1::Action action, int day) {
  v1::Event event;
  event.set_submitter_id(std::string(party));
  v1::AggregationEvent* e = event.mutable_aggregation_event();
  SetTime(e->mutable_common(), day, 1);
  e->mutable_common()->set_biz_step(action == v1::ACTION_ADD ? "packing" : "unpacking");
  e->set_action(action);
  e->set_parent_id(std::string(parent));
  for (const std::string& child : children) e->add_child_epcs(child);
  return event;
}
v1::Event Pack(std::string_view party, std::string_view parent,
               const std::vector<std::string>& children, int day) {
  return Aggregation(party, parent, children, v1::ACTION_ADD, day);
}
v1::Event Unpack(std::string_view party, std::string_view parent,
                 const std::vector<std::string>& children, int day) {
  return Aggregation(party, parent, children, v1::ACTION_DELETE, day);
}

class SerialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("oversight_serials_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto ledger = ledger::CreateDataDir((dir_ / "ledger").string(), "serials.test/log", {});
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(ledger).value();
    source_ = LedgerEntrySource(*ledger_);
    auto runner = ProjectionRunner::Open((dir_ / "views").string(), Projections(), {});
    ASSERT_TRUE(runner.ok()) << runner.status().ToString();
    runner_ = std::move(runner).value();
  }
  void TearDown() override {
    runner_.reset();
    source_.reset();
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }
  static std::vector<std::unique_ptr<Projection>> Projections() {
    std::vector<std::unique_ptr<Projection>> out;
    out.push_back(NewSerialsProjection());
    return out;
  }

  // Appends `event` as native JSON and applies it; returns its sequence.
  uint64_t Add(v1::Event event) {
    event.set_event_id("urn:uuid:serials-" + std::to_string(next_id_++));
    std::string json;
    EXPECT_TRUE(google::protobuf::util::MessageToJsonString(event, &json).ok());
    ledger::AppendRequest request;
    request.event_id = event.event_id();
    request.submitter_id = event.submitter_id();
    request.encoding = v1::EVENT_ENCODING_JSON;
    request.event = json;
    request.source.mutable_file()->set_path("serials_test");
    std::vector<ledger::AppendRequest> requests;
    requests.push_back(std::move(request));
    auto appended = ledger_->Append(std::move(requests));
    EXPECT_TRUE(appended.ok()) << appended.status().ToString();
    EXPECT_TRUE(runner_->CatchUp(*source_).ok());
    event_ids_.push_back(event.event_id());
    return (*appended)[0].receipt.sequence;
  }

  v1::SerialState State(std::string_view serial) {
    auto report = SerialStatus(runner_->store().Reader(kSerialsViewName), serial);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? report->state() : v1::SerialState();
  }
  std::vector<v1::SerialAlert> Alerts() {
    auto page = SerialAlerts(runner_->store().Reader(kSerialsViewName), 0, 1000);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? std::vector<v1::SerialAlert>(page->alerts().begin(), page->alerts().end())
                     : std::vector<v1::SerialAlert>();
  }
  std::vector<uint64_t> Sequences(const v1::SerialAlert& alert) {
    return {alert.sequences().begin(), alert.sequences().end()};
  }
  std::vector<std::string> EventIds(const std::vector<uint64_t>& sequences) {
    std::vector<std::string> out;
    for (uint64_t s : sequences) out.push_back(event_ids_.at(s));
    return out;
  }
  void ExpectAlert(const v1::SerialAlert& alert, v1::SerialAlertKind kind, std::string_view serial,
                   const std::vector<uint64_t>& sequences) {
    EXPECT_EQ(alert.kind(), kind) << v1::SerialAlertKind_Name(alert.kind()) << ": "
                                  << alert.message();
    EXPECT_EQ(alert.serial(), serial);
    EXPECT_EQ(Sequences(alert), sequences) << alert.message();
    EXPECT_EQ(std::vector<std::string>(alert.event_ids().begin(), alert.event_ids().end()),
              EventIds(sequences));
    EXPECT_EQ(alert.sequence(), sequences.back());
    EXPECT_FALSE(alert.message().empty());
  }

  std::filesystem::path dir_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<EntrySource> source_;
  std::unique_ptr<ProjectionRunner> runner_;
  std::vector<std::string> event_ids_;  // by sequence
  int next_id_ = 0;
};

// Every field of `message` (through reflection, so that a field added later is covered) set
// or left unset at random: strings empty, short or longer than 127 bytes (two-byte lengths),
// numbers 0, small, large or negative, sub-messages absent, empty or filled.
void FillAtRandom(google::protobuf::Message* message, std::mt19937_64& random) {
  const google::protobuf::Descriptor* descriptor = message->GetDescriptor();
  const google::protobuf::Reflection* reflection = message->GetReflection();
  auto number = [&]() -> uint64_t {
    switch (random() % 4) {
      case 0: return 0;
      case 1: return random() % 200;
      case 2: return random();
      default: return static_cast<uint64_t>(-static_cast<int64_t>(random() % 1000) - 1);
    }
  };
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    ASSERT_FALSE(field->is_repeated()) << field->full_name() << ": extend FillAtRandom";
    if (random() % 3 == 0) continue;
    switch (field->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
        reflection->SetString(message, field, std::string(random() % 3 == 0 ? 0 : random() % 300,
                                                          static_cast<char>('a' + random() % 26)));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
        reflection->SetUInt64(message, field, number());
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
        reflection->SetInt64(message, field, static_cast<int64_t>(number()));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT32:
        reflection->SetUInt32(message, field, static_cast<uint32_t>(number()));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_BOOL:
        reflection->SetBool(message, field, random() % 2 == 0);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_ENUM: {
        const google::protobuf::EnumDescriptor* type = field->enum_type();
        reflection->SetEnumValue(message, field,
                                 type->value(static_cast<int>(random() % type->value_count()))
                                     ->number());
        break;
      }
      case google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE: {
        google::protobuf::Message* sub = reflection->MutableMessage(message, field);
        if (random() % 4 != 0) FillAtRandom(sub, random);
        break;
      }
      default:
        FAIL() << field->full_name() << ": extend FillAtRandom";
    }
  }
}

TEST(SerialStateCodecTest, WritesWhatProtobufWritesAndReadsItBack) {
  std::mt19937_64 random(20261206);
  v1::SerialState decoded;  // read into again and again, as the projection does
  std::string bytes;
  for (int i = 0; i < 2000; ++i) {
    v1::SerialState state;
    FillAtRandom(&state, random);
    EncodeSerialState(state, &bytes);
    ASSERT_EQ(bytes, DeterministicBytes(state)) << state.ShortDebugString();
    ASSERT_TRUE(DecodeSerialState(bytes, &decoded)) << state.ShortDebugString();
    ASSERT_EQ(DeterministicBytes(decoded), bytes) << state.ShortDebugString();
    // Absent and present-but-empty event references stay apart.
    ASSERT_EQ(decoded.has_last_receipt(), state.has_last_receipt());
  }
  // Bytes it did not write are left to protobuf: an unknown field, a reference twice.
  v1::SerialState state;
  state.set_serial("cn-drug:1");
  state.mutable_ended_by()->set_sequence(3);
  EncodeSerialState(state, &bytes);
  EXPECT_TRUE(DecodeSerialState(bytes, &decoded));
  EXPECT_FALSE(DecodeSerialState(bytes + std::string("\xa8\x01\x01", 3), &decoded));  // 21: 1
  EXPECT_FALSE(DecodeSerialState(bytes + std::string("\x5a\x02\x08\x04", 4), &decoded));
  EXPECT_FALSE(DecodeSerialState(std::string("\x0a\x05" "ab", 4), &decoded));  // cut short
}

TEST_F(SerialsTest, TracksEveryStageThroughNestedContainers) {
  const uint64_t commissioned = Add(Commission(kMaker, {kS1, kS2, kS3}, 1));
  EXPECT_EQ(State(kS1).stage(), v1::SERIAL_STAGE_COMMISSIONED);
  EXPECT_TRUE(State(kS1).commissioned());
  EXPECT_EQ(State(kS1).holder(), kMaker);
  EXPECT_EQ(State(kS1).commissioned_by().sequence(), commissioned);

  Add(Pack(kMaker, kCase, {kS1, kS2, kS3}, 1));
  Add(Pack(kMaker, kPallet, {kCase}, 1));
  EXPECT_EQ(State(kS2).stage(), v1::SERIAL_STAGE_PACKED);
  EXPECT_EQ(State(kS2).packed_in(), kCase);

  // The pallet moves the case, which moves the packs.
  const uint64_t shipped = Add(Ship(kMaker, {kPallet}, kWholesalerPgln, 2));
  v1::SerialState s = State(kS3);
  EXPECT_EQ(s.stage(), v1::SERIAL_STAGE_SHIPPED);
  EXPECT_EQ(s.holder(), kMaker);
  EXPECT_EQ(s.shipped_to(), kWholesalerPgln);
  EXPECT_EQ(s.packed_in(), kCase);
  EXPECT_EQ(s.last_shipment().sequence(), shipped);

  // The receiver's submitter id differs from the PGLN the shipper named; the receipt's own
  // owning_party destination matches it.
  const uint64_t received = Add(Receive(kWholesaler, {kPallet}, 3, kWholesalerPgln));
  s = State(kS3);
  EXPECT_EQ(s.stage(), v1::SERIAL_STAGE_RECEIVED);
  EXPECT_EQ(s.holder(), kWholesaler);
  EXPECT_EQ(s.shipped_to(), "");
  EXPECT_EQ(s.last_receipt().sequence(), received);

  // Shipped on to the pharmacy, named by its submitter id this time.
  Add(Ship(kWholesaler, {kPallet}, kPharmacy, 4));
  Add(Receive(kPharmacy, {kPallet}, 5));
  EXPECT_EQ(State(kS1).holder(), kPharmacy);
  Add(Unpack(kPharmacy, kPallet, {}, 5));  // all children
  Add(Unpack(kPharmacy, kCase, {kS1, kS2, kS3}, 5));
  s = State(kS1);
  EXPECT_EQ(s.stage(), v1::SERIAL_STAGE_RECEIVED);
  EXPECT_EQ(s.packed_in(), "");

  const uint64_t dispensed = Add(Dispense(kPharmacy, {kS1}, 6));
  Add(Decommission(kPharmacy, {kS2}, 6));
  Add(Destroy(kPharmacy, {kS3}, 6));
  EXPECT_EQ(State(kS1).stage(), v1::SERIAL_STAGE_DISPENSED);
  EXPECT_EQ(State(kS1).ended_by().sequence(), dispensed);
  EXPECT_EQ(State(kS2).stage(), v1::SERIAL_STAGE_DECOMMISSIONED);
  EXPECT_EQ(State(kS3).stage(), v1::SERIAL_STAGE_DESTROYED);
  EXPECT_EQ(State(kS3).holder(), kPharmacy);
  // Commissioned, packed, shipped and received twice (through the pallet), unpacked, dispensed.
  EXPECT_EQ(State(kS1).movement_count(), 8u);
  EXPECT_TRUE(Alerts().empty());
}

// The state row refers to events by sequence alone (an entry's id, time and party are stored
// once, in its "e" row, not in every state it changes); SerialStatus puts them back.
TEST_F(SerialsTest, AStateRowNamesEventsBySequenceAndTheReportInFull) {
  const uint64_t commissioned = Add(Commission(kMaker, {kS1, kS2}, 1));
  Add(Pack(kMaker, kCase, {kS1, kS2}, 1));
  const uint64_t shipped = Add(Ship(kMaker, {kCase}, kPharmacy, 2));
  const uint64_t received = Add(Receive(kPharmacy, {kCase}, 3));

  const ViewReader reader = runner_->store().Reader(kSerialsViewName);
  auto row = reader.Get(Key("s").Str(kS1).str());
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  ASSERT_TRUE(row->has_value());
  v1::SerialState stored;
  ASSERT_TRUE(stored.ParseFromString(**row));
  EXPECT_EQ(stored.serial(), "");
  ASSERT_TRUE(stored.has_commissioned_by() && stored.has_last_shipment() &&
              stored.has_last_receipt() && stored.has_last_movement());
  EXPECT_EQ(stored.commissioned_by().sequence(), commissioned);
  EXPECT_EQ(stored.last_receipt().sequence(), received);
  for (const v1::OversightEventRef* ref :
       {&stored.commissioned_by(), &stored.last_shipment(), &stored.last_receipt(),
        &stored.last_movement()}) {
    EXPECT_EQ(ref->event_id(), "");
    EXPECT_EQ(ref->party(), "");
    EXPECT_EQ(ref->time_unix_micros(), 0);
  }
  EXPECT_FALSE(stored.has_ended_by());

  const v1::SerialState s = State(kS1);
  EXPECT_EQ(s.serial(), kS1);
  auto expect_ref = [&](const v1::OversightEventRef& ref, uint64_t sequence,
                        std::string_view party, int day, int hour) {
    EXPECT_EQ(ref.sequence(), sequence);
    EXPECT_EQ(ref.event_id(), event_ids_.at(sequence));
    EXPECT_EQ(ref.party(), party);
    EXPECT_EQ(ref.time_unix_micros(), (kDay0Seconds + day * 86400 + hour * 3600) * 1000000);
  };
  // The helpers' events happen at hour 1 (commissioning), 2 (shipping) and 3 (receiving).
  expect_ref(s.commissioned_by(), commissioned, kMaker, 1, 1);
  expect_ref(s.last_shipment(), shipped, kMaker, 2, 2);
  expect_ref(s.last_receipt(), received, kPharmacy, 3, 3);
  expect_ref(s.last_movement(), received, kPharmacy, 3, 3);
  EXPECT_FALSE(s.has_ended_by());
}

TEST_F(SerialsTest, UnpackingAtTheMakerReturnsToCommissioned) {
  Add(Commission(kMaker, {kS1}, 1));
  Add(Pack(kMaker, kCase, {kS1}, 1));
  Add(Unpack(kMaker, kCase, {}, 1));
  EXPECT_EQ(State(kS1).stage(), v1::SERIAL_STAGE_COMMISSIONED);
  EXPECT_EQ(State(kS1).packed_in(), "");
  // The case is empty now: shipping it does not move the serial.
  Add(Ship(kMaker, {kCase}, kWholesaler, 2));
  EXPECT_EQ(State(kS1).stage(), v1::SERIAL_STAGE_COMMISSIONED);
  EXPECT_TRUE(Alerts().empty());
}

TEST_F(SerialsTest, DoubleDispensingNamesBothDispensings) {
  Add(Commission(kMaker, {kS1}, 1));
  Add(Ship(kMaker, {kS1}, kPharmacy, 2));
  Add(Receive(kPharmacy, {kS1}, 3));
  const uint64_t first = Add(Dispense(kPharmacy, {kS1}, 4));
  const uint64_t second = Add(Dispense(kPharmacy, {kS1}, 5));
  const auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  ExpectAlert(alerts[0], v1::SERIAL_ALERT_KIND_DOUBLE_DISPENSING, kS1, {first, second});
  EXPECT_EQ(State(kS1).ended_by().sequence(), first);  // the first dispensing stands
  EXPECT_EQ(State(kS1).alert_count(), 1u);
}

TEST_F(SerialsTest, ReceiptByAPartyItWasNotShippedToNamesTheShipment) {
  Add(Commission(kMaker, {kS1}, 1));
  const uint64_t shipped = Add(Ship(kMaker, {kS1}, kWholesalerPgln, 2));
  // The pharmacy receives it, naming itself by its PGLN: not where it was shipped.
  const uint64_t received = Add(Receive(kPharmacy, {kS1}, 3, kPharmacyPgln));
  auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  ExpectAlert(alerts[0], v1::SERIAL_ALERT_KIND_RECEIPT_WITHOUT_SHIPMENT, kS1, {shipped, received});
  // The shipment stands: the wholesaler's receipt is still expected and raises nothing.
  EXPECT_EQ(State(kS1).stage(), v1::SERIAL_STAGE_SHIPPED);
  EXPECT_EQ(State(kS1).movement_count(), 2u);
  EXPECT_EQ(State(kS1).alert_count(), 1u);
  Add(Receive(kWholesaler, {kS1}, 4, kWholesalerPgln));
  EXPECT_EQ(Alerts().size(), 1u);
  EXPECT_EQ(State(kS1).holder(), kWholesaler);
  EXPECT_EQ(State(kS1).holder_alias(), kWholesalerPgln);
}

TEST_F(SerialsTest, AReceiptFromTheHolderOnlyLacksTheShipmentAndIsApplied) {
  const uint64_t commissioned = Add(Commission(kMaker, {kS1}, 1));
  v1::Event receipt = Receive(kPharmacy, {kS1}, 3);
  AddOwningParty(receipt.mutable_object_event()->mutable_common()->mutable_source_list(), kMaker);
  const uint64_t received = Add(receipt);
  const auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  ExpectAlert(alerts[0], v1::SERIAL_ALERT_KIND_RECEIPT_WITHOUT_SHIPMENT, kS1,
              {commissioned, received});
  EXPECT_NE(alerts[0].message().find("no shipment recorded"), std::string::npos);
  EXPECT_EQ(State(kS1).holder(), kPharmacy);
  Add(Dispense(kPharmacy, {kS1}, 4));  // no cascade
  EXPECT_EQ(Alerts().size(), 1u);
}

TEST_F(SerialsTest, ActingOnAnInTransitSerialAsItsReceiverIsAMissingReceipt) {
  Add(Commission(kMaker, {kS1, kS2}, 1));
  const uint64_t shipped = Add(Ship(kMaker, {kS1, kS2}, kWholesaler, 2));
  // The wholesaler ships kS1 on and dispenses kS2 without recording their receipt.
  const uint64_t shipped_on = Add(Ship(kWholesaler, {kS1}, kPharmacy, 3));
  const uint64_t dispensed = Add(Dispense(kWholesaler, {kS2}, 3));
  const auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 2u);
  ExpectAlert(alerts[0], v1::SERIAL_ALERT_KIND_NOT_HOLDER, kS1, {shipped, shipped_on});
  ExpectAlert(alerts[1], v1::SERIAL_ALERT_KIND_NOT_HOLDER, kS2, {shipped, dispensed});
  EXPECT_EQ(State(kS2).stage(), v1::SERIAL_STAGE_DISPENSED);
  EXPECT_EQ(State(kS1).shipped_to(), kPharmacy);
  Add(Receive(kPharmacy, {kS1}, 4));  // the rest of the chain is in order
  Add(Dispense(kPharmacy, {kS1}, 5));
  EXPECT_EQ(Alerts().size(), 2u);
}

TEST_F(SerialsTest, ReceiptWithoutAnyShipmentNamesTheLastMovement) {
  const uint64_t commissioned = Add(Commission(kMaker, {kS1}, 1));
  const uint64_t received = Add(Receive(kPharmacy, {kS1}, 3));
  const auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  ExpectAlert(alerts[0], v1::SERIAL_ALERT_KIND_RECEIPT_WITHOUT_SHIPMENT, kS1,
              {commissioned, received});
  EXPECT_EQ(State(kS1).holder(), kMaker);  // the receipt names no source: not applied
}

TEST_F(SerialsTest, ReceivingTheCaseThenItsPacksIsNotAConflict) {
  Add(Commission(kMaker, {kS1, kS2}, 1));
  Add(Pack(kMaker, kCase, {kS1, kS2}, 1));
  Add(Ship(kMaker, {kCase}, kPharmacy, 2));
  Add(Ship(kMaker, {kS1}, kPharmacy, 2));  // the same shipment reported per pack
  Add(Receive(kPharmacy, {kCase}, 3));
  Add(Receive(kPharmacy, {kS1, kS2}, 3));
  EXPECT_TRUE(Alerts().empty());
  EXPECT_EQ(State(kS2).holder(), kPharmacy);
}

TEST_F(SerialsTest, DispensingByAPartyThatDoesNotHoldItNamesTheHoldersEvent) {
  Add(Commission(kMaker, {kS1, kS2}, 1));
  Add(Ship(kMaker, {kS1, kS2}, kWholesaler, 2));
  const uint64_t received = Add(Receive(kWholesaler, {kS1}, 3));
  const uint64_t by_pharmacy = Add(Dispense(kPharmacy, {kS1}, 4));
  // kS2 is still in transit to the wholesaler when the pharmacy dispenses it.
  const uint64_t in_transit = Add(Dispense(kPharmacy, {kS2}, 4));
  const auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 2u);
  ExpectAlert(alerts[0], v1::SERIAL_ALERT_KIND_NOT_HOLDER, kS1, {received, by_pharmacy});
  ExpectAlert(alerts[1], v1::SERIAL_ALERT_KIND_NOT_HOLDER, kS2, {1, in_transit});
  EXPECT_NE(alerts[1].message().find("in transit"), std::string::npos) << alerts[1].message();
  // Neither claim moves the serial: the holder still dispenses it without a conflict.
  EXPECT_EQ(State(kS1).stage(), v1::SERIAL_STAGE_RECEIVED);
  EXPECT_EQ(State(kS2).stage(), v1::SERIAL_STAGE_SHIPPED);
  Add(Dispense(kWholesaler, {kS1}, 5));
  EXPECT_EQ(Alerts().size(), 2u);
}

TEST_F(SerialsTest, ShippingByAPartyThatDoesNotHoldItIsFlagged) {
  const uint64_t commissioned = Add(Commission(kMaker, {kS1}, 1));
  const uint64_t shipped = Add(Ship(kWholesaler, {kS1}, kPharmacy, 2));
  const auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  ExpectAlert(alerts[0], v1::SERIAL_ALERT_KIND_NOT_HOLDER, kS1, {commissioned, shipped});
  EXPECT_EQ(State(kS1).holder(), kMaker);
  EXPECT_EQ(State(kS1).stage(), v1::SERIAL_STAGE_COMMISSIONED);
}

TEST_F(SerialsTest, AnUnknownSerialIsFlaggedOnceAndThenFollowed) {
  const uint64_t dispensed = Add(Dispense(kPharmacy, {kS1}, 4));
  auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  ExpectAlert(alerts[0], v1::SERIAL_ALERT_KIND_UNKNOWN_SERIAL, kS1, {dispensed});
  EXPECT_FALSE(State(kS1).commissioned());
  EXPECT_EQ(State(kS1).stage(), v1::SERIAL_STAGE_DISPENSED);

  // Reached through a case, and named by a plain observation.
  Add(Pack(kWholesaler, kCase, {kS2}, 5));
  const uint64_t observed = Add(ObjectEvent(kHospital, {kS3}, "inspecting", v1::ACTION_OBSERVE, 5, 6));
  alerts = Alerts();
  ASSERT_EQ(alerts.size(), 3u);
  ExpectAlert(alerts[1], v1::SERIAL_ALERT_KIND_UNKNOWN_SERIAL, kS2, {dispensed + 1});
  ExpectAlert(alerts[2], v1::SERIAL_ALERT_KIND_UNKNOWN_SERIAL, kS3, {observed});

  // Later events are checked against what the first one said, without a second unknown alert.
  Add(Ship(kWholesaler, {kCase}, kPharmacy, 6));
  Add(Receive(kPharmacy, {kCase}, 7));
  EXPECT_EQ(Alerts().size(), 3u);
  EXPECT_EQ(State(kS2).holder(), kPharmacy);
  // Lots (classes) and containers are not serials.
  Add(ObjectEvent(kMaker, {"urn:epc:class:lgtin:9521001.000010.LOT1", kPallet}, "shipping",
                  v1::ACTION_OBSERVE, 7, 1));
  EXPECT_EQ(Alerts().size(), 3u);
}

TEST_F(SerialsTest, AnEndedSerialReappearingInAnyMovementIsFlagged) {
  const uint64_t commissioned = Add(Commission(kMaker, {kS1, kS2, kS3}, 1));
  const uint64_t decommissioned = Add(Decommission(kMaker, {kS1}, 2));
  const uint64_t destroyed = Add(Destroy(kMaker, {kS2}, 2));
  const uint64_t dispensed = Add(Dispense(kMaker, {kS3}, 2));
  const uint64_t shipped = Add(Ship(kMaker, {kS1}, kWholesaler, 3));
  const uint64_t dispensed_destroyed = Add(Dispense(kPharmacy, {kS2}, 3));
  const uint64_t received = Add(Receive(kWholesaler, {kS3}, 3));
  const uint64_t packed = Add(Pack(kMaker, kCase, {kS1}, 4));
  const uint64_t recommissioned = Add(Commission(kMaker, {kS2}, 4));
  const auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 5u);
  ExpectAlert(alerts[0], v1::SERIAL_ALERT_KIND_REAPPEARED, kS1, {decommissioned, shipped});
  ExpectAlert(alerts[1], v1::SERIAL_ALERT_KIND_REAPPEARED, kS2, {destroyed, dispensed_destroyed});
  ExpectAlert(alerts[2], v1::SERIAL_ALERT_KIND_REAPPEARED, kS3, {dispensed, received});
  ExpectAlert(alerts[3], v1::SERIAL_ALERT_KIND_REAPPEARED, kS1, {decommissioned, packed});
  ExpectAlert(alerts[4], v1::SERIAL_ALERT_KIND_REAPPEARED, kS2, {destroyed, recommissioned});
  // A dead serial stays dead.
  EXPECT_EQ(State(kS1).stage(), v1::SERIAL_STAGE_DECOMMISSIONED);
  EXPECT_EQ(State(kS3).holder(), kMaker);
  EXPECT_EQ(State(kS1).commissioned_by().sequence(), commissioned);
}

TEST_F(SerialsTest, ASecondCommissioningOfALiveSerialIsFlagged) {
  const uint64_t first = Add(Commission(kMaker, {kS1}, 1));
  const uint64_t second = Add(Commission(kWholesaler, {kS1}, 2));
  const auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  ExpectAlert(alerts[0], v1::SERIAL_ALERT_KIND_DUPLICATE_COMMISSIONING, kS1, {first, second});
  EXPECT_EQ(State(kS1).holder(), kMaker);
}

TEST_F(SerialsTest, ACaseReceivedByTheWrongPartyFlagsEachPackInIt) {
  Add(Commission(kMaker, {kS1, kS2}, 1));
  Add(Pack(kMaker, kCase, {kS1, kS2}, 1));
  const uint64_t shipped = Add(Ship(kMaker, {kCase}, kWholesaler, 2));
  const uint64_t received = Add(Receive(kPharmacy, {kCase}, 3));
  const auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 2u);
  ExpectAlert(alerts[0], v1::SERIAL_ALERT_KIND_RECEIPT_WITHOUT_SHIPMENT, kS1, {shipped, received});
  ExpectAlert(alerts[1], v1::SERIAL_ALERT_KIND_RECEIPT_WITHOUT_SHIPMENT, kS2, {shipped, received});
  EXPECT_EQ(alerts[0].via_container(), kCase);
}

// A serial may be a container too (a serialized kit of serialized packs): moving it moves it
// and its contents. A tracked id that only ever held things (never commissioned or moved
// itself) stays a container, not a serial of its own.
TEST_F(SerialsTest, ASerialThatIsAlsoAContainerMovesWithItsContents) {
  constexpr char kKit[] = "urn:epc:id:sgtin:9521234.054321.7001";
  constexpr char kBox[] = "urn:epc:id:sgtin:9521234.054321.7002";
  Add(Commission(kMaker, {kKit, kS1, kS2}, 1));
  Add(Pack(kMaker, kKit, {kS1}, 1));
  Add(Pack(kMaker, kBox, {kS2}, 1));
  const uint64_t shipped = Add(Ship(kMaker, {kKit, kBox}, kWholesaler, 2));
  for (const char* serial : {kKit, kS1, kS2}) {
    const v1::SerialState s = State(serial);
    EXPECT_EQ(s.stage(), v1::SERIAL_STAGE_SHIPPED) << serial;
    EXPECT_EQ(s.last_shipment().sequence(), shipped) << serial;
  }
  EXPECT_EQ(State(kS1).packed_in(), kKit);
  EXPECT_EQ(SerialStatus(runner_->store().Reader(kSerialsViewName), kBox).status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(Alerts().empty());
}

TEST_F(SerialsTest, AlertsPageBySequenceAndByIndex) {
  Add(Commission(kMaker, {kS1, kS2, kS3}, 1));
  const uint64_t a = Add(Dispense(kPharmacy, {kS1}, 2));  // not holder
  const uint64_t b = Add(Dispense(kPharmacy, {kS2, kS3}, 3));  // two alerts, one entry
  const ViewReader reader = runner_->store().Reader(kSerialsViewName);
  auto all = SerialAlerts(reader, 0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->alerts_size(), 3);
  EXPECT_FALSE(all->more());
  auto since_b = SerialAlerts(reader, b, 100);
  ASSERT_TRUE(since_b.ok());
  ASSERT_EQ(since_b->alerts_size(), 2);
  EXPECT_EQ(since_b->alerts(0).sequence(), b);
  auto since_a = SerialAlerts(reader, a, 1);
  ASSERT_TRUE(since_a.ok());
  ASSERT_EQ(since_a->alerts_size(), 1);
  EXPECT_TRUE(since_a->more());
  auto next = SerialAlertsFrom(reader, since_a->next_alert_index(), 10);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->alerts_size(), 2);
  EXPECT_EQ(next->alerts(1).alert_index(), 2u);
  auto none = SerialAlerts(reader, b + 1, 10);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->alerts_size(), 0);

  auto report = SerialStatus(reader, kS2);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->alerts_size(), 1);
  EXPECT_EQ(report->alerts(0).serial(), kS2);
  EXPECT_EQ(SerialStatus(reader, "cn-drug:00000000000000000000").status().code(),
            StatusCode::kNotFound);
}

TEST(SerialPatternTest, TracksDrugCodesSgtinsAndDigitalLinkSerials) {
  EXPECT_TRUE(IsTrackedSerial("cn-drug:81001260000010016919"));
  EXPECT_TRUE(IsTrackedSerial("urn:epc:id:sgtin:9521234.054321.1001"));
  EXPECT_TRUE(IsTrackedSerial("https://id.gs1.org/01/09521234543213/21/1001"));
  EXPECT_FALSE(IsTrackedSerial("https://id.gs1.org/01/09521234543213/10/LOT42"));
  EXPECT_FALSE(IsTrackedSerial("urn:epc:id:sscc:9521006.0000000201"));
  EXPECT_FALSE(IsTrackedSerial("urn:epc:class:lgtin:9521001.000010.LOT1"));
}

}  // namespace
}  // namespace traceledger::projections
