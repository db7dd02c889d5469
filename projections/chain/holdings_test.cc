#include "projections/chain/holdings.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "projections/chain/testing/chain_events.h"

namespace traceledger::projections {
namespace {

using testing::At;
using testing::ChainFixture;

constexpr char kFarm[] = "9521001000006";
constexpr char kPlant[] = "9521002000003";
constexpr char kDepot[] = "9521003000000";
constexpr char kShop[] = "9521004000007";
constexpr char kShopSite[] = "urn:epc:id:sgln:9521004.00001.0";
constexpr char kLotA[] = "urn:epc:class:lgtin:9521001.000010.A1";
constexpr char kLotP[] = "urn:epc:class:lgtin:9521002.010001.P1";
constexpr char kCase1[] = "urn:epc:id:sgtin:9521002.010001.1001";
constexpr char kCase2[] = "urn:epc:id:sgtin:9521002.010001.1002";
constexpr char kUnknownCase[] = "urn:epc:id:sgtin:9521002.010001.1999";
constexpr char kPallet[] = "urn:epc:id:sscc:9521002.0000000101";

class HoldingsTest : public ChainFixture {
 protected:
  // "party object quantity uom"
  std::vector<std::string> Of(std::string_view object) {
    auto rows = HoldingsOf(Reader(kGenealogyView), object);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return Describe(*rows);
  }
  std::vector<std::string> At_(std::string_view party) {
    auto rows = HoldingsAt(Reader(kGenealogyView), party);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return Describe(*rows);
  }
  static std::vector<std::string> Describe(const std::vector<v1::Holding>& rows) {
    std::vector<std::string> out;
    for (const v1::Holding& h : rows) {
      std::ostringstream s;
      s << h.party() << " " << h.object_id() << " " << h.quantity() << " " << h.uom();
      out.push_back(s.str());
    }
    return out;
  }
  static std::string Row(std::string_view party, std::string_view object, double quantity,
                         std::string_view uom) {
    std::ostringstream s;
    s << party << " " << object << " " << quantity << " " << uom;
    return s.str();
  }
};

TEST(HoldingCodecTest, WritesWhatProtobufWritesAndReadsItBack) {
  std::mt19937_64 random(11);
  auto text = [&]() {
    const size_t sizes[] = {0, 5, 30, 150};  // 150: a length of two bytes
    return std::string(sizes[random() % 4], static_cast<char>('a' + random() % 26));
  };
  const double quantities[] = {0.0, -0.0, 3.0, -7.5, 1e-12};
  v1::Holding decoded;  // read into again and again, as the projection does
  std::string bytes;
  for (int i = 0; i < 500; ++i) {
    v1::Holding holding;
    holding.set_object_id(text());
    holding.set_party(text());
    holding.set_quantity(quantities[random() % 5]);
    holding.set_uom(text());
    holding.set_location(text());
    holding.set_last_sequence(random() % 3 == 0 ? 0 : random());
    holding.set_last_time_unix_micros(random() % 3 == 0 ? 0 : static_cast<int64_t>(random()));
    EncodeHolding(holding, &bytes);
    ASSERT_EQ(bytes, DeterministicBytes(holding)) << holding.ShortDebugString();
    ASSERT_TRUE(DecodeHolding(bytes, &decoded));
    ASSERT_EQ(DeterministicBytes(decoded), bytes) << holding.ShortDebugString();
  }
  EXPECT_FALSE(DecodeHolding(bytes + std::string("\x48\x01", 2), &decoded));  // field 9
  // Every field of Holding is written (a field added later fails here until it is).
  EXPECT_EQ(v1::Holding::descriptor()->field_count(), 7);
}

TEST_F(HoldingsTest, QuantitiesFollowEveryMovement) {
  Append({
      testing::Commission("h0", kFarm, At(0), {{kLotA, 500, "KGM"}}),
      testing::Ship("h1", kFarm, At(10), {{kLotA, 300, "KGM"}}, kPlant),
      testing::Receive("h2", kPlant, At(20), {{kLotA, 300, "KGM"}}, kFarm),
      testing::Transform("h3", kPlant, At(30), {{kLotA, 250, "KGM"}}, {{kLotP, 1000}}),
      testing::Ship("h4", kPlant, At(40), {{kLotP, 600}}, kShop),
      testing::Receive("h5", kShop, At(50), {{kLotP, 600}}, kPlant, kShopSite),
      testing::Sell("h6", kShop, At(60), {{kLotP, 30}}),
      testing::Removal("h7", kShop, At(70), "urn:uuid:recall-1", {kLotP, 20}),
      testing::Destroy("h8", kShop, At(80), {{kLotP, 50}}),
  });
  CatchUp();
  EXPECT_EQ(Of(kLotA), (std::vector<std::string>{Row(kFarm, kLotA, 200, "KGM"),
                                                 Row(kPlant, kLotA, 50, "KGM")}));
  EXPECT_EQ(Of(kLotP), (std::vector<std::string>{Row(kPlant, kLotP, 400, "EA"),
                                                 Row(kShop, kLotP, 500, "EA")}));
  // The row leaves out the object and the party, which its key says; the queries fill them in.
  auto stored = Reader(kGenealogyView).Get(HolderKey(kLotA, kFarm));
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_TRUE(stored->has_value());
  v1::Holding row;
  ASSERT_TRUE(row.ParseFromString(**stored));
  EXPECT_EQ(row.object_id(), "");
  EXPECT_EQ(row.party(), "");
  EXPECT_EQ(row.quantity(), 200);
  auto shop = HoldingsAt(Reader(kGenealogyView), kShop);
  ASSERT_TRUE(shop.ok());
  ASSERT_EQ(shop->size(), 1u);
  EXPECT_EQ((*shop)[0].location(), kShopSite);  // kept from the receipt
  EXPECT_EQ((*shop)[0].last_sequence(), 8u);
  EXPECT_EQ((*shop)[0].last_time_unix_micros(), At(80));
}

TEST_F(HoldingsTest, PalletCustodyMovesItsContents) {
  Append({
      testing::Commission("p0", kPlant, At(0), {{kCase1}, {kCase2}}),
      testing::Aggregate("p1", kPlant, At(1), v1::ACTION_ADD, kPallet, {{kCase1}, {kCase2}}),
      testing::Ship("p2", kPlant, At(2), {{kPallet}}, kDepot),
      testing::Receive("p3", kDepot, At(3), {{kPallet}}, kPlant),
      testing::Aggregate("p4", kDepot, At(4), v1::ACTION_DELETE, kPallet, {{kCase2}}),
      testing::Ship("p5", kDepot, At(5), {{kPallet}}, kShop),
  });
  CatchUp();
  // The model creates no holding when a pallet is packed, so the packer's pallet goes to -1 when
  // it ships (docs/formats/supply-chain-model.md: only the listed movements change quantities).
  EXPECT_EQ(At_(kPlant), (std::vector<std::string>{Row(kPlant, kPallet, -1, "EA")}));
  // The depot received the pallet with both cases, took case 2 out, and shipped the pallet on.
  EXPECT_EQ(At_(kDepot), (std::vector<std::string>{Row(kDepot, kCase2, 1, "EA")}));
  EXPECT_TRUE(At_(kShop).empty());  // shipped, not yet received
  EXPECT_TRUE(Of(kCase1).empty());
}

TEST_F(HoldingsTest, NegativeBalancesAreKeptAndZeroRowsGo) {
  Append({
      testing::Sell("n0", kShop, At(0), {{kUnknownCase}}),  // never received: a missing receipt
      testing::Commission("n1", kFarm, At(1), {{kLotA, 0.1, "KGM"}}),
      testing::Commission("n2", kFarm, At(2), {{kLotA, 0.2, "KGM"}}),
      testing::Ship("n3", kFarm, At(3), {{kLotA, 0.3, "KGM"}}, kPlant),
  });
  CatchUp();
  EXPECT_EQ(Of(kUnknownCase), std::vector<std::string>{Row(kShop, kUnknownCase, -1, "EA")});
  EXPECT_EQ(At_(kShop), std::vector<std::string>{Row(kShop, kUnknownCase, -1, "EA")});
  EXPECT_TRUE(Of(kLotA).empty());  // 0.1 + 0.2 - 0.3 is zero
  EXPECT_TRUE(At_(kFarm).empty());
}

}  // namespace
}  // namespace traceledger::projections
