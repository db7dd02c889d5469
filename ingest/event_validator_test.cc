#include "ingest/event_validator.h"

#include <cmath>
#include <limits>
#include <string>
#include <variant>

#include <gtest/gtest.h>

#include "ingest/event_decoder.h"

namespace traceledger::ingest {
namespace {

namespace v1 = traceledger::v1;

// 2026-11-26T00:00:00Z.
constexpr int64_t kNowUnixMicros = 1795651200LL * 1000000;

ValidationContext Ctx() {
  ValidationContext ctx;
  ctx.now_unix_micros = kNowUnixMicros;
  return ctx;
}

v1::Event Parse(std::string_view json) {
  Result<v1::Event> event = DecodeEvent(json, v1::EVENT_ENCODING_JSON);
  EXPECT_TRUE(event.ok()) << event.status().ToString() << "\n" << json;
  return event.ok() ? *event : v1::Event();
}

// One valid event of each body type (identifiers in GS1's demonstration prefix 952).
constexpr std::string_view kEnvelope = R"("eventId":"urn:uuid:0b3f4a38-6c1e-4c1b-9a57-7b9e1f1f0001",
    "submitterId":"91310115MA1H000024",)";

v1::Event ValidObjectEvent() {
  return Parse(std::string("{") + std::string(kEnvelope) + R"(
    "objectEvent":{"common":{"eventTime":"2026-11-25T08:00:00Z","eventTimeZoneOffset":"+08:00",
      "bizStep":"commissioning","disposition":"active",
      "readPoint":{"id":"urn:epc:id:sgln:9521002.00001.0"}},
    "action":"ACTION_ADD",
    "epcList":["urn:epc:id:sgtin:9521234.054321.1001",
               "https://id.gs1.org/01/09521234543213/21/1002",
               "cn-drug:81001260000010010001"],
    "quantityList":[{"epcClass":"urn:epc:class:lgtin:9521002.010001.L261110","quantity":2400}],
    "ilmd":{"lotNumber":"L261110","itemExpirationDate":"2028-11-09"}}})");
}

v1::Event ValidAggregationEvent() {
  return Parse(std::string("{") + std::string(kEnvelope) + R"(
    "aggregationEvent":{"common":{"eventTime":"2026-11-25T08:00:00Z"},"action":"ACTION_ADD",
      "parentId":"urn:epc:id:sscc:9521002.0000000101",
      "childEpcs":["urn:epc:id:sgtin:9521234.054321.1001"],
      "childQuantityList":[{"epcClass":"urn:epc:class:lgtin:9521002.010001.L261110",
                            "quantity":12.5,"uom":"KGM"}]}})");
}

v1::Event ValidTransactionEvent() {
  return Parse(std::string("{") + std::string(kEnvelope) + R"(
    "transactionEvent":{"common":{"eventTime":"2026-11-25T08:00:00Z",
      "bizTransactionList":[{"type":"po","bizTransaction":"urn:epc:id:gdti:9521003.00001.77001"}]},
      "action":"ACTION_ADD","parentId":"urn:epc:id:sscc:9521002.0000000101"}})");
}

v1::Event ValidTransformationEvent() {
  return Parse(std::string("{") + std::string(kEnvelope) + R"(
    "transformationEvent":{"common":{"eventTime":"2026-11-25T08:00:00Z"},
      "inputQuantityList":[{"epcClass":"urn:epc:class:lgtin:9521001.000010.WMP261102",
                            "quantity":1860,"uom":"KGM"}],
      "outputQuantityList":[{"epcClass":"urn:epc:class:lgtin:9521002.010001.L261110",
                             "quantity":2400}]}})");
}

v1::Event ValidAssociationEvent() {
  return Parse(std::string("{") + std::string(kEnvelope) + R"(
    "associationEvent":{"common":{"eventTime":"2026-11-25T08:00:00Z"},"action":"ACTION_ADD",
      "parentId":"urn:epc:id:grai:9521007.00003.88",
      "childEpcs":["urn:epc:id:giai:9521007.TL0042"]}})");
}

v1::Event ValidInspection() {
  return Parse(std::string("{") + std::string(kEnvelope) + R"(
    "inspection":{"enterpriseId":"91310115MA1H000024","inspectorIds":["ZF31010400123"],
      "kind":"KIND_ROUTINE","inspectedAt":"2026-11-25T02:00:00Z","outcome":"OUTCOME_DEFECTS_FOUND",
      "findings":[{"code":"SC-4.2","description":"records incomplete",
                   "severity":"SEVERITY_MINOR"}]}})");
}

v1::Event ValidSamplingResult() {
  return Parse(std::string("{") + std::string(kEnvelope) + R"(
    "samplingResult":{"sampleId":"CJ-2026-0931","enterpriseId":"91310104MA1F000047",
      "objectIds":["urn:epc:class:lgtin:9521002.010001.L261110"],
      "sampledAt":"2026-11-16T03:00:00Z","reportedAt":"2026-11-20T08:00:00Z",
      "labId":"12310000MB2B000113","verdict":"VERDICT_UNQUALIFIED",
      "failedItems":[{"item":"protein","measured":"15.2","limit":">= 16.5","uom":"g/100g"}]}})");
}

v1::Event ValidEnforcementAction() {
  return Parse(std::string("{") + std::string(kEnvelope) + R"(
    "enforcementAction":{"caseId":"HSJ-2026-118","enterpriseId":"91310115MA1H000024",
      "kind":"KIND_FINE","fineAmountFen":"5000000","decidedAt":"2026-11-22T06:00:00Z"}})");
}

