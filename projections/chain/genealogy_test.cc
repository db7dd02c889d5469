#include "projections/chain/genealogy.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <tuple>

#include "ledger/base/encoding.h"
#include "projections/chain/holdings.h"
#include "projections/chain/testing/chain_events.h"
#include "projections/keys.h"

namespace traceledger::projections {
namespace {

using testing::At;
using testing::ChainFixture;

constexpr char kFarm[] = "9521001000006";
constexpr char kPlant[] = "9521002000003";
constexpr char kDepot[] = "9521003000000";
constexpr char kShop[] = "9521004000007";
constexpr char kPlantSite[] = "urn:epc:id:sgln:9521002.00001.0";
constexpr char kLotA[] = "urn:epc:class:lgtin:9521001.000010.A1";
constexpr char kLotB[] = "urn:epc:class:lgtin:9521001.000010.B1";
constexpr char kLotP[] = "urn:epc:class:lgtin:9521002.010001.P1";
constexpr char kCase1[] = "urn:epc:id:sgtin:9521002.010001.1001";
constexpr char kCase2[] = "urn:epc:id:sgtin:9521002.010001.1002";
constexpr char kItem1[] = "urn:epc:id:sgtin:9521002.010002.5001";
constexpr char kPallet[] = "urn:epc:id:sscc:9521002.0000000101";
constexpr char kPallet2[] = "urn:epc:id:sscc:9521002.0000000102";

class GenealogyTest : public ChainFixture {
 protected:
  std::vector<std::string> Out(std::string_view node) {
    auto edges = OutEdges(Reader(kGenealogyView), node, 1000);
    EXPECT_TRUE(edges.ok()) << edges.status().ToString();
    return Describe(*edges);
  }
  std::vector<std::string> In(std::string_view node) {
    auto edges = InEdges(Reader(kGenealogyView), node, 1000);
    EXPECT_TRUE(edges.ok()) << edges.status().ToString();
    return Describe(*edges);
  }
  // "kind from->to @sequence [via] [removed@sequence]"
  static std::vector<std::string> Describe(const std::vector<v1::GenealogyEdge>& edges) {
    std::vector<std::string> out;
    for (const v1::GenealogyEdge& e : edges) {
      std::string s =
          e.kind() + " " + e.from() + "->" + e.to() + " @" + std::to_string(e.sequence());
      if (!e.via().empty()) s.append(" via " + e.via());
      if (e.removed()) s.append(" removed@" + std::to_string(e.removed_sequence()));
      out.push_back(s);
    }
    return out;
  }
};

TEST(NewEdgeValueTest, IsWhatProtobufWritesForTheSameFields) {
  std::mt19937_64 random(6);
  auto text = [&]() {
    const size_t sizes[] = {0, 3, 40, 200};  // 200: a length of two bytes
    return std::string(sizes[random() % 4], static_cast<char>('a' + random() % 26));
  };
  const double quantities[] = {0.0, -0.0, 1.5, -12.25, 1e300};
  std::string bytes;
  for (int i = 0; i < 500; ++i) {
    const std::string party = text();
    const std::string counterparty = text();
    const std::string location = text();
    NewEdgeValue value;
    value.to_kind = static_cast<v1::NodeKind>(random() % 4);
    value.quantity = quantities[random() % 5];
    value.uom = text();
    value.party = party;
    value.counterparty = counterparty;
    value.location = location;
    value.via = text();
    EncodeNewEdgeValue(value, &bytes);
    v1::GenealogyEdge edge;
    edge.set_to_kind(value.to_kind);
    edge.set_quantity(value.quantity);
    edge.set_uom(value.uom);
    edge.set_party(party);
    edge.set_counterparty(counterparty);
    edge.set_location(location);
    edge.set_via(value.via);
    ASSERT_EQ(bytes, DeterministicBytes(edge)) << edge.ShortDebugString();
  }
}

TEST_F(GenealogyTest, EveryEdgeKindWithBothDirectionsInTimeOrder) {
  Append({
      /*0*/ testing::Commission("g0", kFarm, At(0), {{kLotA, 500, "KGM"}, {kLotB, 80, "KGM"}}),
      /*1*/ testing::Ship("g1", kFarm, At(10), {{kLotA, 500, "KGM"}, {kLotB, 80, "KGM"}}, kPlant),
      /*2*/ testing::Receive("g2", kPlant, At(20), {{kLotA, 500, "KGM"}}, kFarm, kPlantSite),
      /*3*/ testing::Transform("g3", kPlant, At(30), {{kLotA, 400, "KGM"}, {kLotB, 80, "KGM"}},
                               {{kLotP, 1000}}, kPlantSite),
      /*4*/ testing::Commission("g4", kPlant, At(31), {{kCase1}, {kCase2}}),
      /*5*/ testing::Aggregate("g5", kPlant, At(40), v1::ACTION_ADD, kPallet,
                               {{kCase1}, {kCase2}}),
      /*6*/ testing::Ship("g6", kPlant, At(50), {{kPallet}}, kDepot),
      /*7*/ testing::Receive("g7", kDepot, At(60), {{kPallet}}, kPlant),
      /*8*/ testing::Aggregate("g8", kDepot, At(70), v1::ACTION_DELETE, kPallet, {}),
      /*9*/ testing::Ship("g9", kDepot, At(80), {{kCase1}}, kShop),
      /*10*/ testing::Receive("g10", kShop, At(85), {{kCase1}}, kDepot),
      /*11*/ testing::Sell("g11", kShop, At(90), {{kCase1}}),
      /*12*/ testing::Destroy("g12", kDepot, At(95), {{kCase2}}),
  });
  CatchUp();
  const std::string shop_consumers = ConsumerNode(kShop);
  EXPECT_EQ(Out(kLotA), (std::vector<std::string>{
                            "shipped " + std::string(kLotA) + "->" + kPlant + " @1",
                            "received " + std::string(kLotA) + "->" + kPlant + " @2",
                            "transform " + std::string(kLotA) + "->" + kLotP + " @3"}));
  EXPECT_EQ(In(kLotP), (std::vector<std::string>{
                           "transform " + std::string(kLotA) + "->" + kLotP + " @3",
                           "transform " + std::string(kLotB) + "->" + kLotP + " @3"}));
  EXPECT_EQ(In(kPallet), (std::vector<std::string>{
                             "contains " + std::string(kCase1) + "->" + kPallet + " @5 removed@8",
                             "contains " + std::string(kCase2) + "->" + kPallet + " @5 removed@8"}));
  EXPECT_EQ(Out(kCase1),
            (std::vector<std::string>{
                "contains " + std::string(kCase1) + "->" + kPallet + " @5 removed@8",
                "shipped " + std::string(kCase1) + "->" + kDepot + " @6 via " + kPallet,
                "received " + std::string(kCase1) + "->" + kDepot + " @7 via " + kPallet,
                "shipped " + std::string(kCase1) + "->" + kShop + " @9",
                "received " + std::string(kCase1) + "->" + kShop + " @10",
                "sold " + std::string(kCase1) + "->" + shop_consumers + " @11"}));
  EXPECT_EQ(Out(kCase2).back(), "destroyed " + std::string(kCase2) + "->" + kDepot + " @12");
  EXPECT_EQ(Out(kPallet), (std::vector<std::string>{
                              "contained_by " + std::string(kPallet) + "->" + kCase1 + " @5 removed@8",
                              "contained_by " + std::string(kPallet) + "->" + kCase2 + " @5 removed@8",
                              "shipped " + std::string(kPallet) + "->" + kDepot + " @6",
                              "received " + std::string(kPallet) + "->" + kDepot + " @7"}));
  // Custody edges are stored under their object only: nothing walks into a party.
  EXPECT_TRUE(In(shop_consumers).empty());
  EXPECT_TRUE(In(kPlant).empty());
  EXPECT_TRUE(In(kCase1).empty());  // contained_by edges too: the contents come from "c" rows

  // Every field of one edge, as stored under both ends.
  const auto out = *OutEdges(Reader(kGenealogyView), kLotA, 10);
  const v1::GenealogyEdge& shipped = out[0];
  EXPECT_EQ(shipped.to_kind(), v1::NODE_KIND_PARTY);
  EXPECT_EQ(shipped.party(), kFarm);
  EXPECT_EQ(shipped.counterparty(), kPlant);
  EXPECT_EQ(shipped.quantity(), 500);
  EXPECT_EQ(shipped.uom(), "KGM");
  EXPECT_EQ(shipped.time_unix_micros(), At(10));
  const v1::GenealogyEdge& received = out[1];
  EXPECT_EQ(received.party(), kPlant);
  EXPECT_EQ(received.counterparty(), kFarm);
  EXPECT_EQ(received.location(), kPlantSite);
  // The row of each leaves out the party its key's `to` is (version 9); OutEdges gives it.
  const auto case2 = OutEdges(Reader(kGenealogyView), kCase2, 10);
  ASSERT_TRUE(case2.ok() && !case2->empty());
  EXPECT_EQ(case2->back().kind(), kEdgeDestroyed);
  EXPECT_EQ(case2->back().party(), kDepot);
  for (const auto& [kind, to] :
       {std::pair{kEdgeShipped, kPlant}, std::pair{kEdgeReceived, kPlant}}) {
    const std::string prefix = OutEdgePrefix(kLotA);
    size_t seen = 0;
    ASSERT_TRUE(Reader(kGenealogyView)
                    .Scan(prefix,
                          [&](std::string_view key, std::string_view value) {
                            const auto parts = ParseOutEdgeKey(key);
                            if (!parts.has_value() || parts->kind != kind) return true;
                            ++seen;
                            v1::GenealogyEdge stored;
                            EXPECT_TRUE(stored.ParseFromArray(value.data(),
                                                              static_cast<int>(value.size())));
                            EXPECT_EQ(parts->to, to);
                            if (kind == kEdgeShipped) {
                              EXPECT_EQ(stored.party(), kFarm);
                              EXPECT_TRUE(stored.counterparty().empty());
                            } else {
                              EXPECT_TRUE(stored.party().empty());
                              EXPECT_EQ(stored.counterparty(), kFarm);
                            }
                            return true;
                          })
                    .ok());
    EXPECT_EQ(seen, 1u) << kind;
  }
  const v1::GenealogyEdge& transform = out[2];
  EXPECT_EQ(transform.quantity(), 400);  // the input's quantity
  EXPECT_EQ(transform.to_kind(), v1::NODE_KIND_OBJECT);
  const auto in = *InEdges(Reader(kGenealogyView), kLotP, 10);
  ASSERT_FALSE(in.empty());
  EXPECT_EQ(DeterministicBytes(in[0]), DeterministicBytes(transform));
  const auto contains = *InEdges(Reader(kGenealogyView), kPallet, 1);
  ASSERT_EQ(contains.size(), 1u);
  EXPECT_EQ(contains[0].time_unix_micros(), At(40));
  EXPECT_EQ(contains[0].removed_time_unix_micros(), At(70));
  EXPECT_TRUE(CurrentChildren(Reader(kGenealogyView), kPallet)->empty());
}

TEST_F(GenealogyTest, AContainerMovesWhatIsInsideItNowRecursively) {
  Append({
      /*0*/ testing::Aggregate("n0", kPlant, At(0), v1::ACTION_ADD, kCase1,
                               {{kItem1}, {kLotP, 24}}),
      /*1*/ testing::Aggregate("n1", kPlant, At(1), v1::ACTION_ADD, kPallet, {{kCase1}, {kCase2}}),
      /*2*/ testing::Aggregate("n2", kPlant, At(2), v1::ACTION_DELETE, kPallet, {{kCase2}}),
      /*3*/ testing::Ship("n3", kPlant, At(3), {{kPallet}}, kDepot),
      // Packed and shipped in one AggregationEvent ADD.
      /*4*/ testing::Aggregate("n4", kPlant, At(4), v1::ACTION_ADD, kPallet2, {{kCase2}},
                               "shipping", kShop),
  });
  CatchUp();
  auto children = CurrentChildren(Reader(kGenealogyView), kPallet);
  ASSERT_TRUE(children.ok());
  ASSERT_EQ(children->size(), 1u);
  EXPECT_EQ((*children)[0].child(), kCase1);
  ASSERT_EQ((*children)[0].packings_size(), 1);
  EXPECT_EQ((*children)[0].packings(0).sequence(), 1u);
  std::deque<ContainedObject> inside;
  ASSERT_TRUE(AppendContainedObjects(Reader(kGenealogyView), kPallet, &inside).ok());
  ASSERT_EQ(inside.size(), 3u);  // the case, then its contents
  EXPECT_EQ(inside[0].child, kCase1);

  // The pallet, and everything inside it then (recursively), shipped to the depot; the case
  // unpacked before (kCase2) did not move.
  EXPECT_EQ(Out(kPallet).back(), "shipped " + std::string(kPallet) + "->" + kDepot + " @3");
  for (const char* inside_id : {kCase1, kItem1, kLotP}) {
    EXPECT_EQ(Out(inside_id).back(),
              "shipped " + std::string(inside_id) + "->" + kDepot + " @3 via " + kPallet);
  }
  // The holdings moved with it: the 24 of the lot inside the case inside the pallet left the
  // plant (which never recorded having them: a negative balance).
  auto lot = HoldingsOf(Reader(kGenealogyView), kLotP);
  ASSERT_TRUE(lot.ok());
  ASSERT_EQ(lot->size(), 1u);
  EXPECT_EQ((*lot)[0].party(), kPlant);
  EXPECT_EQ((*lot)[0].quantity(), -24);
  EXPECT_EQ((*lot)[0].last_sequence(), 3u);

  EXPECT_EQ(Out(kPallet2), (std::vector<std::string>{
                              "contained_by " + std::string(kPallet2) + "->" + kCase2 + " @4",
                              "shipped " + std::string(kPallet2) + "->" + kShop + " @4"}));
  EXPECT_EQ(Out(kCase2), (std::vector<std::string>{
                             "contains " + std::string(kCase2) + "->" + kPallet + " @1 removed@2",
                             "contains " + std::string(kCase2) + "->" + kPallet2 + " @4",
                             "shipped " + std::string(kCase2) + "->" + kShop + " @4"}));
}

TEST_F(GenealogyTest, WhatAContainerCarriesKeepsEachObjectsQuantityAndUnit) {
  // kLotB's row comes first (by child id); kLotP's after it has another quantity and unit.
  Append({testing::Aggregate("n0", kPlant, At(0), v1::ACTION_ADD, kCase1,
                             {{kLotP, 2, "LTR"}, {kLotB, 24, "KGM"}}),
          testing::Ship("n1", kPlant, At(1), {{kCase1}}, kDepot)});
  CatchUp();
  std::deque<ContainedObject> inside;
  ASSERT_TRUE(AppendContainedObjects(Reader(kGenealogyView), kCase1, &inside).ok());
  ASSERT_EQ(inside.size(), 2u);
  EXPECT_EQ(inside[0].child, kLotB);
  EXPECT_EQ(inside[0].quantity, 24);
  EXPECT_EQ(inside[0].uom, "KGM");
  EXPECT_EQ(inside[1].child, kLotP);
  EXPECT_EQ(inside[1].quantity, 2);
  EXPECT_EQ(inside[1].uom, "LTR");
  // The shipment moved each with its own quantity and unit.
  for (const auto& [object, quantity, uom] :
       {std::tuple{kLotB, -24.0, "KGM"}, std::tuple{kLotP, -2.0, "LTR"}}) {
    const auto held = HoldingsOf(Reader(kGenealogyView), object);
    ASSERT_TRUE(held.ok());
    ASSERT_EQ(held->size(), 1u) << object;
    EXPECT_EQ((*held)[0].quantity(), quantity) << object;
    EXPECT_EQ((*held)[0].uom(), uom) << object;
  }
}

TEST(ContainedObjectCodecTest, ReadsTheRowWithoutItsPackingsAndFallsBackToProtobuf) {
  v1::ContainedChild row;
  row.set_child(kCase1);
  row.set_quantity(3);
  row.set_uom("EA");
  row.add_packings()->set_sequence(7);
  ContainedObject read;
  ASSERT_TRUE(DecodeContainedObject(DeterministicBytes(row), &read).ok());
  EXPECT_EQ(read.child, kCase1);
  EXPECT_EQ(read.quantity, 3);
  EXPECT_EQ(read.uom, "EA");
  // Read into again: a field the next row does not have is not left from the one before.
  row.clear_uom();
  ASSERT_TRUE(DecodeContainedObject(DeterministicBytes(row), &read).ok());
  EXPECT_EQ(read.uom, "");
  // A field it does not know (number 9, a varint): protobuf reads the row.
  ASSERT_TRUE(DecodeContainedObject(DeterministicBytes(row) + "\x48\x01", &read).ok());
  EXPECT_EQ(read.child, kCase1);
  EXPECT_EQ(read.quantity, 3);
  const Status garbage = DecodeContainedObject("\xff\xff", &read);
  EXPECT_EQ(garbage.code(), StatusCode::kDataLoss) << garbage.ToString();
}

TEST_F(GenealogyTest, OutEdgeRowsStoreOnlyWhatTheirKeyDoesNotSay) {
  Append({
      /*0*/ testing::Commission("k0", kFarm, At(0), {{kLotA, 500, "KGM"}}),
      /*1*/ testing::Ship("k1", kFarm, At(10), {{kLotA, 500, "KGM"}}, kPlant),
  });
  CatchUp();
  size_t rows = 0;
  ASSERT_TRUE(runners_.at("views")
                  ->store()
                  .ForEach(kGenealogyView, [&](std::string_view key, std::string_view value) {
                    if (key.empty() || key[0] != 'o') return true;
                    ++rows;
                    v1::GenealogyEdge stored;
                    EXPECT_TRUE(
                        stored.ParseFromArray(value.data(), static_cast<int>(value.size())));
                    EXPECT_TRUE(stored.from().empty() && stored.to().empty() &&
                                stored.kind().empty());
                    EXPECT_EQ(stored.sequence(), 0u);
                    EXPECT_EQ(stored.time_unix_micros(), 0);
                    EXPECT_EQ(stored.party(), kFarm);  // what the key does not say is there
                    // The edge comes back whole from the key and the value.
                    v1::GenealogyEdge edge;
                    EXPECT_TRUE(ParseOutEdge(key, value, &edge).ok());
                    EXPECT_EQ(edge.from(), kLotA);
                    EXPECT_EQ(edge.to(), kPlant);
                    EXPECT_EQ(edge.kind(), kEdgeShipped);
                    EXPECT_EQ(edge.sequence(), 1u);
                    EXPECT_EQ(edge.time_unix_micros(), At(10));
                    EXPECT_EQ(edge.quantity(), 500);
                    return true;
                  })
                  .ok());
  EXPECT_EQ(rows, 1u);
}

// An in-edge row holds the same value as its out-edge row (genealogy version 6), so a walk
// into a node reads it without a second seek. Contains edges have none (version 8): InEdges
// gives them from the container's contained_by rows, a removal included.
TEST_F(GenealogyTest, InEdgeRowsHoldTheirOutEdgeRowsValue) {
  Append({
      /*0*/ testing::Transform("v0", kPlant, At(0), {{kLotA, 400, "KGM"}}, {{kLotP, 1000}},
                               kPlantSite),
      /*1*/ testing::Aggregate("v1", kPlant, At(1), v1::ACTION_ADD, kPallet, {{kCase1}}),
      /*2*/ testing::Aggregate("v2", kPlant, At(2), v1::ACTION_DELETE, kPallet, {{kCase1}}),
  });
  CatchUp();
  std::map<std::string, std::string> out_rows;
  std::map<std::string, std::string> in_rows;
  ASSERT_TRUE(runners_.at("views")
                  ->store()
                  .ForEach(kGenealogyView, [&](std::string_view key, std::string_view value) {
                    if (key.empty()) return true;
                    if (key[0] == 'o') out_rows.emplace(key, value);
                    if (key[0] == 'i') in_rows.emplace(key, value);
                    return true;
                  })
                  .ok());
  ASSERT_EQ(in_rows.size(), 1u);  // the transform's
  for (const auto& [in_key, value] : in_rows) {
    const std::optional<OutEdgeKeyParts> parts = ParseInEdgeKey(in_key);
    ASSERT_TRUE(parts.has_value());
    const std::string out_key = Key("o")
                                    .Str(parts->from)
                                    .Time(parts->time_unix_micros)
                                    .U64(parts->sequence)
                                    .Str(parts->kind)
                                    .Str(parts->to)
                                    .str();
    ASSERT_EQ(out_rows.count(out_key), 1u) << parts->kind;
    EXPECT_EQ(value, out_rows.at(out_key)) << parts->kind;
  }
  const auto contains = InEdges(Reader(kGenealogyView), kPallet, 10);
  ASSERT_TRUE(contains.ok());
  ASSERT_EQ(contains->size(), 1u);
  EXPECT_EQ((*contains)[0].from(), kCase1);
  EXPECT_TRUE((*contains)[0].removed());
  EXPECT_EQ((*contains)[0].removed_sequence(), 2u);
  EXPECT_EQ((*contains)[0].kind(), kEdgeContains);
  EXPECT_EQ((*contains)[0].to(), kPallet);
  EXPECT_FALSE(ParseInEdgeKey(OutEdgePrefix(kLotA)).has_value());
}

// InEdges merges the two sources of edges into a node in time order, and keeps to its limit.
TEST_F(GenealogyTest, InEdgesMergeTransformsAndContentsInTimeOrder) {
  Append({
      testing::Aggregate("m0", kPlant, At(0), v1::ACTION_ADD, kPallet, {{kCase1}}),
      testing::Transform("m1", kPlant, At(1), {{kLotA, 400, "KGM"}}, {{kPallet, 1}}),
      testing::Aggregate("m2", kPlant, At(2), v1::ACTION_ADD, kPallet, {{kCase2}}),
  });
  CatchUp();
  EXPECT_EQ(In(kPallet), (std::vector<std::string>{
                             "contains " + std::string(kCase1) + "->" + kPallet + " @0",
                             "transform " + std::string(kLotA) + "->" + kPallet + " @1",
                             "contains " + std::string(kCase2) + "->" + kPallet + " @2"}));
  const auto first_two = InEdges(Reader(kGenealogyView), kPallet, 2);
  ASSERT_TRUE(first_two.ok());
  ASSERT_EQ(first_two->size(), 2u);
  EXPECT_EQ((*first_two)[1].kind(), kEdgeTransform);
}

TEST_F(GenealogyTest, MalformedOutEdgeKeysAreRejected) {
  const std::string from = OutEdgePrefix(kLotA);
  const std::string sixteen(16, '\x01');
  const std::string good = from + sixteen + "shipped" + '\0' + kPlant + '\0';
  const auto parts = ParseOutEdgeKey(good);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->from, kLotA);
  EXPECT_EQ(parts->kind, "shipped");
  EXPECT_EQ(parts->to, kPlant);
  EXPECT_EQ(parts->sequence, 0x0101010101010101u);
  for (const std::string& bad : {
           std::string("i") + good.substr(1),                                         // other tag
           from + sixteen + "shipped" + '\0',                                         // no to
           from + sixteen + std::string(1, '\0') + kPlant + '\0',                     // empty kind
           from + sixteen + "shipped" + '\0' + kPlant,                                // to unended
           from + sixteen + "shipped" + '\0' + "a" + '\0' + "b" + '\0',               // extra part
           std::string("o") + '\0' + sixteen + "shipped" + '\0' + kPlant + '\0',      // empty from
           good.substr(0, from.size() + 12),                                          // cut short
       }) {
    EXPECT_FALSE(ParseOutEdgeKey(bad).has_value()) << bad;
    v1::GenealogyEdge edge;
    EXPECT_EQ(ParseOutEdge(bad, "", &edge).code(), StatusCode::kDataLoss);
  }
}

TEST(OutEdgeValueTest, ReadsWhatProtobufWritesAndRejectsWhatItCannotRead) {
  v1::GenealogyEdge edge;
  edge.set_from(kLotA);  // an older layout's fields, and others the view does not read: skipped
  edge.set_kind("contains");
  edge.set_sequence(7);
  edge.set_time_unix_micros(-5);
  edge.set_to_kind(v1::NODE_KIND_LOCATION);
  edge.set_quantity(12.5);
  edge.set_uom("KGM");
  edge.set_party(kPlant);
  edge.set_counterparty(kDepot);
  edge.set_location(kPlantSite);
  edge.set_via(kPallet);
  edge.set_removed(true);
  edge.set_removed_time_unix_micros(-1234567);  // negative: a ten-byte varint
  edge.set_removed_sequence(9);
  std::string value = DeterministicBytes(edge);
  value.append("\xa8\x06\x01");          // field 101, varint: unknown to this build
  value.append("\xb5\x06\x01\x02\x03\x04");  // field 102, 32-bit
  OutEdgeValueView view;
  ASSERT_TRUE(ParseOutEdgeValue(value, &view));
  EXPECT_EQ(view.to_kind, v1::NODE_KIND_LOCATION);
  EXPECT_EQ(view.quantity, 12.5);
  EXPECT_EQ(view.uom, "KGM");
  EXPECT_EQ(view.party, kPlant);
  EXPECT_EQ(view.location, kPlantSite);
  EXPECT_TRUE(view.removed);
  EXPECT_EQ(view.removed_time_unix_micros, -1234567);

  ASSERT_TRUE(ParseOutEdgeValue("", &view));  // every field at its default
  EXPECT_EQ(view.quantity, 0);
  EXPECT_TRUE(view.party.empty());
  EXPECT_FALSE(view.removed);

  const std::string party_field = DeterministicBytes([] {
    v1::GenealogyEdge only_party;
    only_party.set_party(kPlant);
    return only_party;
  }());
  for (const std::string& bad : {
           party_field.substr(0, party_field.size() - 1),  // a string cut short
           std::string("\x39\x00\x00", 3),                 // a double cut short
           std::string("\x68\xff\xff"),                    // a varint cut short
           std::string("\x00\x01", 2),                     // field 0
           std::string("\x6b\x01"),                        // wire type 3 (group)
           party_field + "\x80",                           // a tag cut short
           party_field + "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",  // a tag too long
       }) {
    EXPECT_FALSE(ParseOutEdgeValue(bad, &view)) << HexEncode(bad);
  }
}

TEST(HolderValueTest, ReadsWhatProtobufWritesAndRejectsWhatItCannotRead) {
  v1::Holding holding;
  holding.set_object_id(kLotA);  // fields the trace does not read: skipped
  holding.set_party(kDepot);
  holding.set_quantity(-3.25);  // a missing receipt
  holding.set_uom("KGM");
  holding.set_location(kPlantSite);
  holding.set_last_sequence(41);
  holding.set_last_time_unix_micros(-7);
  std::string value = DeterministicBytes(holding);
  value.append("\xa8\x06\x01");  // field 101, varint: unknown to this build
  HolderValueView view;
  ASSERT_TRUE(ParseHolderValue(value, &view));
  EXPECT_EQ(view.quantity, -3.25);
  EXPECT_EQ(view.uom, "KGM");
  EXPECT_EQ(view.location, kPlantSite);
  ASSERT_TRUE(ParseHolderValue("", &view));
  EXPECT_EQ(view.quantity, 0);
  EXPECT_TRUE(view.uom.empty());
  EXPECT_FALSE(ParseHolderValue(value.substr(0, value.size() - 4), &view));  // cut short
}

}  // namespace
}  // namespace traceledger::projections
