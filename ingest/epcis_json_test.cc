#include "ingest/epcis_json.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ingest/event_validator.h"

#ifndef TL_INGEST_TESTDATA_DIR
#error "TL_INGEST_TESTDATA_DIR must name ingest/testdata (set in ingest/CMakeLists.txt)"
#endif

namespace traceledger::ingest {
namespace {

namespace pb = google::protobuf;
namespace v1 = traceledger::v1;
using Json = nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The event objects of an EPCISDocument or EPCISQueryDocument, each re-serialized on its own.
std::vector<std::string> EventsOf(const std::string& path) {
  const Json document = Json::parse(ReadFile(path), nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(document.is_object()) << path;
  std::vector<std::string> events;
  if (!document.is_object()) return events;
  const Json* list = nullptr;
  const Json& body = document.value("epcisBody", Json::object());
  if (body.contains("eventList")) {
    list = &body["eventList"];
  } else if (body.contains("queryResults")) {
    list = &body["queryResults"]["resultsBody"]["eventList"];
  }
  EXPECT_NE(list, nullptr) << path;
  if (list == nullptr) return events;
  for (const Json& event : *list) events.push_back(event.dump());
  return events;
}

std::string Testdata(std::string_view name) {
  return std::string(TL_INGEST_TESTDATA_DIR) + "/epcis/" + std::string(name);
}

// Decodes event `index` of the testdata document `name`. Adds a test failure and returns an
// empty Event (no body) if the file has no such event or it does not decode.
v1::Event DecodeFixture(std::string_view name, size_t index) {
  const std::vector<std::string> events = EventsOf(Testdata(name));
  if (index >= events.size()) {
    ADD_FAILURE() << name << " has " << events.size() << " events, want more than " << index;
    return v1::Event();
  }
  Result<v1::Event> event = DecodeEpcisJsonEvent(events[index]);
  if (!event.ok()) {
    ADD_FAILURE() << name << " event " << index << ": " << event.status().ToString();
    return v1::Event();
  }
  return *std::move(event);
}

const pb::Value& Field(const pb::Struct& object, const std::string& key) {
  static const pb::Value kMissing;
  const auto it = object.fields().find(key);
  if (it == object.fields().end()) {
    ADD_FAILURE() << "no key " << key;
    return kMissing;
  }
  return it->second;
}

constexpr char kSubmitter[] = "urn:epc:id:pgln:9521101.00000";

TEST(EpcisJsonTest, DecodesEveryTestdataEventAndTheyValidate) {
  ValidationContext ctx;
  ctx.now_unix_micros = 1924992000LL * 1000000;  // 2031-01-01: the fixtures' dates are past
  int files = 0;
  int decoded = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(TL_INGEST_TESTDATA_DIR) + "/epcis")) {
    if (entry.path().extension() != ".jsonld") continue;
    ++files;
    const std::vector<std::string> events = EventsOf(entry.path().string());
    EXPECT_FALSE(events.empty()) << entry.path();
    for (const std::string& text : events) {
      Result<v1::Event> event = DecodeEpcisJsonEvent(text);
      ASSERT_TRUE(event.ok()) << entry.path() << ": " << event.status().ToString();
      event->set_submitter_id(kSubmitter);
      const std::optional<Violation> violation = ValidateEvent(*event, ctx);
      EXPECT_FALSE(violation.has_value())
          << entry.path() << ": " << ValidationRuleName(violation->rule) << " at "
          << violation->field << ": " << violation->message;
      ++decoded;
    }
  }
  // testdata/epcis/README.md lists the files and their events.
  EXPECT_EQ(files, 9);
  EXPECT_EQ(decoded, 13);
}

TEST(EpcisJsonTest, MapsEveryFieldOfTheFullObjectEvent) {
  const v1::Event event = DecodeFixture("object_event_all_fields.jsonld", 0);
  ASSERT_TRUE(event.has_object_event());
  const v1::ObjectEvent& object = event.object_event();
  const v1::EpcisCommon& common = object.common();

  // An error declaration gets its own id and points at the declared event.
  EXPECT_EQ(event.event_id(), "urn:uuid:5c0e8a3d-1f47-4b92-a6d8-0e2f9b7c4a15#error-declaration");
  const v1::ErrorDeclaration& declaration = common.error_declaration();
  EXPECT_EQ(declaration.erroneous_event_id(), "urn:uuid:5c0e8a3d-1f47-4b92-a6d8-0e2f9b7c4a15");
  EXPECT_EQ(declaration.reason(), "incorrect_data");
  ASSERT_EQ(declaration.corrective_event_ids_size(), 1);
  EXPECT_EQ(declaration.corrective_event_ids(0), "urn:uuid:a3e1b07c-92d4-4f6e-8b15-7d0c6f2e9a31");
  EXPECT_EQ(declaration.declaration_time().seconds(), 1762218900);  // 2025-11-04T09:15:00+08:00
  EXPECT_EQ(Field(declaration.extensions(), "qa:deviationReport").string_value(),
            "https://qa.jiangnan-dairy.example/deviation/DR-2025-1187");
  EXPECT_TRUE(event.submitter_id().empty());

  EXPECT_EQ(common.event_time().seconds(), 1762123337);  // 2025-11-03T06:42:17.250+08:00
  EXPECT_EQ(common.event_time().nanos(), 250000000);
  EXPECT_EQ(common.event_time_zone_offset(), "+08:00");
  EXPECT_EQ(common.record_time().seconds(), 1762123339);
  EXPECT_EQ(common.record_time().nanos(), 4000000);
  ASSERT_EQ(common.certification_info_size(), 2);
  EXPECT_EQ(common.certification_info(0), "https://certs.cqc.example/organic/OP-2025-00417");
  EXPECT_EQ(common.certification_info(1), "https://certs.cqc.example/haccp/HC-JND-0092");

  EXPECT_EQ(object.action(), v1::ACTION_ADD);
  ASSERT_EQ(object.epc_list_size(), 2);
  EXPECT_EQ(object.epc_list(0), "urn:epc:id:sgtin:9521101.100012.C25110300731");
  EXPECT_EQ(object.epc_list(1), "urn:epc:id:sgtin:9521101.100012.C25110300732");
  EXPECT_EQ(common.biz_step(), "commissioning");
  EXPECT_EQ(common.disposition(), "active");
  ASSERT_EQ(common.persistent_disposition().set_size(), 1);
  EXPECT_EQ(common.persistent_disposition().set(0), "conformant");
  ASSERT_EQ(common.persistent_disposition().unset_size(), 1);
  EXPECT_EQ(common.persistent_disposition().unset(0), "non_conformant");
  EXPECT_EQ(common.read_point().id(), "urn:epc:id:sgln:9521101.00001.12");
  EXPECT_EQ(common.biz_location().id(), "urn:epc:id:sgln:9521101.00001.0");

  ASSERT_EQ(common.biz_transaction_list_size(), 2);
  EXPECT_EQ(common.biz_transaction_list(0).type(), "prodorder");
  EXPECT_EQ(common.biz_transaction_list(0).biz_transaction(),
            "urn:epc:id:gdti:9521101.00005.MO20251103");
  EXPECT_EQ(common.biz_transaction_list(1).type(), "testres");
  EXPECT_EQ(common.biz_transaction_list(1).biz_transaction(),
            "urn:epc:id:gdti:9521101.00007.QC2511030412");

  ASSERT_EQ(object.quantity_list_size(), 2);
  EXPECT_EQ(object.quantity_list(0).epc_class(), "urn:epc:class:lgtin:9521101.000012.L251103A");
  EXPECT_EQ(object.quantity_list(0).quantity(), 1212.5);
  EXPECT_EQ(object.quantity_list(0).uom(), "LTR");
  EXPECT_EQ(object.quantity_list(1).epc_class(), "urn:epc:idpat:sgtin:9521101.100012.*");
  EXPECT_EQ(object.quantity_list(1).quantity(), 200);
  EXPECT_TRUE(object.quantity_list(1).uom().empty());

  ASSERT_EQ(common.source_list_size(), 3);
  EXPECT_EQ(common.source_list(0).type(), "location");
  EXPECT_EQ(common.source_list(0).id(), "urn:epc:id:sgln:9521101.00001.0");
  EXPECT_EQ(common.source_list(1).type(), "possessing_party");
  EXPECT_EQ(common.source_list(1).id(), "urn:epc:id:pgln:9521101.00000");
  EXPECT_EQ(common.source_list(2).type(), "owning_party");
  ASSERT_EQ(common.destination_list_size(), 3);
  EXPECT_EQ(common.destination_list(0).type(), "location");
  EXPECT_EQ(common.destination_list(0).id(), "urn:epc:id:sgln:9521104.00003.0");
  EXPECT_EQ(common.destination_list(1).id(), "urn:epc:id:pgln:9521102.00000");
  EXPECT_EQ(common.destination_list(2).type(), "owning_party");
  EXPECT_EQ(common.destination_list(2).id(), "urn:epc:id:pgln:9521104.00000");

  ASSERT_EQ(common.sensor_element_list_size(), 1);
  const v1::SensorElement& sensor = common.sensor_element_list(0);
  const v1::SensorMetadata& metadata = sensor.sensor_metadata();
  EXPECT_EQ(metadata.time().seconds(), 1762123260);  // 2025-11-03T06:41:00+08:00
  EXPECT_EQ(metadata.device_id(), "urn:epc:id:giai:9521101.UHT12-TT01");
  EXPECT_EQ(metadata.device_metadata(), "https://assets.jiangnan-dairy.example/devices/UHT12-TT01");
  EXPECT_EQ(metadata.raw_data(), "https://historian.jiangnan-dairy.example/uht12/20251103T06.csv");
  EXPECT_EQ(metadata.start_time().seconds(), 1762121400);  // 06:10
  EXPECT_EQ(metadata.end_time().seconds(), 1762123200);    // 06:40
  EXPECT_EQ(metadata.data_processing_method(),
            "https://qa.jiangnan-dairy.example/sop/SOP-UHT-007");
  EXPECT_EQ(metadata.biz_rules(), "https://qa.jiangnan-dairy.example/sop/SOP-UHT-limits");
  EXPECT_EQ(Field(metadata.extensions(), "qa:calibrationDue").string_value(), "2026-01-15");

  ASSERT_EQ(sensor.sensor_reports_size(), 2);
  const v1::SensorReport& report = sensor.sensor_reports(0);
  EXPECT_EQ(report.type(), "Temperature");
  EXPECT_TRUE(report.exception().empty());
  EXPECT_EQ(report.device_id(), "urn:epc:id:giai:9521101.UHT12-TT02");
  EXPECT_EQ(report.device_metadata(), "https://assets.jiangnan-dairy.example/devices/UHT12-TT02");
  EXPECT_EQ(report.raw_data(),
            "https://historian.jiangnan-dairy.example/uht12/TT02-20251103T06.csv");
  EXPECT_EQ(report.data_processing_method(), "https://qa.jiangnan-dairy.example/sop/SOP-UHT-008");
  EXPECT_EQ(report.biz_rules(), "https://qa.jiangnan-dairy.example/sop/SOP-UHT-hold");
  EXPECT_EQ(report.time().seconds(), 1762123200);
  EXPECT_EQ(report.microorganism(), "https://www.ncbi.nlm.nih.gov/taxonomy/1396");
  EXPECT_EQ(report.chemical_substance(), "https://identifiers.org/CHEBI:17716");
  EXPECT_EQ(report.value(), 137.2);
  EXPECT_EQ(report.string_value(), "UHT-PASS");
  EXPECT_TRUE(report.has_boolean_value());
  EXPECT_TRUE(report.boolean_value());
  EXPECT_EQ(report.hex_binary_value(), "4A4E4431");
  EXPECT_EQ(report.uri_value(), "https://qa.jiangnan-dairy.example/batch/L251103A");
  EXPECT_EQ(report.min_value(), 136.8);
  EXPECT_EQ(report.max_value(), 137.9);
  EXPECT_EQ(report.mean_value(), 137.25);
  EXPECT_EQ(report.s_dev(), 0.21);
  EXPECT_EQ(report.perc_rank(), 95);
  EXPECT_EQ(report.perc_value(), 137.6);
  EXPECT_EQ(report.uom(), "CEL");
  EXPECT_EQ(Field(report.extensions(), "qa:limitCel").number_value(), 135);
  const v1::SensorReport& alarm = sensor.sensor_reports(1);
  EXPECT_EQ(alarm.exception(), "ALARM_CONDITION");
  EXPECT_EQ(alarm.time().seconds(), 1762122461);  // 06:27:41
  EXPECT_EQ(alarm.value(), 134.6);
  EXPECT_EQ(alarm.string_value(), "below 135 °C: flow diverted for 6 s");
  EXPECT_FALSE(alarm.has_min_value());
  EXPECT_EQ(Field(sensor.extensions(), "jnd:lineId").string_value(), "UHT-12");
  EXPECT_EQ(Field(sensor.extensions(), "jnd:samplesTaken").number_value(), 3);

  // Known CBV master data get their own fields; other ILMD keys stay, as given, in extensions.
  const v1::Ilmd& ilmd = object.ilmd();
  EXPECT_EQ(ilmd.lot_number(), "L251103A");
  EXPECT_EQ(ilmd.production_date(), "2025-11-03");
  EXPECT_EQ(ilmd.item_expiration_date(), "2026-05-02");
  EXPECT_EQ(ilmd.best_before_date(), "2026-05-02");
  EXPECT_EQ(ilmd.sell_by_date(), "2026-04-02");
  EXPECT_EQ(ilmd.extensions().fields().size(), 3u);
  EXPECT_EQ(Field(ilmd.extensions(), "cbvmda:countryOfOrigin").string_value(), "CN");
  const pb::Struct& heat = Field(ilmd.extensions(), "jnd:heatTreatment").struct_value();
  EXPECT_EQ(Field(heat, "jnd:method").string_value(), "UHT");
  EXPECT_EQ(Field(heat, "jnd:temperatureCel").number_value(), 137);
  const pb::ListValue& lots = Field(ilmd.extensions(), "jnd:rawMilkLots").list_value();
  ASSERT_EQ(lots.values_size(), 2);
  EXPECT_EQ(lots.values(1).string_value(), "RM251102-08");

  // Event-level user extensions: strings (UTF-8 kept), nested objects and arrays, numbers
  // (as doubles), booleans and null; @context is not an extension.
  const pb::Struct& extensions = common.extensions();
  EXPECT_EQ(extensions.fields().size(), 5u);
  EXPECT_EQ(extensions.fields().count("@context"), 0u);
  EXPECT_EQ(Field(extensions, "jnd:shift").string_value(), "B");
  EXPECT_EQ(Field(Field(extensions, "jnd:operator").struct_value(), "jnd:name").string_value(),
            "王磊");
  const pb::ListValue& checks = Field(extensions, "jnd:lineChecks").list_value();
  ASSERT_EQ(checks.values_size(), 3);
  EXPECT_EQ(checks.values(0).string_value(), "seal");
  const pb::Struct& detector =
      Field(checks.values(2).struct_value(), "qa:metalDetector").struct_value();
  EXPECT_EQ(Field(detector, "qa:result").string_value(), "pass");
  EXPECT_EQ(Field(detector, "qa:sensitivityMm").number_value(), 1.5);
  EXPECT_EQ(Field(extensions, "jnd:reworked").kind_case(), pb::Value::kBoolValue);
  EXPECT_FALSE(Field(extensions, "jnd:reworked").bool_value());
  EXPECT_EQ(Field(extensions, "jnd:remark").kind_case(), pb::Value::kNullValue);
}

TEST(EpcisJsonTest, MapsEveryFieldOfTheFullAggregationEvent) {
  const v1::Event event = DecodeFixture("aggregation_event_all_fields.jsonld", 0);
  ASSERT_TRUE(event.has_aggregation_event());
  const v1::AggregationEvent& aggregation = event.aggregation_event();
  const v1::EpcisCommon& common = aggregation.common();
  EXPECT_EQ(event.event_id(), "urn:uuid:9e3c7d21-4b0a-4c5f-8e6d-2a1f0b3c4d57#error-declaration");
  EXPECT_EQ(common.event_time().seconds(), 1762128344);  // 2025-11-03T08:05:44+08:00
  // A single certificationInfo string becomes a one-entry list.
  ASSERT_EQ(common.certification_info_size(), 1);
  EXPECT_EQ(common.certification_info(0), "https://certs.cqc.example/haccp/HC-JND-0092");
  EXPECT_EQ(common.error_declaration().reason(), "did_not_occur");
  EXPECT_EQ(common.error_declaration().declaration_time().seconds(), 1762129870);
  EXPECT_EQ(common.error_declaration().corrective_event_ids_size(), 0);
  EXPECT_EQ(Field(common.error_declaration().extensions(), "jnd:scannerFault").string_value(),
            "palletiser PL-3 scanned the same pallet label twice");

  EXPECT_EQ(aggregation.action(), v1::ACTION_ADD);
  EXPECT_EQ(aggregation.parent_id(), "urn:epc:id:sscc:9521101.3000004521");
  ASSERT_EQ(aggregation.child_epcs_size(), 2);
  EXPECT_EQ(aggregation.child_epcs(1), "urn:epc:id:sgtin:9521101.100012.C25110300732");
  ASSERT_EQ(aggregation.child_quantity_list_size(), 2);
  EXPECT_EQ(aggregation.child_quantity_list(0).epc_class(),
            "urn:epc:class:lgtin:9521101.100012.L251103A");
  EXPECT_EQ(aggregation.child_quantity_list(0).quantity(), 46);
  EXPECT_EQ(aggregation.child_quantity_list(1).quantity(), 12.5);
  EXPECT_EQ(aggregation.child_quantity_list(1).uom(), "KGM");
  EXPECT_EQ(common.biz_step(), "packing");
  EXPECT_EQ(common.disposition(), "container_closed");
  EXPECT_EQ(common.read_point().id(), "urn:epc:id:sgln:9521101.00002.3");
  EXPECT_EQ(common.biz_location().id(), "urn:epc:id:sgln:9521101.00002.0");
  ASSERT_EQ(common.biz_transaction_list_size(), 2);
  EXPECT_EQ(common.biz_transaction_list(0).type(), "po");
  EXPECT_EQ(common.biz_transaction_list(0).biz_transaction(),
            "urn:epc:id:gdti:9521104.00001.PO2025-88213");
  EXPECT_EQ(common.biz_transaction_list(1).type(), "desadv");
  ASSERT_EQ(common.source_list_size(), 3);
  ASSERT_EQ(common.destination_list_size(), 3);
  EXPECT_EQ(common.destination_list(1).type(), "possessing_party");
  EXPECT_EQ(common.destination_list(1).id(), "urn:epc:id:pgln:9521104.00000");
  ASSERT_EQ(common.sensor_element_list_size(), 1);
  const v1::SensorElement& sensor = common.sensor_element_list(0);
  EXPECT_EQ(sensor.sensor_metadata().device_id(), "urn:epc:id:giai:9521101.PL3-SCALE");
  ASSERT_EQ(sensor.sensor_reports_size(), 2);
  EXPECT_EQ(sensor.sensor_reports(0).type(), "Mass");
  EXPECT_EQ(sensor.sensor_reports(0).value(), 412.6);
  EXPECT_EQ(sensor.sensor_reports(1).type(), "Length");
  EXPECT_EQ(sensor.sensor_reports(1).uom(), "MTR");
  EXPECT_EQ(Field(sensor.extensions(), "jnd:stretchWrapLayers").number_value(), 6);
  EXPECT_EQ(Field(common.extensions(), "jnd:palletPattern").string_value(), "TI8-HI6");
  EXPECT_EQ(Field(Field(common.extensions(), "jnd:labels").struct_value(), "jnd:copies")
                .number_value(),
            2);
}

TEST(EpcisJsonTest, MapsEveryFieldOfTheFullTransactionEvent) {
  const v1::Event event = DecodeFixture("transaction_event_all_fields.jsonld", 0);
  ASSERT_TRUE(event.has_transaction_event());
  const v1::TransactionEvent& transaction = event.transaction_event();
  const v1::EpcisCommon& common = transaction.common();
  const std::string event_id =
      "ni:///sha-256;f6f3bcce26a5585a44f369567b4ba66c8a19678788ab8b410c43033e4ac3a77e?ver=CBV2.0";
  EXPECT_EQ(event.event_id(), event_id + "#error-declaration");
  EXPECT_EQ(common.error_declaration().erroneous_event_id(), event_id);
  ASSERT_EQ(common.error_declaration().corrective_event_ids_size(), 2);
  EXPECT_EQ(common.error_declaration().corrective_event_ids(1),
            "ni:///sha-256;e130ab7dcf2f2935846ef444478750d0313271f75e373631e9204d93a3ef73d3"
            "?ver=CBV2.0");
  EXPECT_EQ(common.event_time().seconds(), 1762132350);  // 2025-11-03T09:12:30+08:00

  ASSERT_EQ(common.biz_transaction_list_size(), 3);
  EXPECT_EQ(common.biz_transaction_list(1).type(), "inv");
  EXPECT_EQ(common.biz_transaction_list(1).biz_transaction(),
            "urn:epc:id:gdti:9521101.00008.INV2511030042");
  // A transaction type outside the CBV is a URI, kept as given.
  EXPECT_EQ(common.biz_transaction_list(2).type(),
            "https://ns.lotus-fresh.example/voc/btt-fapiao");
  EXPECT_EQ(common.biz_transaction_list(2).biz_transaction(),
            "https://einvoice.lotus-fresh.example/fapiao/25312000000012345678");
  EXPECT_EQ(transaction.action(), v1::ACTION_ADD);
  EXPECT_EQ(transaction.parent_id(), "urn:epc:id:sscc:9521101.3000004521");
  ASSERT_EQ(transaction.epc_list_size(), 2);
  EXPECT_EQ(transaction.epc_list(0), "urn:epc:id:sgtin:9521101.100012.C25110300731");
  ASSERT_EQ(transaction.quantity_list_size(), 1);
  EXPECT_EQ(transaction.quantity_list(0).epc_class(),
            "urn:epc:class:lgtin:9521101.100029.Y251102B");
  EXPECT_EQ(transaction.quantity_list(0).quantity(), 96);
  EXPECT_EQ(common.biz_step(), "shipping");
  EXPECT_EQ(common.disposition(), "in_transit");
  EXPECT_EQ(common.read_point().id(), "urn:epc:id:sgln:9521101.00002.7");
  ASSERT_EQ(common.source_list_size(), 3);
  ASSERT_EQ(common.destination_list_size(), 3);
  EXPECT_EQ(common.destination_list(1).id(), "urn:epc:id:pgln:9521102.00000");
  ASSERT_EQ(common.sensor_element_list_size(), 1);
  ASSERT_EQ(common.sensor_element_list(0).sensor_reports_size(), 2);
  EXPECT_EQ(common.sensor_element_list(0).sensor_reports(1).type(), "RelativeHumidity");
  EXPECT_EQ(common.sensor_element_list(0).sensor_reports(1).value(), 78);
  EXPECT_EQ(common.sensor_element_list(0).sensor_reports(1).uom(), "P1");
  EXPECT_EQ(Field(common.extensions(), "ccl:vehiclePlate").string_value(), "苏E 7K3M9");
  EXPECT_EQ(Field(Field(common.extensions(), "lfs:deliveryWindow").struct_value(), "lfs:to")
                .string_value(),
            "2025-11-04T07:00:00+08:00");
}

TEST(EpcisJsonTest, MapsEveryFieldOfTheFullTransformationEvent) {
  const v1::Event event = DecodeFixture("transformation_event_all_fields.jsonld", 0);
  ASSERT_TRUE(event.has_transformation_event());
  const v1::TransformationEvent& t = event.transformation_event();
  const v1::EpcisCommon& common = t.common();
  EXPECT_EQ(event.event_id(), "urn:uuid:1d7f4e93-6a2b-4c8d-b5e0-8f3a9c2d1e64#error-declaration");
  EXPECT_EQ(common.event_time().seconds(), 1762093800);  // 2025-11-02T22:30:00+08:00
  ASSERT_EQ(common.error_declaration().corrective_event_ids_size(), 1);
  EXPECT_EQ(common.error_declaration().corrective_event_ids(0),
            "urn:uuid:e4b2a9c7-0d1f-4e3a-9b6c-5f8d7a0e2c13");

  ASSERT_EQ(t.input_epc_list_size(), 2);
  EXPECT_EQ(t.input_epc_list(0), "urn:epc:id:sgtin:9521108.000015.ST0925-0113");
  ASSERT_EQ(t.input_quantity_list_size(), 3);
  EXPECT_EQ(t.input_quantity_list(0).epc_class(), "urn:epc:class:lgtin:9521105.000003.RM251102-07");
  EXPECT_EQ(t.input_quantity_list(0).quantity(), 8200);
  EXPECT_EQ(t.input_quantity_list(0).uom(), "KGM");
  EXPECT_EQ(t.input_quantity_list(2).epc_class(), "urn:epc:idpat:sgtin:9521109.000023.*");
  EXPECT_EQ(t.input_quantity_list(2).quantity(), 12);
  ASSERT_EQ(t.output_epc_list_size(), 3);
  EXPECT_EQ(t.output_epc_list(2), "urn:epc:id:sgtin:9521101.100029.Y0B-000103");
  ASSERT_EQ(t.output_quantity_list_size(), 2);
  EXPECT_EQ(t.output_quantity_list(0).epc_class(), "urn:epc:class:lgtin:9521101.000029.Y251102B");
  EXPECT_EQ(t.output_quantity_list(0).quantity(), 86000);
  EXPECT_EQ(t.output_quantity_list(1).quantity(), 310.5);
  EXPECT_EQ(t.transformation_id(), "urn:epc:id:gdti:9521101.00005.MO20251102Y");
  EXPECT_EQ(common.biz_step(), "commissioning");
  EXPECT_EQ(common.persistent_disposition().set(0), "available");
  EXPECT_EQ(common.persistent_disposition().unset(0), "reserved");
  EXPECT_EQ(common.read_point().id(), "urn:epc:id:sgln:9521101.00001.21");
  ASSERT_EQ(common.biz_transaction_list_size(), 2);
  EXPECT_EQ(common.biz_transaction_list(1).type(), "cert");
  EXPECT_EQ(common.source_list(2).id(), "urn:epc:id:pgln:9521105.00000");

  ASSERT_EQ(common.sensor_element_list_size(), 1);
  const v1::SensorElement& sensor = common.sensor_element_list(0);
  EXPECT_EQ(sensor.sensor_metadata().start_time().seconds(), 1762070400);  // 16:00
  EXPECT_FALSE(sensor.sensor_metadata().has_time());
  ASSERT_EQ(sensor.sensor_reports_size(), 2);
  EXPECT_FALSE(sensor.sensor_reports(0).has_value());
  EXPECT_EQ(sensor.sensor_reports(0).mean_value(), 42.8);
  // A measurement type outside the GS1 vocabulary is a URI.
  EXPECT_EQ(sensor.sensor_reports(1).type(), "https://ns.jiangnan-dairy.example/voc/pH");
  EXPECT_EQ(sensor.sensor_reports(1).value(), 4.52);
  EXPECT_TRUE(sensor.sensor_reports(1).uom().empty());

  EXPECT_EQ(t.ilmd().lot_number(), "Y251102B");
  EXPECT_EQ(t.ilmd().production_date(), "2025-11-02");
  EXPECT_EQ(t.ilmd().item_expiration_date(), "2025-11-23");
  EXPECT_EQ(t.ilmd().sell_by_date(), "2025-11-20");
  EXPECT_TRUE(t.ilmd().best_before_date().empty());
  EXPECT_EQ(Field(t.ilmd().extensions(), "jnd:cultureStrains").list_value().values(1)
                .string_value(),
            "Streptococcus thermophilus");
  EXPECT_EQ(Field(Field(t.ilmd().extensions(), "jnd:fermentation").struct_value(), "jnd:endPh")
                .number_value(),
            4.52);
  EXPECT_EQ(Field(common.extensions(), "jnd:tank").string_value(), "FT-21");
}

TEST(EpcisJsonTest, MapsEveryFieldOfTheFullAssociationEvent) {
  const v1::Event event = DecodeFixture("association_event_all_fields.jsonld", 0);
  ASSERT_TRUE(event.has_association_event());
  const v1::AssociationEvent& association = event.association_event();
  const v1::EpcisCommon& common = association.common();
  EXPECT_EQ(event.event_id(), "urn:uuid:c81a5f02-7e39-4d6b-a2c4-3b9e0f1d8a76#error-declaration");
  EXPECT_EQ(common.event_time().seconds(), 1762127700);  // 2025-11-03T07:55:00+08:00
  EXPECT_EQ(common.error_declaration().declaration_time().seconds(), 1762129200);
  EXPECT_EQ(association.action(), v1::ACTION_ADD);
  EXPECT_EQ(association.parent_id(), "urn:epc:id:grai:9521102.00010.7731");
  ASSERT_EQ(association.child_epcs_size(), 2);
  EXPECT_EQ(association.child_epcs(0), "urn:epc:id:giai:9521102.TL0031");
  EXPECT_EQ(association.child_epcs(1), "urn:epc:id:giai:9521102.GPS0012");
  ASSERT_EQ(association.child_quantity_list_size(), 2);
  EXPECT_EQ(association.child_quantity_list(0).quantity(), 8);
  EXPECT_EQ(association.child_quantity_list(1).epc_class(),
            "urn:epc:class:lgtin:9521102.000047.DI251103");
  EXPECT_EQ(association.child_quantity_list(1).quantity(), 2.4);
  EXPECT_EQ(association.child_quantity_list(1).uom(), "KGM");
  EXPECT_EQ(common.biz_step(), "installing");
  EXPECT_EQ(common.disposition(), "active");
  EXPECT_EQ(common.read_point().id(), "urn:epc:id:sgln:9521102.00001.4");
  EXPECT_EQ(common.biz_location().id(), "urn:epc:id:sgln:9521102.00001.0");
  ASSERT_EQ(common.biz_transaction_list_size(), 2);
  EXPECT_EQ(common.biz_transaction_list(0).type(), "bol");
  // A business transaction without a type.
  EXPECT_TRUE(common.biz_transaction_list(1).type().empty());
  EXPECT_EQ(common.biz_transaction_list(1).biz_transaction(),
            "https://tms.changjiang-coldchain.example/orders/CJ-2025-110377");
  ASSERT_EQ(common.source_list_size(), 3);
  ASSERT_EQ(common.destination_list_size(), 3);
  EXPECT_EQ(common.destination_list(0).id(), "urn:epc:id:sgln:9521101.00002.0");
  ASSERT_EQ(common.sensor_element_list_size(), 1);
  ASSERT_EQ(common.sensor_element_list(0).sensor_reports_size(), 2);
  EXPECT_EQ(common.sensor_element_list(0).sensor_reports(0).type(), "Voltage");
  EXPECT_EQ(common.sensor_element_list(0).sensor_reports(1).value(), -1.5);
  EXPECT_TRUE(Field(common.extensions(), "ccl:precooled").bool_value());
  EXPECT_EQ(Field(common.extensions(), "ccl:precoolMinutes").number_value(), 45);
}

TEST(EpcisJsonTest, MinimalAssociationEventsAddAndDeleteWithoutChildren) {
  const v1::Event add = DecodeFixture("association_event_minimal.jsonld", 0);
  ASSERT_TRUE(add.has_association_event());
  EXPECT_EQ(add.event_id(), "urn:uuid:0b5e9d47-3f12-4a8c-9d60-7c2e1f4b8a39");
  EXPECT_EQ(add.association_event().action(), v1::ACTION_ADD);
  EXPECT_EQ(add.association_event().parent_id(), "urn:epc:id:grai:9521102.00010.7734");
  ASSERT_EQ(add.association_event().child_epcs_size(), 1);
  EXPECT_EQ(add.association_event().child_epcs(0), "urn:epc:id:giai:9521102.TL0044");
  EXPECT_EQ(add.association_event().common().biz_step(), "assembling");
  EXPECT_FALSE(add.association_event().common().has_biz_location());
  EXPECT_FALSE(add.association_event().common().has_error_declaration());

  const v1::Event remove = DecodeFixture("association_event_minimal.jsonld", 1);
  ASSERT_TRUE(remove.has_association_event());
  EXPECT_EQ(remove.association_event().action(), v1::ACTION_DELETE);
  EXPECT_EQ(remove.association_event().parent_id(), "urn:epc:id:grai:9521102.00010.7734");
  EXPECT_EQ(remove.association_event().child_epcs_size(), 0);
  EXPECT_EQ(remove.association_event().common().event_time().seconds(), 1762369500);
  EXPECT_EQ(remove.association_event().common().read_point().id(),
            "urn:epc:id:sgln:9521104.00003.2");
}

TEST(EpcisJsonTest, ErrorDeclarationPointsAtTheErroneousAndTheCorrectiveEvent) {
  constexpr std::string_view kFile = "error_declaration_and_corrective_event.jsonld";
  const v1::Event original = DecodeFixture(kFile, 0);
  const v1::Event declaration = DecodeFixture(kFile, 1);
  const v1::Event corrective = DecodeFixture(kFile, 2);
  ASSERT_TRUE(original.has_object_event());
  ASSERT_TRUE(declaration.has_object_event());
  ASSERT_TRUE(corrective.has_object_event());

  // EPCIS repeats the erroneous eventID in the declaration; the ledger ids stay distinct.
  EXPECT_EQ(original.event_id(), "urn:uuid:3f8b1c6a-5d27-4e90-a1b4-9c0e7d2f6a58");
  EXPECT_FALSE(original.object_event().common().has_error_declaration());
  EXPECT_EQ(declaration.event_id(), original.event_id() + std::string(kErrorDeclarationIdSuffix));
  const v1::ErrorDeclaration& error = declaration.object_event().common().error_declaration();
  EXPECT_EQ(error.erroneous_event_id(), original.event_id());
  EXPECT_EQ(error.reason(), "incorrect_data");
  EXPECT_EQ(error.declaration_time().seconds(), 1761033720);  // 2025-10-21T16:02:00+08:00
  EXPECT_EQ(Field(error.extensions(), "knp:note").string_value(),
            "批号录入错误：实际发货批号 AMX2509021");
  ASSERT_EQ(error.corrective_event_ids_size(), 1);
  EXPECT_EQ(error.corrective_event_ids(0), corrective.event_id());
  EXPECT_EQ(corrective.event_id(), "urn:uuid:b6d40e2f-8a13-4c7e-9f25-0e1c3a7b5d92");

  // The declaration carries the original content; the corrective event fixes the lot.
  EXPECT_EQ(declaration.object_event().common().event_time().seconds(), 1760926500);
  EXPECT_EQ(declaration.object_event().quantity_list(0).epc_class(),
            "urn:epc:class:lgtin:9521103.100105.AMX2509012");
  EXPECT_EQ(corrective.object_event().common().event_time().seconds(), 1760926500);
  EXPECT_EQ(corrective.object_event().common().record_time().seconds(), 1761033750);
  ASSERT_EQ(corrective.object_event().quantity_list_size(), 1);
  EXPECT_EQ(corrective.object_event().quantity_list(0).epc_class(),
            "urn:epc:class:lgtin:9521103.100105.AMX2509021");
  EXPECT_EQ(corrective.object_event().quantity_list(0).quantity(), 48);
  EXPECT_EQ(corrective.object_event().action(), v1::ACTION_OBSERVE);
  EXPECT_EQ(corrective.object_event().epc_list(0), "urn:epc:id:sscc:9521103.1000000783");
  EXPECT_EQ(corrective.object_event().common().source_list(0).id(),
            "urn:epc:id:pgln:9521103.00000");
  EXPECT_EQ(corrective.object_event().common().destination_list(0).id(),
            "urn:epc:id:pgln:9521106.00000");
}

TEST(EpcisJsonTest, KeepsGs1DigitalLinkIdentifiersAsGiven) {
  const v1::Event receiving = DecodeFixture("digital_link_identifiers.jsonld", 0);
  ASSERT_TRUE(receiving.has_aggregation_event());
  const v1::AggregationEvent& aggregation = receiving.aggregation_event();
  EXPECT_EQ(aggregation.action(), v1::ACTION_OBSERVE);
  EXPECT_EQ(aggregation.parent_id(), "https://id.gs1.org/00/095211040000012344");
  ASSERT_EQ(aggregation.child_epcs_size(), 3);
  EXPECT_EQ(aggregation.child_epcs(0), "https://id.gs1.org/01/09521101000436/21/JN7Q2K81");
  EXPECT_EQ(aggregation.child_epcs(1),
            "https://dl.jiangnan-dairy.example/01/09521101000436/21/JN7Q2K82");
  EXPECT_EQ(aggregation.child_epcs(2), "https://id.gs1.org/8003/095211020001077731");
  ASSERT_EQ(aggregation.child_quantity_list_size(), 3);
  EXPECT_EQ(aggregation.child_quantity_list(0).epc_class(),
            "https://id.gs1.org/01/19521101000129/10/L251103A");
  EXPECT_EQ(aggregation.child_quantity_list(0).quantity(), 40);
  EXPECT_EQ(aggregation.child_quantity_list(1).uom(), "KGM");
  EXPECT_EQ(aggregation.child_quantity_list(2).epc_class(),
            "https://id.gs1.org/01/09521101000290");
  EXPECT_EQ(aggregation.common().read_point().id(),
            "https://id.gs1.org/414/9521104000037/254/D3");
  EXPECT_EQ(aggregation.common().biz_location().id(), "https://id.gs1.org/414/9521104000037");
  EXPECT_EQ(Field(aggregation.common().extensions(), "lfs:receivingDock").string_value(), "D3");

  const v1::Event sale = DecodeFixture("digital_link_identifiers.jsonld", 1);
  ASSERT_TRUE(sale.has_object_event());
  ASSERT_EQ(sale.object_event().epc_list_size(), 1);
  EXPECT_EQ(sale.object_event().epc_list(0), aggregation.child_epcs(0));
  EXPECT_EQ(sale.object_event().common().biz_step(), "retail_selling");
  EXPECT_EQ(sale.object_event().common().disposition(), "retail_sold");
  EXPECT_EQ(sale.object_event().common().biz_location().id(),
            "https://id.gs1.org/414/9521104001089");

  // The check digits in the fixture are right: the validator checks every Digital Link key.
  ValidationContext ctx;
  ctx.now_unix_micros = 1924992000LL * 1000000;
  v1::Event broken = receiving;
  broken.set_submitter_id(kSubmitter);
  EXPECT_FALSE(ValidateEvent(broken, ctx).has_value());
  broken.mutable_aggregation_event()->set_child_epcs(
      0, "https://id.gs1.org/01/09521101000437/21/JN7Q2K81");
  const std::optional<Violation> violation = ValidateEvent(broken, ctx);
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->rule, ValidationRule::kBadIdentifier);
  EXPECT_EQ(violation->field, "/aggregationEvent/childEpcs/0");
  EXPECT_EQ(violation->message, "GTIN 09521101000437: check digit 7, want 6");
}