v1::Event ValidRecall() {
  return Parse(std::string("{") + std::string(kEnvelope) + R"(
    "recall":{"recallId":"RC-2026-0007","phase":"PHASE_OPENED","level":"LEVEL_III",
      "rootIds":["urn:epc:class:lgtin:9521002.010001.L261110"],
      "issuedBy":"regulator:SAMR-310104","issuedAt":"2026-11-21T01:00:00Z"}})");
}

v1::Event ValidRecallRemoval() {
  return Parse(std::string("{") + std::string(kEnvelope) + R"(
    "recallRemoval":{"recallId":"RC-2026-0007","holderId":"9521005000006",
      "objectId":"urn:epc:class:lgtin:9521002.010001.L261110","quantity":590,
      "removedAt":"2026-11-24T05:30:00Z","disposition":"DISPOSITION_QUARANTINED"}})");
}

v1::Event ValidCylinderRegistration() {
  return Parse(std::string("{") + std::string(kEnvelope) + R"(
    "cylinderRegistration":{"cylinderId":"urn:epc:id:grai:9521009.00001.1001",
      "ownerStationId":"91310112MA1E00009N","medium":"LPG","capacityLiters":35.5,
      "lastInspectedOn":"2022-03-15","nextInspectionDue":"2026-03-15",
      "registeredAt":"2026-11-01T01:00:00Z"}})");
}

v1::Event ValidCylinderInspection() {
  return Parse(std::string("{") + std::string(kEnvelope) + R"(
    "cylinderInspection":{"cylinderId":"SH-LPG-2019-004512","agencyId":"12310000MB2A00010D",
      "inspectedAt":"2026-11-03T06:00:00Z","result":"RESULT_PASS",
      "nextInspectionDue":"2027-06-19"}})");
}

v1::Event ValidCylinderFill() {
  return Parse(std::string("{") + std::string(kEnvelope) + R"(
    "cylinderFill":{"cylinderId":"SH-LPG-2019-004512","stationId":"91310112MA1E00009N",
      "filledAt":"2026-11-20T23:50:00Z","medium":"LPG","netMassKg":14.4}})");
}

// Returns true if every name in the JSON pointer is the JSON name of a field along the path
// from traceledger.v1.Event (numbers index repeated fields), so pointers cannot drift from
// the proto.
bool PointerNamesRealFields(std::string_view pointer) {
  const google::protobuf::Descriptor* message = v1::Event::descriptor();
  size_t start = 1;
  while (start <= pointer.size() && !pointer.empty()) {
    size_t end = pointer.find('/', start);
    if (end == std::string_view::npos) end = pointer.size();
    const std::string_view segment = pointer.substr(start, end - start);
    start = end + 1;
    if (!segment.empty() && segment.find_first_not_of("0123456789") == std::string_view::npos) {
      continue;
    }
    if (message == nullptr) return false;
    const google::protobuf::FieldDescriptor* found = nullptr;
    for (int i = 0; i < message->field_count(); ++i) {
      if (message->field(i)->json_name() == segment) found = message->field(i);
    }
    if (found == nullptr) return false;
    message = found->message_type();
  }
  return true;
}

// Asserts that `event` breaks `rule` at `field` (and, if given, that the message is exact).
void ExpectViolation(const v1::Event& event, ValidationRule rule, std::string_view field,
                     std::string_view message = {}, const ValidationContext& ctx = Ctx()) {
  const std::optional<Violation> violation = ValidateEvent(event, ctx);
  ASSERT_TRUE(violation.has_value()) << "valid, want " << ValidationRuleName(rule) << " at "
                                     << field;
  EXPECT_EQ(ValidationRuleName(violation->rule), ValidationRuleName(rule))
      << violation->field << ": " << violation->message;
  EXPECT_EQ(violation->field, field) << violation->message;
  EXPECT_TRUE(PointerNamesRealFields(field)) << field;
  if (!message.empty()) {
    EXPECT_EQ(violation->message, message);
  }
}

void ExpectValid(const v1::Event& event, const ValidationContext& ctx = Ctx()) {
  const std::optional<Violation> violation = ValidateEvent(event, ctx);
  EXPECT_FALSE(violation.has_value())
      << ValidationRuleName(violation->rule) << " at " << violation->field << ": "
      << violation->message;
}

TEST(ValidateEventTest, EveryBodyTypeHasAValidExample) {
  ExpectValid(ValidObjectEvent());
  ExpectValid(ValidAggregationEvent());
  ExpectValid(ValidTransactionEvent());
  ExpectValid(ValidTransformationEvent());
  ExpectValid(ValidAssociationEvent());
  ExpectValid(ValidInspection());
  ExpectValid(ValidSamplingResult());
  ExpectValid(ValidEnforcementAction());
  ExpectValid(ValidRecall());
  ExpectValid(ValidRecallRemoval());
  ExpectValid(ValidCylinderRegistration());
  ExpectValid(ValidCylinderInspection());
  ExpectValid(ValidCylinderFill());
}

TEST(PointerNamesRealFieldsTest, ChecksNames) {
  EXPECT_TRUE(PointerNamesRealFields(""));
  EXPECT_TRUE(PointerNamesRealFields("/objectEvent/common/sensorElementList/0/sensorReports/1"));
  EXPECT_FALSE(PointerNamesRealFields("/objectEvent/epcs"));
  EXPECT_FALSE(PointerNamesRealFields("/objectEvent/action/x"));
}

