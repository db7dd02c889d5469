#include "projections/event_facts.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

namespace traceledger::projections {
namespace {

v1::Event Parse(const std::string& json) {
  v1::Event event;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &event).ok()) << json;
  return event;
}

TEST(EventFactsTest, ShippingNamesTheReceiverAndTheLots) {
  const EventFacts facts = FactsOf(Parse(R"({
    "eventId":"e1","submitterId":"9521234000006",
    "objectEvent":{"common":{"eventTime":"2026-11-01T08:00:00Z","bizStep":"urn:epcglobal:cbv:bizstep:shipping",
      "bizLocation":{"id":"urn:epc:id:sgln:9521234.00001.0"},
      "destinationList":[{"type":"urn:epcglobal:cbv:sdt:owning_party","id":"9521234000013"}]},
    "action":"ACTION_OBSERVE",
    "epcList":["urn:epc:id:sscc:9521234.0000000001"],
    "quantityList":[{"epcClass":"urn:epc:class:lgtin:9521234.012345.L1","quantity":40,"uom":"KGM"}]}})"));
  EXPECT_EQ(facts.type, "ObjectEvent");
  EXPECT_EQ(facts.movement, Movement::kShip);
  EXPECT_EQ(facts.party, "9521234000006");
  EXPECT_EQ(facts.counterparty, "9521234000013");
  EXPECT_EQ(facts.location, "urn:epc:id:sgln:9521234.00001.0");
  EXPECT_EQ(facts.biz_step, "shipping");
  EXPECT_EQ(facts.time_micros, 1793520000000000);
  ASSERT_EQ(facts.objects.size(), 2u);
  EXPECT_EQ(facts.objects[1].object_id, "urn:epc:class:lgtin:9521234.012345.L1");
  EXPECT_EQ(facts.objects[1].quantity, 40);
  EXPECT_EQ(facts.objects[1].uom, "KGM");
  EXPECT_EQ(facts.mentioned.size(), 2u);
}

TEST(EventFactsTest, TransformationConsumesInputsAndNamesLotsFromIlmd) {
  const EventFacts facts = FactsOf(Parse(R"({
    "eventId":"e2","submitterId":"p",
    "transformationEvent":{"common":{"eventTime":"2026-11-01T09:00:00Z"},
      "inputQuantityList":[{"epcClass":"urn:epc:class:lgtin:9521234.000001.A","quantity":10}],
      "outputQuantityList":[{"epcClass":"https://id.gs1.org/01/09521234543213","quantity":100}],
      "ilmd":{"lotNumber":"P7"}}})"));
  EXPECT_EQ(facts.movement, Movement::kTransform);
  ASSERT_EQ(facts.inputs.size(), 1u);
  ASSERT_EQ(facts.outputs.size(), 1u);
  EXPECT_EQ(facts.outputs[0].object_id, "https://id.gs1.org/01/09521234543213#lot=P7");
  EXPECT_EQ(facts.inputs[0].uom, "EA");
}

TEST(EventFactsTest, CbvNamesInEveryFormReduceToTheShortName) {
  EXPECT_EQ(CbvShortName("urn:epcglobal:cbv:bizstep:receiving"), "receiving");
  EXPECT_EQ(CbvShortName("https://ref.gs1.org/cbv/BizStep-receiving"), "receiving");
  EXPECT_EQ(CbvShortName("receiving"), "receiving");
  EXPECT_EQ(CbvShortName("https://ref.gs1.org/cbv/SDT-owning_party"), "owning_party");
  EXPECT_EQ(LotObjectId("urn:epc:class:lgtin:9521234.012345.L1", "other"),
            "urn:epc:class:lgtin:9521234.012345.L1");
  EXPECT_EQ(LotObjectId("urn:epc:idpat:sgtin:9521234.012345.*", "L9"),
            "urn:epc:idpat:sgtin:9521234.012345.*#lot=L9");
}

TEST(EventFactsTest, PackingAndRegulatorEvents) {
  const EventFacts pack = FactsOf(Parse(R"({"eventId":"e3","submitterId":"p",
    "aggregationEvent":{"common":{"eventTime":"2026-11-01T10:00:00Z","bizStep":"packing"},
    "action":"ACTION_ADD","parentId":"urn:epc:id:sscc:9521234.0000000002",
    "childEpcs":["cn-drug:81234567890123456789"]}})"));
  EXPECT_EQ(pack.movement, Movement::kPack);
  EXPECT_EQ(pack.parent, "urn:epc:id:sscc:9521234.0000000002");
  EXPECT_EQ(pack.mentioned.size(), 2u);
  const EventFacts fill = FactsOf(Parse(R"({"eventId":"e4","submitterId":"s",
    "cylinderFill":{"cylinderId":"CYL-1","stationId":"s","filledAt":"2026-11-01T11:00:00Z"}})"));
  EXPECT_EQ(fill.type, "CylinderFill");
  EXPECT_EQ(fill.mentioned, std::vector<std::string>{"CYL-1"});
}

}  // namespace
}  // namespace traceledger::projections