TEST(EpcisJsonTest, MapsEverySensorElementAndReport) {
  const v1::Event event = DecodeFixture("sensor_data_cold_chain.jsonld", 0);
  ASSERT_TRUE(event.has_object_event());
  const v1::EpcisCommon& common = event.object_event().common();
  EXPECT_EQ(event.object_event().action(), v1::ACTION_OBSERVE);
  EXPECT_EQ(common.biz_step(), "sensor_reporting");
  EXPECT_EQ(common.read_point().id(), "urn:epc:id:giai:9521102.TRK-SUE7K3M9");
  ASSERT_EQ(common.sensor_element_list_size(), 4);

  const v1::SensorElement& first = common.sensor_element_list(0);
  EXPECT_EQ(first.sensor_metadata().device_id(), "urn:epc:id:giai:9521102.TL0031");
  EXPECT_EQ(first.sensor_metadata().raw_data(),
            "https://telemetry.changjiang-coldchain.example/TL0031/20251103.json");
  ASSERT_EQ(first.sensor_reports_size(), 4);
  EXPECT_EQ(first.sensor_reports(0).value(), 3.9);
  EXPECT_EQ(first.sensor_reports(1).type(), "RelativeHumidity");
  EXPECT_EQ(first.sensor_reports(1).value(), 81.5);
  EXPECT_EQ(first.sensor_reports(1).uom(), "P1");
  const v1::SensorReport& latitude = first.sensor_reports(2);
  EXPECT_EQ(latitude.type(), "Angle");
  EXPECT_EQ(latitude.component(), "latitude");
  EXPECT_EQ(latitude.value(), 31.3847);
  EXPECT_EQ(latitude.uom(), "DD");
  EXPECT_EQ(latitude.coordinate_reference_system(), "http://www.opengis.net/def/crs/EPSG/0/4490");
  EXPECT_EQ(first.sensor_reports(3).component(), "longitude");
  EXPECT_EQ(first.sensor_reports(3).value(), 120.9812);

  const v1::SensorElement& excursion = common.sensor_element_list(2);
  EXPECT_EQ(excursion.sensor_metadata().time().seconds(), 1762192800);  // 2025-11-04T02:00+08:00
  ASSERT_EQ(excursion.sensor_reports_size(), 3);
  EXPECT_EQ(excursion.sensor_reports(0).exception(), "ALARM_CONDITION");
  EXPECT_EQ(excursion.sensor_reports(0).value(), 8.7);
  EXPECT_TRUE(excursion.sensor_reports(0).boolean_value());
  EXPECT_EQ(excursion.sensor_reports(1).type(), "Illuminance");
  EXPECT_EQ(excursion.sensor_reports(1).value(), 310);
  EXPECT_EQ(excursion.sensor_reports(2).exception(), "ERROR_CONDITION");
  EXPECT_FALSE(excursion.sensor_reports(2).has_value());
  EXPECT_EQ(excursion.sensor_reports(2).uri_value(),
            "https://support.changjiang-coldchain.example/errors/RH-E04");
  EXPECT_EQ(Field(Field(excursion.extensions(), "ccl:doorEvent").struct_value(), "ccl:closed")
                .string_value(),
            "2025-11-04T02:03:15+08:00");

  const v1::SensorElement& summary = common.sensor_element_list(3);
  EXPECT_FALSE(summary.sensor_metadata().has_time());
  EXPECT_EQ(summary.sensor_metadata().start_time().seconds(), 1762169400);  // 19:30
  EXPECT_EQ(summary.sensor_metadata().end_time().seconds(), 1762200600);    // 04:10
  EXPECT_EQ(summary.sensor_metadata().data_processing_method(),
            "https://docs.changjiang-coldchain.example/methods/trip-summary-v2");
  ASSERT_EQ(summary.sensor_reports_size(), 1);
  const v1::SensorReport& stats = summary.sensor_reports(0);
  EXPECT_FALSE(stats.has_value());
  EXPECT_EQ(stats.min_value(), 3.6);
  EXPECT_EQ(stats.max_value(), 8.7);
  EXPECT_EQ(stats.mean_value(), 4.6);
  EXPECT_EQ(stats.s_dev(), 1.1);
  EXPECT_EQ(stats.perc_rank(), 95);
  EXPECT_EQ(stats.perc_value(), 7.9);
  EXPECT_EQ(Field(common.extensions(), "ccl:tripId").string_value(), "CJ-2025-110377");
}