TEST(ValidationRuleNameTest, NamesAreStable) {
  EXPECT_EQ(ValidationRuleName(ValidationRule::kUnparsable), "unparsable");
  EXPECT_EQ(ValidationRuleName(ValidationRule::kMissingField), "missing_field");
  EXPECT_EQ(ValidationRuleName(ValidationRule::kBadIdentifier), "bad_identifier");
  EXPECT_EQ(ValidationRuleName(ValidationRule::kBadQuantity), "bad_quantity");
  EXPECT_EQ(ValidationRuleName(ValidationRule::kEventTimeInFuture), "event_time_in_future");
  EXPECT_EQ(ValidationRuleName(ValidationRule::kUnknownSubmitter), "unknown_submitter");
  EXPECT_EQ(ValidationRuleName(ValidationRule::kBadValue), "bad_value");
  EXPECT_EQ(ValidationRuleName(ValidationRule::kTooLarge), "too_large");
  EXPECT_EQ(ValidationRuleName(ValidationRule::kSubmitterMismatch), "submitter_mismatch");
}

// ----- unparsable ----------------------------------------------------------------------------

TEST(ValidateEventTest, UnparsableBytes) {
  auto bad = DecodeAndValidate(R"({"eventId":)", v1::EVENT_ENCODING_JSON, Ctx());
  ASSERT_TRUE(std::holds_alternative<Violation>(bad));
  EXPECT_EQ(std::get<Violation>(bad).rule, ValidationRule::kUnparsable);
  EXPECT_EQ(std::get<Violation>(bad).field, "");

  auto unknown = DecodeAndValidate(R"({"eventId":"x","colour":"red"})", v1::EVENT_ENCODING_JSON,
                                   Ctx());
  ASSERT_TRUE(std::holds_alternative<Violation>(unknown));
  EXPECT_EQ(std::get<Violation>(unknown).rule, ValidationRule::kUnparsable);
  EXPECT_NE(std::get<Violation>(unknown).message.find("colour"), std::string::npos);

  std::string json;
  ASSERT_TRUE(ValidObjectEvent().SerializeToString(&json));
  auto good = DecodeAndValidate(json, v1::EVENT_ENCODING_PROTOBUF, Ctx());
  EXPECT_TRUE(std::holds_alternative<v1::Event>(good));
}

// ----- missing_field -------------------------------------------------------------------------

TEST(ValidateEventTest, MissingEnvelopeFields) {
  v1::Event event = ValidObjectEvent();
  event.clear_event_id();
  ExpectViolation(event, ValidationRule::kMissingField, "/eventId", "eventId is required");

  event = ValidObjectEvent();
  event.clear_submitter_id();
  ExpectViolation(event, ValidationRule::kMissingField, "/submitterId");

  event = ValidObjectEvent();
  event.clear_object_event();
  ExpectViolation(event, ValidationRule::kMissingField, "");
}

TEST(ValidateEventTest, MissingEpcisFields) {
  v1::Event event = ValidObjectEvent();
  event.mutable_object_event()->mutable_common()->clear_event_time();
  ExpectViolation(event, ValidationRule::kMissingField, "/objectEvent/common/eventTime");

  event = ValidObjectEvent();
  event.mutable_object_event()->clear_common();
  ExpectViolation(event, ValidationRule::kMissingField, "/objectEvent/common/eventTime");

  event = ValidObjectEvent();
  event.mutable_object_event()->clear_action();
  ExpectViolation(event, ValidationRule::kMissingField, "/objectEvent/action");

  event = ValidObjectEvent();
  event.mutable_object_event()->clear_epc_list();
  event.mutable_object_event()->clear_quantity_list();
  ExpectViolation(event, ValidationRule::kMissingField, "/objectEvent/epcList");

  event = ValidObjectEvent();
  event.mutable_object_event()->clear_epc_list();  // quantities alone are enough
  ExpectValid(event);

  event = ValidObjectEvent();
  event.mutable_object_event()->mutable_common()->mutable_read_point()->clear_id();
  ExpectViolation(event, ValidationRule::kMissingField, "/objectEvent/common/readPoint/id");

  event = ValidObjectEvent();
  event.mutable_object_event()->mutable_quantity_list(0)->clear_epc_class();
  ExpectViolation(event, ValidationRule::kMissingField, "/objectEvent/quantityList/0/epcClass");

  event = ValidObjectEvent();
  v1::SourceDestination* source = event.mutable_object_event()->mutable_common()->add_source_list();
  source->set_id("urn:epc:id:pgln:9521002.00000");
  ExpectViolation(event, ValidationRule::kMissingField, "/objectEvent/common/sourceList/0/type");
  source->set_type("owning_party");
  ExpectValid(event);

  event = ValidObjectEvent();
  event.mutable_object_event()->mutable_common()->add_sensor_element_list();
  ExpectViolation(event, ValidationRule::kMissingField,
                  "/objectEvent/common/sensorElementList/0/sensorReports");
}

