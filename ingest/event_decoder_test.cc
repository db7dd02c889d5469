#include "ingest/event_decoder.h"

#include <string>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

namespace traceledger::ingest {
namespace {

namespace v1 = traceledger::v1;
namespace pb = google::protobuf;

constexpr std::string_view kEnvelope =
    R"("eventId":"urn:uuid:7d0c1b52-2f1c-4a4e-8d41-0e3b9c1d0001","submitterId":"9521234000006",)";

// One native JSON event per body type, using most fields of each.
const char* const kBodies[] = {
    R"("objectEvent":{"common":{"eventTime":"2026-11-25T08:00:00.250Z",
        "eventTimeZoneOffset":"+08:00",
        "recordTime":"2026-11-25T08:00:05Z","certificationInfo":["https://cert.example.org/c/1"],
        "errorDeclaration":{"declarationTime":"2026-11-25T09:00:00Z","reason":"incorrect_data",
          "correctiveEventIds":["urn:uuid:c1"],"erroneousEventId":"urn:uuid:e1",
          "extensions":{"ext1:note":"typo"}},
        "readPoint":{"id":"urn:epc:id:sgln:9521234.00001.0","extensions":{"ext1:door":3}},
        "bizLocation":{"id":"urn:epc:id:sgln:9521234.00001.0"},"bizStep":"shipping",
        "disposition":"in_transit","persistentDisposition":{"set":["recalled"],"unset":["active"]},
        "bizTransactionList":[{"type":"po","bizTransaction":"urn:epc:id:gdti:9521234.00001.1"}],
        "sourceList":[{"type":"owning_party","id":"urn:epc:id:pgln:9521234.00000"}],
        "destinationList":[{"type":"location","id":"urn:epc:id:sgln:9521003.00001.0"}],
        "sensorElementList":[{"sensorMetadata":{"time":"2026-11-25T07:00:00Z",
            "deviceId":"urn:epc:id:giai:9521234.T1","startTime":"2026-11-25T06:00:00Z",
            "endTime":"2026-11-25T07:00:00Z","extensions":{"ext1:fw":"1.2"}},
          "sensorReports":[{"type":"Temperature","value":4.5,"uom":"CEL","minValue":2,
            "maxValue":7.5,"booleanValue":false,"stringValue":"","sDev":0.25}],
          "extensions":{"ext1:k":[1,"two",{"three":null}]}}],
        "extensions":{"ext1:string":"value","ext1:number":20}},
      "action":"ACTION_ADD","epcList":["urn:epc:id:sgtin:9521234.054321.1001"],
      "quantityList":[{"epcClass":"urn:epc:class:lgtin:9521234.054321.L1","quantity":12.5,
                       "uom":"KGM"},
                      {"epcClass":"urn:epc:idpat:sgtin:9521234.054321.*"}],
      "ilmd":{"lotNumber":"L1","itemExpirationDate":"2028-01-31","productionDate":"2026-11-01",
              "bestBeforeDate":"2027-12-31","sellByDate":"2027-11-30",
              "extensions":{"cbvmda:countryOfOrigin":"CN"}}})",
    R"("aggregationEvent":{"common":{"eventTime":"2026-11-25T08:00:00Z"},"action":"ACTION_ADD",
      "parentId":"urn:epc:id:sscc:9521234.0000000101",
      "childEpcs":["urn:epc:id:sgtin:9521234.054321.1"],
      "childQuantityList":[{"epcClass":"urn:epc:class:lgtin:9521234.054321.L1","quantity":10}]})",
    R"("transactionEvent":{"common":{"eventTime":"2026-11-25T08:00:00Z",
      "bizTransactionList":[{"type":"inv","bizTransaction":"urn:epc:id:gdti:9521234.00002.9"}]},
      "action":"ACTION_DELETE","parentId":"urn:epc:id:sscc:9521234.0000000101",
      "epcList":["urn:epc:id:sgtin:9521234.054321.1"],
      "quantityList":[{"epcClass":"urn:epc:class:lgtin:9521234.054321.L1","quantity":3}]})",
    R"("transformationEvent":{"common":{"eventTime":"2026-11-25T08:00:00Z"},
      "inputEpcList":["urn:epc:id:sgtin:9521234.054321.1"],
      "inputQuantityList":[{"epcClass":"urn:epc:class:lgtin:9521001.000010.W1","quantity":1860,
                            "uom":"KGM"}],
      "outputEpcList":["urn:epc:id:sgtin:9521234.054322.1"],
      "outputQuantityList":[{"epcClass":"urn:epc:class:lgtin:9521002.010001.L1","quantity":2400}],
      "transformationId":"urn:uuid:t1","ilmd":{"lotNumber":"L1"}})",
    R"("associationEvent":{"common":{"eventTime":"2026-11-25T08:00:00Z"},"action":"ACTION_OBSERVE",
      "parentId":"urn:epc:id:grai:9521234.00003.88","childEpcs":["urn:epc:id:giai:9521234.TL1"],
      "childQuantityList":[{"epcClass":"urn:epc:class:lgtin:9521234.054321.L1","quantity":1}]})",
    R"("inspection":{"enterpriseId":"91310115MA1H000024","inspectorIds":["ZF1","ZF2"],
      "kind":"KIND_DOUBLE_RANDOM_SPOT_CHECK","location":"urn:epc:id:sgln:9521002.00001.0",
      "inspectedAt":"2026-11-17T02:00:00Z","outcome":"OUTCOME_CORRECTION_ORDERED",
      "findings":[{"code":"SC-4.2","description":"records incomplete",
                   "severity":"SEVERITY_SERIOUS"}],
      "correctionDue":"2026-12-01T16:00:00Z"})",
    R"("samplingResult":{"sampleId":"CJ-1","enterpriseId":"91310104MA1F000047",
      "objectIds":["urn:epc:class:lgtin:9521002.010001.L1"],"productName":"milk powder 900 g",
      "sampledAt":"2026-11-16T03:00:00Z","reportedAt":"2026-11-20T08:00:00Z",
      "labId":"12310000MB2B000113","reportId":"R-1","verdict":"VERDICT_UNQUALIFIED",
      "failedItems":[{"item":"protein","measured":"15.2","limit":">= 16.5","uom":"g/100g",
                      "standard":"GB 19644-2010"}]})",
    R"("enforcementAction":{"caseId":"HSJ-1","enterpriseId":"91310115MA1H000024",
      "kind":"KIND_FINE","severity":"SEVERITY_SERIOUS","fineAmountFen":"5000000",
      "legalBasis":"Food Safety Law, Article 124","decidedAt":"2026-11-22T06:00:00Z",
      "relatedEventIds":["urn:uuid:a","urn:uuid:b"]})",
    R"("recall":{"recallId":"RC-1","phase":"PHASE_OPENED","level":"LEVEL_I","reason":"protein",
      "rootIds":["urn:epc:class:lgtin:9521002.010001.L1"],"deadline":"2026-12-05T16:00:00Z",
      "issuedBy":"regulator:SAMR-310104","issuedAt":"2026-11-21T01:00:00Z"})",
    R"("recallRemoval":{"recallId":"RC-1","holderId":"9521005000006",
      "objectId":"urn:epc:class:lgtin:9521002.010001.L1","quantity":590,"uom":"",
      "location":"urn:epc:id:sgln:9521005.00001.0","removedAt":"2026-11-24T05:30:00Z",
      "disposition":"DISPOSITION_DESTROYED"})",
    R"("cylinderRegistration":{"cylinderId":"urn:epc:id:grai:9521009.00001.1001",
      "ownerStationId":"91310112MA1E00009N","manufacturer":"Jindun","manufacturedOn":"2022-03-15",
      "designLifeYears":8,"medium":"LPG","capacityLiters":35.5,"lastInspectedOn":"2022-03-15",
      "nextInspectionDue":"2026-03-15","registeredAt":"2026-11-01T01:00:00Z"})",
    R"("cylinderInspection":{"cylinderId":"SH-LPG-2019-004512","agencyId":"12310000MB2A00010D",
      "inspectedAt":"2026-11-03T06:00:00Z","result":"RESULT_FAIL","nextInspectionDue":"2027-06-19",
      "reportId":"SEI-1"})",
    R"("cylinderFill":{"cylinderId":"SH-LPG-2019-004512","stationId":"91310112MA1E00009N",
      "filledAt":"2026-11-20T23:50:00Z","medium":"LPG","netMassKg":14.4,"operatorId":"TSZY-1",
      "scaleId":"SCALE-01"})",
};