TEST(EpcisJsonTest, RejectsMalformedEvents) {
  struct Case {
    const char* json;
    const char* message;
  };
  const Case cases[] = {
      {R"({"type":"ObjectEvent","eventTime":"2020-01-01T00:00:00Z","colour":"red"})",
       "EPCIS ObjectEvent: colour: unknown EPCIS field (extension fields need a namespace prefix "
       "such as \"ext1:\")"},
      {R"({"type":"ObjectEvent","quantityList":[{"epcClass":"urn:x:y","quantity":"5"}]})",
       "EPCIS ObjectEvent: quantityList/0/quantity: want a number"},
      {R"({"type":"ObjectEvent","action":"CREATE"})",
       "EPCIS ObjectEvent: action: want \"ADD\", \"OBSERVE\" or \"DELETE\""},
      {R"({"type":"ObjectEvent","eventTime":"yesterday"})",
       "EPCIS ObjectEvent: eventTime: \"yesterday\" is not an RFC 3339 date-time with offset"},
      {R"({"type":"AggregationEvent","childEPCs":"urn:epc:id:sgtin:0614141.107346.1"})",
       "EPCIS AggregationEvent: childEPCs: want an array of strings"},
      {R"({"type":"ObjectEvent","readPoint":{"id":"urn:x:1","name":"dock"}})",
       "EPCIS ObjectEvent: readPoint/name: unknown EPCIS field (extension fields need a namespace "
       "prefix such as \"ext1:\")"},
      {R"({"eventTime":"2020-01-01T00:00:00Z"})", "EPCIS: event has no \"type\" string"},
      {R"({"type":"https://example.com/MyEvent"})",
       "EPCIS: event type \"https://example.com/MyEvent\": want ObjectEvent, AggregationEvent, "
       "TransactionEvent, TransformationEvent or AssociationEvent"},
      {R"({"type":"ObjectEvent","type":"AggregationEvent"})",
       "EPCIS JSON: duplicate key \"type\""},
      {R"([{"type":"ObjectEvent"}])", "EPCIS JSON: want an object at the root, got an array"},
  };
  for (const Case& c : cases) {
    Result<v1::Event> event = DecodeEpcisJsonEvent(c.json);
    ASSERT_FALSE(event.ok()) << c.json;
    EXPECT_EQ(event.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(event.status().message(), c.message) << c.json;
  }
}

// The official GS1 EPCIS 2.0 examples are not in this repository (testdata/epcis/ holds our own
// fixtures). Set TL_EPCIS_CONFORMANCE_DIR to a directory of them (a gs1/EPCIS checkout's JSON/,
// or /work/shared/conformance/epcis on dev machines and CI) to decode every example there.
TEST(EpcisJsonTest, DecodesEveryConformanceExampleWhenAvailable) {
  const char* dir = std::getenv("TL_EPCIS_CONFORMANCE_DIR");
  if (dir == nullptr) GTEST_SKIP() << "TL_EPCIS_CONFORMANCE_DIR not set";
  int decoded = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".jsonld") continue;
    for (const std::string& text : EventsOf(entry.path().string())) {
      Result<v1::Event> event = DecodeEpcisJsonEvent(text);
      EXPECT_TRUE(event.ok()) << entry.path() << ": " << event.status().ToString();
      ++decoded;
    }
  }
  EXPECT_GT(decoded, 0);
}

}  // namespace
}  // namespace traceledger::ingest