TEST(ValidateEventTest, MissingErrorDeclarationFields) {
  v1::Event event = ValidObjectEvent();
  v1::ErrorDeclaration* declaration =
      event.mutable_object_event()->mutable_common()->mutable_error_declaration();
  declaration->set_erroneous_event_id("urn:uuid:0b3f4a38-6c1e-4c1b-9a57-7b9e1f1f0000");
  ExpectViolation(event, ValidationRule::kMissingField,
                  "/objectEvent/common/errorDeclaration/declarationTime");
  declaration->mutable_declaration_time()->set_seconds(1795651200 - 3600);
  ExpectValid(event);
  declaration->clear_erroneous_event_id();
  ExpectViolation(event, ValidationRule::kMissingField,
                  "/objectEvent/common/errorDeclaration/erroneousEventId");
  declaration->set_erroneous_event_id(event.event_id());
  ExpectViolation(event, ValidationRule::kBadValue,
                  "/objectEvent/common/errorDeclaration/erroneousEventId");
}

TEST(ValidateEventTest, AggregationParentAndChildren) {
  v1::Event event = ValidAggregationEvent();
  event.mutable_aggregation_event()->clear_parent_id();
  ExpectViolation(event, ValidationRule::kMissingField, "/aggregationEvent/parentId");

  event = ValidAggregationEvent();
  event.mutable_aggregation_event()->set_action(v1::ACTION_DELETE);
  event.mutable_aggregation_event()->clear_parent_id();
  ExpectViolation(event, ValidationRule::kMissingField, "/aggregationEvent/parentId");

  event = ValidAggregationEvent();
  event.mutable_aggregation_event()->set_action(v1::ACTION_OBSERVE);
  event.mutable_aggregation_event()->clear_parent_id();
  ExpectValid(event);

  event = ValidAggregationEvent();
  event.mutable_aggregation_event()->clear_child_epcs();
  event.mutable_aggregation_event()->clear_child_quantity_list();
  ExpectViolation(event, ValidationRule::kMissingField, "/aggregationEvent/childEpcs");
  event.mutable_aggregation_event()->set_action(v1::ACTION_DELETE);  // "unpack everything"
  ExpectValid(event);
}

TEST(ValidateEventTest, TransactionNeedsBizTransactionAndObjects) {
  v1::Event event = ValidTransactionEvent();
  event.mutable_transaction_event()->mutable_common()->clear_biz_transaction_list();
  ExpectViolation(event, ValidationRule::kMissingField,
                  "/transactionEvent/common/bizTransactionList");

  event = ValidTransactionEvent();
  event.mutable_transaction_event()->clear_parent_id();
  ExpectViolation(event, ValidationRule::kMissingField, "/transactionEvent/epcList");
  event.mutable_transaction_event()->add_epc_list("urn:epc:id:sgtin:9521234.054321.1001");
  ExpectValid(event);
}

TEST(ValidateEventTest, TransformationNeedsInputAndOutput) {
  v1::Event event = ValidTransformationEvent();
  event.mutable_transformation_event()->clear_input_quantity_list();
  ExpectViolation(event, ValidationRule::kMissingField, "/transformationEvent/inputEpcList");
  event.mutable_transformation_event()->add_input_epc_list("urn:epc:id:sgtin:9521234.054321.9");
  ExpectValid(event);

  event = ValidTransformationEvent();
  event.mutable_transformation_event()->clear_output_quantity_list();
  ExpectViolation(event, ValidationRule::kMissingField, "/transformationEvent/outputEpcList");
}

TEST(ValidateEventTest, AssociationAlwaysNeedsParent) {
  v1::Event event = ValidAssociationEvent();
  event.mutable_association_event()->set_action(v1::ACTION_OBSERVE);
  event.mutable_association_event()->clear_parent_id();
  ExpectViolation(event, ValidationRule::kMissingField, "/associationEvent/parentId");
}

TEST(ValidateEventTest, RecallRules) {
  v1::Event event = ValidRecall();
  event.mutable_recall()->clear_root_ids();
  ExpectViolation(event, ValidationRule::kMissingField, "/recall/rootIds");
  event.mutable_recall()->set_phase(v1::Recall::PHASE_UPDATED);
  ExpectValid(event);

  event = ValidRecall();
  event.mutable_recall()->clear_level();
  ExpectViolation(event, ValidationRule::kMissingField, "/recall/level");

  event = ValidRecall();
  event.mutable_recall()->clear_recall_id();
  ExpectViolation(event, ValidationRule::kMissingField, "/recall/recallId");

  event = ValidRecall();
  event.mutable_recall()->clear_phase();
  ExpectViolation(event, ValidationRule::kMissingField, "/recall/phase");

  event = ValidRecall();
  event.mutable_recall()->clear_issued_at();
  ExpectViolation(event, ValidationRule::kMissingField, "/recall/issuedAt");
}

TEST(ValidateEventTest, RegulatorEventRequiredFields) {
  v1::Event event = ValidInspection();
  event.mutable_inspection()->clear_findings();
  ExpectViolation(event, ValidationRule::kMissingField, "/inspection/findings");
  event.mutable_inspection()->set_outcome(v1::Inspection::OUTCOME_COMPLIANT);
  ExpectValid(event);

  event = ValidInspection();
  event.mutable_inspection()->clear_inspector_ids();
  ExpectViolation(event, ValidationRule::kMissingField, "/inspection/inspectorIds");

  event = ValidInspection();
  event.mutable_inspection()->mutable_findings(0)->clear_severity();
  ExpectViolation(event, ValidationRule::kMissingField, "/inspection/findings/0/severity");

  event = ValidSamplingResult();
  event.mutable_sampling_result()->clear_failed_items();
  ExpectViolation(event, ValidationRule::kMissingField, "/samplingResult/failedItems");

  event = ValidSamplingResult();
  event.mutable_sampling_result()->clear_lab_id();
  ExpectViolation(event, ValidationRule::kMissingField, "/samplingResult/labId");

  event = ValidEnforcementAction();
  event.mutable_enforcement_action()->clear_decided_at();
  ExpectViolation(event, ValidationRule::kMissingField, "/enforcementAction/decidedAt");

  event = ValidRecallRemoval();
  event.mutable_recall_removal()->clear_object_id();
  ExpectViolation(event, ValidationRule::kMissingField, "/recallRemoval/objectId");
}