std::string NativeJson(const char* body) {
  return "{" + std::string(kEnvelope) + body + "}";
}

TEST(DecodeEventTest, JsonRoundTripsEveryBodyType) {
  int body_cases = 0;
  for (const char* body : kBodies) {
    Result<v1::Event> first = DecodeEvent(NativeJson(body), v1::EVENT_ENCODING_JSON);
    ASSERT_TRUE(first.ok()) << first.status().ToString() << "\n" << body;
    EXPECT_NE(first->body_case(), v1::Event::BODY_NOT_SET);

    std::string printed;
    ASSERT_TRUE(pb::util::MessageToJsonString(*first, &printed).ok());
    Result<v1::Event> second = DecodeEvent(printed, v1::EVENT_ENCODING_JSON);
    ASSERT_TRUE(second.ok()) << second.status().ToString() << "\n" << printed;
    EXPECT_TRUE(pb::util::MessageDifferencer::Equals(*first, *second)) << printed;

    std::string binary;
    ASSERT_TRUE(first->SerializeToString(&binary));
    Result<v1::Event> third = DecodeEvent(binary, v1::EVENT_ENCODING_PROTOBUF);
    ASSERT_TRUE(third.ok()) << third.status().ToString();
    EXPECT_TRUE(pb::util::MessageDifferencer::Equals(*first, *third));
    ++body_cases;
  }
  EXPECT_EQ(body_cases, 13);
}