TEST(ValidateEventTest, CylinderRequiredFields) {
  v1::Event event = ValidCylinderFill();
  event.mutable_cylinder_fill()->clear_station_id();
  ExpectViolation(event, ValidationRule::kMissingField, "/cylinderFill/stationId");

  event = ValidCylinderFill();
  event.mutable_cylinder_fill()->clear_filled_at();
  ExpectViolation(event, ValidationRule::kMissingField, "/cylinderFill/filledAt");

  event = ValidCylinderFill();
  event.mutable_cylinder_fill()->clear_cylinder_id();
  ExpectViolation(event, ValidationRule::kMissingField, "/cylinderFill/cylinderId");

  event = ValidCylinderFill();
  event.mutable_cylinder_fill()->clear_net_mass_kg();  // optional
  ExpectValid(event);

  event = ValidCylinderRegistration();
  event.mutable_cylinder_registration()->clear_capacity_liters();
  ExpectViolation(event, ValidationRule::kMissingField, "/cylinderRegistration/capacityLiters");

  event = ValidCylinderRegistration();
  event.mutable_cylinder_registration()->clear_medium();
  ExpectViolation(event, ValidationRule::kMissingField, "/cylinderRegistration/medium");

  event = ValidCylinderInspection();
  event.mutable_cylinder_inspection()->clear_next_inspection_due();
  ExpectViolation(event, ValidationRule::kMissingField, "/cylinderInspection/nextInspectionDue");
  event.mutable_cylinder_inspection()->set_result(v1::CylinderInspection::RESULT_SCRAP);
  ExpectValid(event);
}

// ----- bad_identifier ------------------------------------------------------------------------

TEST(ValidateEventTest, BadIdentifiers) {
  v1::Event event = ValidObjectEvent();
  event.mutable_object_event()->set_epc_list(1, "https://id.gs1.org/01/09521234543214/21/1002");
  ExpectViolation(event, ValidationRule::kBadIdentifier, "/objectEvent/epcList/1",
                  "GTIN 09521234543214: check digit 4, want 3");

  event = ValidObjectEvent();
  event.mutable_object_event()->set_epc_list(2, "cn-drug:8100126000001001000");
  ExpectViolation(event, ValidationRule::kBadIdentifier, "/objectEvent/epcList/2");

  event = ValidObjectEvent();
  event.mutable_object_event()->set_epc_list(0, "09521234543213");  // EPCs must be URIs
  ExpectViolation(event, ValidationRule::kBadIdentifier, "/objectEvent/epcList/0");

  event = ValidObjectEvent();
  event.mutable_object_event()->mutable_quantity_list(0)->set_epc_class(
      "urn:epc:class:lgtin:9521002.01001.L261110");
  ExpectViolation(event, ValidationRule::kBadIdentifier, "/objectEvent/quantityList/0/epcClass");

  event = ValidObjectEvent();
  event.set_submitter_id("91310115MA1H000025");
  ExpectViolation(event, ValidationRule::kBadIdentifier, "/submitterId",
                  "unified social credit code 91310115MA1H000025: check character 5, want 4");
  event.set_submitter_id("9521234000006");
  ExpectValid(event);
  event.set_submitter_id("regulator:SAMR-310104");
  ExpectValid(event);

  event = ValidAggregationEvent();
  event.mutable_aggregation_event()->set_parent_id("urn:epc:id:sscc:9521002.000000101");
  ExpectViolation(event, ValidationRule::kBadIdentifier, "/aggregationEvent/parentId");

  event = ValidObjectEvent();
  event.mutable_object_event()->mutable_common()->mutable_read_point()->set_id(
      "https://id.gs1.org/414/9521234000007");
  ExpectViolation(event, ValidationRule::kBadIdentifier, "/objectEvent/common/readPoint/id",
                  "GLN 9521234000007: check digit 7, want 6");

  event = ValidInspection();
  event.mutable_inspection()->set_enterprise_id("Bright Star Dairy");
  ExpectViolation(event, ValidationRule::kBadIdentifier, "/inspection/enterpriseId");

  event = ValidRecall();
  event.mutable_recall()->add_root_ids("L261110");
  ExpectViolation(event, ValidationRule::kBadIdentifier, "/recall/rootIds/1");

  event = ValidCylinderFill();
  event.mutable_cylinder_fill()->set_cylinder_id("urn:epc:id:grai:9521009.0001.1001");
  ExpectViolation(event, ValidationRule::kBadIdentifier, "/cylinderFill/cylinderId");
}

// ----- bad_quantity --------------------------------------------------------------------------

TEST(ValidateEventTest, BadQuantities) {
  v1::Event event = ValidObjectEvent();
  event.mutable_object_event()->mutable_quantity_list(0)->set_quantity(-3);
  ExpectViolation(event, ValidationRule::kBadQuantity, "/objectEvent/quantityList/0/quantity",
                  "quantity -3: want a finite number > 0");

  event.mutable_object_event()->mutable_quantity_list(0)->set_quantity(0);
  ExpectViolation(event, ValidationRule::kBadQuantity, "/objectEvent/quantityList/0/quantity");

  event.mutable_object_event()->mutable_quantity_list(0)->set_quantity(
      std::numeric_limits<double>::quiet_NaN());
  ExpectViolation(event, ValidationRule::kBadQuantity, "/objectEvent/quantityList/0/quantity");

  event.mutable_object_event()->mutable_quantity_list(0)->set_quantity(
      std::numeric_limits<double>::infinity());
  ExpectViolation(event, ValidationRule::kBadQuantity, "/objectEvent/quantityList/0/quantity");

  event.mutable_object_event()->mutable_quantity_list(0)->set_quantity(2.5);  // no uom: a count
  ExpectViolation(event, ValidationRule::kBadQuantity, "/objectEvent/quantityList/0/quantity");
  event.mutable_object_event()->mutable_quantity_list(0)->set_uom("KGM");
  ExpectValid(event);

  event.mutable_object_event()->mutable_quantity_list(0)->clear_quantity();
  ExpectViolation(event, ValidationRule::kBadQuantity, "/objectEvent/quantityList/0/quantity",
                  "uom KGM given without a quantity");
  event.mutable_object_event()->mutable_quantity_list(0)->clear_uom();
  ExpectValid(event);  // EPCIS allows a quantity element without a quantity

  event = ValidTransformationEvent();
  event.mutable_transformation_event()->mutable_output_quantity_list(0)->set_quantity(-1);
  ExpectViolation(event, ValidationRule::kBadQuantity,
                  "/transformationEvent/outputQuantityList/0/quantity");

  event = ValidRecallRemoval();
  event.mutable_recall_removal()->set_quantity(-590);
  ExpectViolation(event, ValidationRule::kBadQuantity, "/recallRemoval/quantity");

  event = ValidCylinderFill();
  event.mutable_cylinder_fill()->set_net_mass_kg(-14.4);
  ExpectViolation(event, ValidationRule::kBadQuantity, "/cylinderFill/netMassKg");

  event = ValidEnforcementAction();
  event.mutable_enforcement_action()->set_fine_amount_fen(0);
  ExpectViolation(event, ValidationRule::kBadQuantity, "/enforcementAction/fineAmountFen",
                  "KIND_FINE needs a fine > 0 fen");
  event.mutable_enforcement_action()->set_kind(v1::EnforcementAction::KIND_WARNING);
  ExpectValid(event);
  event.mutable_enforcement_action()->set_fine_amount_fen(-1);
  ExpectViolation(event, ValidationRule::kBadQuantity, "/enforcementAction/fineAmountFen");
}

// ----- event_time_in_future ------------------------------------------------------------------

TEST(ValidateEventTest, EventTimeInFuture) {
  v1::Event event = ValidObjectEvent();
  google::protobuf::Timestamp* time =
      event.mutable_object_event()->mutable_common()->mutable_event_time();
  time->set_seconds(1795651200 + 11 * 60);
  ExpectViolation(event, ValidationRule::kEventTimeInFuture, "/objectEvent/common/eventTime",
                  "time 2026-11-26T00:11:00Z is 660s ahead of now 2026-11-26T00:00:00Z, want at "
                  "most 600s");
  time->set_seconds(1795651200 + 9 * 60);  // within the default 10 minutes of skew
  ExpectValid(event);

  ValidationContext strict = Ctx();
  strict.max_future_skew_micros = 0;
  ExpectViolation(event, ValidationRule::kEventTimeInFuture, "/objectEvent/common/eventTime", {},
                  strict);

  event = ValidCylinderFill();
  event.mutable_cylinder_fill()->mutable_filled_at()->set_seconds(1795651200 + 86400);
  ExpectViolation(event, ValidationRule::kEventTimeInFuture, "/cylinderFill/filledAt");

  event = ValidRecall();
  event.mutable_recall()->mutable_deadline()->set_seconds(1795651200 + 30 * 86400);
  ExpectValid(event);  // a deadline may be in the future
}

// ----- unknown_submitter ---------------------------------------------------------------------

TEST(ValidateEventTest, UnknownSubmitter) {
  ValidationContext ctx = Ctx();
  ctx.is_known_submitter = [](std::string_view id) { return id == "9521234000006"; };
  v1::Event event = ValidObjectEvent();
  ExpectViolation(event, ValidationRule::kUnknownSubmitter, "/submitterId",
                  "submitter \"91310115MA1H000024\" is not a registered party", ctx);
  event.set_submitter_id("9521234000006");
  ExpectValid(event, ctx);
  ExpectValid(ValidObjectEvent());  // a null callback accepts any submitter
}

// ----- submitter_mismatch --------------------------------------------------------------------