TEST(DecodeEventTest, JsonKeepsValues) {
  Result<v1::Event> event = DecodeEvent(NativeJson(kBodies[0]), v1::EVENT_ENCODING_JSON);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->submitter_id(), "9521234000006");
  const v1::ObjectEvent& object = event->object_event();
  // 2026-11-25T08:00:00Z is 16 hours before 2026-11-26T00:00:00Z (1795651200).
  EXPECT_EQ(object.common().event_time().seconds(), 1795651200 - 16 * 3600);
  EXPECT_EQ(object.common().event_time().nanos(), 250000000);
  EXPECT_EQ(object.action(), v1::ACTION_ADD);
  EXPECT_EQ(object.quantity_list(0).quantity(), 12.5);
  EXPECT_FALSE(object.quantity_list(1).has_quantity());
  EXPECT_EQ(object.common().extensions().fields().at("ext1:number").number_value(), 20);
  EXPECT_EQ(object.ilmd().extensions().fields().at("cbvmda:countryOfOrigin").string_value(), "CN");
}

TEST(DecodeEventTest, JsonAcceptsProtoFieldNamesAndOffsets) {
  Result<v1::Event> event = DecodeEvent(
      R"({"event_id":"e1","submitter_id":"9521234000006","cylinder_fill":{"cylinder_id":"C1",
          "station_id":"9521234000006","filled_at":"2026-11-20T23:50:00+08:00"}})",
      v1::EVENT_ENCODING_JSON);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
    // 2026-11-20T23:50:00+08:00 is 15:50Z, 5 days, 8 hours and 10 minutes before 2026-11-26T00:00Z.
  EXPECT_EQ(event->cylinder_fill().filled_at().seconds(), 1795651200 - 5 * 86400 - 8 * 3600 - 600);
}

TEST(DecodeEventTest, JsonRejectsUnknownFieldByName) {
  Result<v1::Event> top = DecodeEvent(R"({"eventId":"e1","colour":"red"})",
                                      v1::EVENT_ENCODING_JSON);
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(top.status().message(), "native JSON: colour: Cannot find field.");

  Result<v1::Event> nested = DecodeEvent(
      R"({"eventId":"e1","objectEvent":{"common":{"eventTimes":"2026-11-25T08:00:00Z"}}})",
      v1::EVENT_ENCODING_JSON);
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("eventTimes"), std::string::npos)
      << nested.status().message();
  EXPECT_NE(nested.status().message().find("object_event.common"), std::string::npos)
      << nested.status().message();
}