TEST(ValidateEventTest, SubmitterMismatch) {
  std::string bytes;
  ASSERT_TRUE(ValidObjectEvent().SerializeToString(&bytes));
  auto other = DecodeAndValidateAs(bytes, v1::EVENT_ENCODING_PROTOBUF, "9521234000006", Ctx());
  ASSERT_TRUE(std::holds_alternative<Violation>(other));
  EXPECT_EQ(std::get<Violation>(other).rule, ValidationRule::kSubmitterMismatch);
  EXPECT_EQ(std::get<Violation>(other).field, "/submitterId");

  auto same =
      DecodeAndValidateAs(bytes, v1::EVENT_ENCODING_PROTOBUF, "91310115MA1H000024", Ctx());
  EXPECT_TRUE(std::holds_alternative<v1::Event>(same));

  constexpr std::string_view kEpcis = R"({"type":"ObjectEvent","eventID":"urn:uuid:1",
      "eventTime":"2026-11-25T08:00:00Z","eventTimeZoneOffset":"+08:00","action":"OBSERVE",
      "epcList":["urn:epc:id:sgtin:9521234.054321.1001"]})";
  auto epcis = DecodeAndValidateAs(kEpcis, v1::EVENT_ENCODING_EPCIS_JSON, "9521234000006", Ctx());
  ASSERT_TRUE(std::holds_alternative<v1::Event>(epcis));
  EXPECT_EQ(std::get<v1::Event>(epcis).submitter_id(), "9521234000006");

  auto anonymous = DecodeAndValidate(kEpcis, v1::EVENT_ENCODING_EPCIS_JSON, Ctx());
  ASSERT_TRUE(std::holds_alternative<Violation>(anonymous));
  EXPECT_EQ(std::get<Violation>(anonymous).field, "/submitterId");
}

// ----- bad_value -----------------------------------------------------------------------------

TEST(ValidateEventTest, BadValues) {
  v1::Event event = ValidObjectEvent();
  event.mutable_object_event()->mutable_common()->set_biz_step("shiping");
  ExpectViolation(event, ValidationRule::kBadValue, "/objectEvent/common/bizStep",
                  "\"shiping\": want a CBV 2.0 business step (e.g. accepting) or a URI");
  event.mutable_object_event()->mutable_common()->set_biz_step(
      "urn:epcglobal:cbv:bizstep:shipping");
  ExpectValid(event);

  event = ValidObjectEvent();
  event.mutable_object_event()->mutable_common()->set_disposition("sold");
  ExpectViolation(event, ValidationRule::kBadValue, "/objectEvent/common/disposition");

  event = ValidObjectEvent();
  event.mutable_object_event()->mutable_common()->set_event_time_zone_offset("+8:00");
  ExpectViolation(event, ValidationRule::kBadValue, "/objectEvent/common/eventTimeZoneOffset");
  event.mutable_object_event()->mutable_common()->set_event_time_zone_offset("-14:00");
  ExpectValid(event);

  event = ValidObjectEvent();
  event.mutable_object_event()->add_epc_list("urn:epc:id:sgtin:9521234.054321.1001");
  ExpectViolation(event, ValidationRule::kBadValue, "/objectEvent/epcList/3",
                  "\"urn:epc:id:sgtin:9521234.054321.1001\" repeats /objectEvent/epcList/0");

  event = ValidObjectEvent();
  event.mutable_object_event()->set_action(v1::ACTION_OBSERVE);
  ExpectViolation(event, ValidationRule::kBadValue, "/objectEvent/ilmd");

  event = ValidObjectEvent();
  event.mutable_object_event()->mutable_ilmd()->set_item_expiration_date("2027-02-29");
  ExpectViolation(event, ValidationRule::kBadValue, "/objectEvent/ilmd/itemExpirationDate");
  event.mutable_object_event()->mutable_ilmd()->set_item_expiration_date("2028-02-29");
  ExpectValid(event);

  event = ValidObjectEvent();
  event.mutable_object_event()->set_action(static_cast<v1::Action>(99));  // binary only
  ExpectViolation(event, ValidationRule::kBadValue, "/objectEvent/action");

  event = ValidObjectEvent();
  event.mutable_object_event()->mutable_quantity_list(0)->set_uom("kg");
  ExpectViolation(event, ValidationRule::kBadValue, "/objectEvent/quantityList/0/uom");

  event = ValidObjectEvent();
  event.mutable_object_event()->mutable_common()->mutable_event_time()->set_nanos(-1);
  ExpectViolation(event, ValidationRule::kBadValue, "/objectEvent/common/eventTime");

  event = ValidSamplingResult();
  event.mutable_sampling_result()->mutable_reported_at()->set_seconds(
      event.sampling_result().sampled_at().seconds() - 1);
  ExpectViolation(event, ValidationRule::kBadValue, "/samplingResult/reportedAt");

  event = ValidSamplingResult();
  event.mutable_sampling_result()->set_verdict(v1::SamplingResult::VERDICT_QUALIFIED);
  ExpectViolation(event, ValidationRule::kBadValue, "/samplingResult/failedItems/0");

  event = ValidCylinderRegistration();
  event.mutable_cylinder_registration()->set_next_inspection_due("2022-03-15");
  ExpectViolation(event, ValidationRule::kBadValue, "/cylinderRegistration/nextInspectionDue");

  event = ValidCylinderRegistration();
  event.mutable_cylinder_registration()->set_manufactured_on("2022/03/15");
  ExpectViolation(event, ValidationRule::kBadValue, "/cylinderRegistration/manufacturedOn");
}

// ----- too_large -----------------------------------------------------------------------------