TEST(DecodeEventTest, JsonRejectsMalformedInput) {
  struct Case {
    std::string json;
    std::string message_part;
  };
  const Case cases[] = {
      {R"({"eventId":"e1",)", "syntax error"},
      {R"({"eventId":"e1","eventId":"e2"})", "native JSON: duplicate key \"eventId\""},
      {R"({"objectEvent":{},"recall":{}})", "oneof field 'body' is already set"},
      {R"(["eventId"])", "want an object at the root, got an array"},
      {R"("eventId")", "want an object at the root, got a scalar"},
      {"{\"eventId\":\"\xff\"}", "syntax error"},
      {R"({"objectEvent":{"action":"ADD"}})", "invalid value \"ADD\""},
      {R"({"eventId":"e1"} {})", "syntax error"},
      {std::string(70, '[') + std::string(70, ']'), "want an object at the root"},
      {R"({"a":)" + std::string(64, '[') + std::string(64, ']') + "}",
       "native JSON: nesting deeper than 64 levels"},
  };
  for (const Case& c : cases) {
    Result<v1::Event> event = DecodeEvent(c.json, v1::EVENT_ENCODING_JSON);
    ASSERT_FALSE(event.ok()) << c.json;
    EXPECT_EQ(event.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(event.status().message().find(c.message_part), std::string::npos)
        << c.json << " -> " << event.status().message();
  }
}

TEST(DecodeEventTest, ProtobufRejectsGarbage) {
  Result<v1::Event> event = DecodeEvent("\xff\xff\xff", v1::EVENT_ENCODING_PROTOBUF);
  ASSERT_FALSE(event.ok());
  EXPECT_EQ(event.status().message(), "protobuf: not a valid traceledger.v1.Event (3 bytes)");
}

TEST(DecodeEventTest, ProtobufRejectsUnknownFields) {
  Result<v1::Event> valid = DecodeEvent(NativeJson(kBodies[0]), v1::EVENT_ENCODING_JSON);
  ASSERT_TRUE(valid.ok());
  std::string bytes;
  ASSERT_TRUE(valid->SerializeToString(&bytes));
  // Field 99, wire type 0 (varint), value 1: tag = 99 << 3 = 792 = varint 0x98 0x06.
  Result<v1::Event> top = DecodeEvent(bytes + std::string("\x98\x06\x01", 3),
                                      v1::EVENT_ENCODING_PROTOBUF);
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().message(), "protobuf: unknown field number 99 in traceledger.v1.Event");

  // The same unknown field inside the cylinder_fill body (field 27, length-delimited).
  v1::Event fill;
  fill.set_event_id("e1");
  fill.mutable_cylinder_fill()->set_cylinder_id("C1");
  std::string body;
  ASSERT_TRUE(fill.cylinder_fill().SerializeToString(&body));
  body += std::string("\x98\x06\x01", 3);
  std::string nested;
  nested += std::string("\x0a\x02" "e1", 4);                        // field 1: event_id "e1"
  nested += std::string("\xda\x01", 2);                             // field 27, wire type 2
  nested += static_cast<char>(body.size());
  nested += body;
  Result<v1::Event> inner = DecodeEvent(nested, v1::EVENT_ENCODING_PROTOBUF);
  ASSERT_FALSE(inner.ok());
  EXPECT_EQ(inner.status().message(),
            "protobuf: unknown field number 99 in traceledger.v1.CylinderFill at /cylinderFill");
}

TEST(DecodeStoredEventTest, ProtobufSkipsUnknownFieldsOtherEncodingsAsDecodeEvent) {
  Result<v1::Event> valid = DecodeEvent(NativeJson(kBodies[0]), v1::EVENT_ENCODING_JSON);
  ASSERT_TRUE(valid.ok());
  std::string bytes;
  ASSERT_TRUE(valid->SerializeToString(&bytes));
  // An entry appended by a build that knows field 99: read, without it.
  Result<v1::Event> newer =
      DecodeStoredEvent(v1::EVENT_ENCODING_PROTOBUF, bytes + std::string("\x98\x06\x01", 3));
  ASSERT_TRUE(newer.ok()) << newer.status().message();
  newer->DiscardUnknownFields();
  EXPECT_TRUE(pb::util::MessageDifferencer::Equals(*newer, *valid));

  Result<v1::Event> garbage = DecodeStoredEvent(v1::EVENT_ENCODING_PROTOBUF, "\xff\xff\xff");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().message(), "protobuf: not a valid traceledger.v1.Event (3 bytes)");

  // Other encodings are decoded as DecodeEvent decodes them.
  Result<v1::Event> json = DecodeStoredEvent(v1::EVENT_ENCODING_JSON, NativeJson(kBodies[0]));
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->event_id(), valid->event_id());
  Result<v1::Event> unspecified = DecodeStoredEvent(v1::EVENT_ENCODING_UNSPECIFIED, "{}");
  ASSERT_FALSE(unspecified.ok());
  EXPECT_EQ(unspecified.status().message(), "event encoding 0: want JSON, PROTOBUF or EPCIS_JSON");
}

TEST(DecodeEventTest, RejectsOversizedAndUnknownEncodings) {
  Result<v1::Event> big =
      DecodeEvent(std::string(kMaxEventBytes + 1, ' '), v1::EVENT_ENCODING_PROTOBUF);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().message(), "event is 1048577 bytes, want at most 1048576");

  Result<v1::Event> unspecified = DecodeEvent("{}", v1::EVENT_ENCODING_UNSPECIFIED);
  ASSERT_FALSE(unspecified.ok());
  EXPECT_EQ(unspecified.status().message(), "event encoding 0: want JSON, PROTOBUF or EPCIS_JSON");
}

TEST(DecodeEventTest, EpcisJsonDispatches) {
  Result<v1::Event> event = DecodeEvent(
      R"({"type":"ObjectEvent","eventID":"urn:uuid:1","eventTime":"2026-11-25T08:00:00Z",
          "eventTimeZoneOffset":"+08:00","action":"OBSERVE",
          "epcList":["urn:epc:id:sgtin:9521234.054321.1001"]})",
      v1::EVENT_ENCODING_EPCIS_JSON);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->event_id(), "urn:uuid:1");
  EXPECT_EQ(event->object_event().action(), v1::ACTION_OBSERVE);
}

}  // namespace
}  // namespace traceledger::ingest