TEST(ValidateEventTest, TooLarge) {
  v1::Event event = ValidObjectEvent();
  event.set_event_id(std::string(kMaxIdentifierBytes, 'e'));
  ExpectValid(event);
  event.set_event_id(std::string(kMaxIdentifierBytes + 1, 'e'));
  ExpectViolation(event, ValidationRule::kTooLarge, "/eventId",
                  "identifier is 257 bytes, want at most 256");

  event = ValidObjectEvent();
  event.mutable_object_event()->set_epc_list(
      0, "urn:epc:id:sgtin:9521234.054321." + std::string(kMaxIdentifierBytes, '1'));
  ExpectViolation(event, ValidationRule::kTooLarge, "/objectEvent/epcList/0");

  event = ValidRecall();
  event.mutable_recall()->set_reason(std::string(kMaxTextBytes + 1, 'r'));
  ExpectViolation(event, ValidationRule::kTooLarge, "/recall/reason");

  event = ValidObjectEvent();
  for (size_t i = 0; i < kMaxListItems; ++i) {
    event.mutable_object_event()->add_epc_list("urn:epc:id:sgtin:9521234.054321.s" +
                                               std::to_string(i));
  }
  ExpectViolation(event, ValidationRule::kTooLarge, "/objectEvent/epcList");

  event = ValidObjectEvent();
  event.mutable_object_event()->mutable_common()->mutable_extensions()->mutable_fields()->insert(
      {"ext:blob", google::protobuf::Value()});
  (*event.mutable_object_event()->mutable_common()->mutable_extensions()->mutable_fields())
      ["ext:blob"]
          .set_string_value(std::string(kMaxEventBytes, 'x'));
  ExpectViolation(event, ValidationRule::kTooLarge, "");

  auto oversized = DecodeAndValidate(std::string(kMaxEventBytes + 1, ' '),
                                     v1::EVENT_ENCODING_JSON, Ctx());
  ASSERT_TRUE(std::holds_alternative<Violation>(oversized));
  EXPECT_EQ(std::get<Violation>(oversized).rule, ValidationRule::kTooLarge);
  EXPECT_EQ(std::get<Violation>(oversized).field, "");
}

// ----- ObjectIdsOf ---------------------------------------------------------------------------

TEST(ObjectIdsOfTest, PrimaryIdFirst) {
  EXPECT_EQ(ObjectIdsOf(ValidObjectEvent()),
            (std::vector<std::string>{"urn:epc:id:sgtin:9521234.054321.1001",
                                      "https://id.gs1.org/01/09521234543213/21/1002",
                                      "cn-drug:81001260000010010001",
                                      "urn:epc:class:lgtin:9521002.010001.L261110"}));
  EXPECT_EQ(ObjectIdsOf(ValidAggregationEvent()),
            (std::vector<std::string>{"urn:epc:id:sscc:9521002.0000000101",
                                      "urn:epc:id:sgtin:9521234.054321.1001",
                                      "urn:epc:class:lgtin:9521002.010001.L261110"}));
  EXPECT_EQ(ObjectIdsOf(ValidTransactionEvent()),
            (std::vector<std::string>{"urn:epc:id:sscc:9521002.0000000101"}));
  EXPECT_EQ(ObjectIdsOf(ValidTransformationEvent()),
            (std::vector<std::string>{"urn:epc:class:lgtin:9521002.010001.L261110",
                                      "urn:epc:class:lgtin:9521001.000010.WMP261102"}));
  EXPECT_EQ(ObjectIdsOf(ValidAssociationEvent()),
            (std::vector<std::string>{"urn:epc:id:grai:9521007.00003.88",
                                      "urn:epc:id:giai:9521007.TL0042"}));
  EXPECT_EQ(ObjectIdsOf(ValidInspection()), (std::vector<std::string>{"91310115MA1H000024"}));
  EXPECT_EQ(ObjectIdsOf(ValidSamplingResult()),
            (std::vector<std::string>{"urn:epc:class:lgtin:9521002.010001.L261110",
                                      "91310104MA1F000047"}));
  EXPECT_EQ(ObjectIdsOf(ValidEnforcementAction()),
            (std::vector<std::string>{"91310115MA1H000024"}));
  EXPECT_EQ(ObjectIdsOf(ValidRecall()),
            (std::vector<std::string>{"RC-2026-0007",
                                      "urn:epc:class:lgtin:9521002.010001.L261110"}));
  EXPECT_EQ(ObjectIdsOf(ValidRecallRemoval()),
            (std::vector<std::string>{"urn:epc:class:lgtin:9521002.010001.L261110",
                                      "RC-2026-0007"}));
  EXPECT_EQ(ObjectIdsOf(ValidCylinderRegistration()),
            (std::vector<std::string>{"urn:epc:id:grai:9521009.00001.1001"}));
  EXPECT_EQ(ObjectIdsOf(ValidCylinderInspection()),
            (std::vector<std::string>{"SH-LPG-2019-004512"}));
  EXPECT_EQ(ObjectIdsOf(ValidCylinderFill()), (std::vector<std::string>{"SH-LPG-2019-004512"}));
  EXPECT_TRUE(ObjectIdsOf(v1::Event()).empty());
}

TEST(ObjectIdsOfTest, SkipsRepeats) {
  v1::Event event = ValidAggregationEvent();
  event.mutable_aggregation_event()->add_child_epcs("urn:epc:id:sscc:9521002.0000000101");
  EXPECT_EQ(ObjectIdsOf(event).size(), 3u);
}

}  // namespace
}  // namespace traceledger::ingest
