#include "projections/chain/history.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "projections/chain/testing/chain_events.h"
#include "projections/keys.h"

namespace traceledger::projections {
namespace {

using testing::At;
using testing::ChainFixture;

constexpr char kFarm[] = "9521001000006";
constexpr char kPlant[] = "9521002000003";
constexpr char kLab[] = "91110108MA01000017";
constexpr char kLotA[] = "urn:epc:class:lgtin:9521001.000010.A1";
constexpr char kLotP[] = "urn:epc:class:lgtin:9521002.010001.P1";
constexpr char kCase[] = "urn:epc:id:sgtin:9521002.010001.1001";
constexpr char kPallet[] = "urn:epc:id:sscc:9521002.0000000101";

class HistoryTest : public ChainFixture {
 protected:
  // Every row of the view under `prefix`: its value's bytes and what they decode to.
  std::vector<std::pair<std::string, v1::HistoryItem>> Rows(std::string_view prefix) {
    std::vector<std::pair<std::string, v1::HistoryItem>> out;
    EXPECT_TRUE(Reader(kHistoryView)
                    .Scan(prefix,
                          [&](std::string_view, std::string_view value) {
                            auto& [bytes, item] = out.emplace_back(value, v1::HistoryItem());
                            EXPECT_TRUE(item.ParseFromString(bytes));
                            return true;
                          })
                    .ok());
    return out;
  }
};

std::vector<std::string> Steps(const std::vector<v1::HistoryItem>& items) {
  std::vector<std::string> out;
  for (const v1::HistoryItem& item : items) {
    out.push_back(item.event_id() + "/" + item.role() + "/" + item.movement());
  }
  return out;
}

TEST_F(HistoryTest, EveryEventNamingAnObjectInTimeOrderWithItsRole) {
  v1::Event sampling = testing::Envelope("urn:uuid:sampling-1", kLab);
  sampling.mutable_sampling_result()->set_sample_id("S-1");
  sampling.mutable_sampling_result()->add_object_ids(kLotA);
  testing::SetTime(At(25), sampling.mutable_sampling_result()->mutable_sampled_at());
  Append({
      testing::Commission("e-commission", kFarm, At(0), {{kLotA, 500, "KGM"}}),
      testing::Ship("e-ship", kFarm, At(10), {{kLotA, 500, "KGM"}}, kPlant),
      testing::Receive("e-receive", kPlant, At(20), {{kLotA, 500, "KGM"}}, kFarm),
      testing::Transform("e-transform", kPlant, At(30), {{kLotA, 500, "KGM"}}, {{kLotP, 1000}}),
      testing::Aggregate("e-pack", kPlant, At(40), v1::ACTION_ADD, kPallet, {{kCase}}),
      sampling,  // appended last, but happened at minute 25
  });
  CatchUp();
  // Every row is its item's canonical encoding: the role each row appends to the bytes
  // serialized once per event gives what serializing the whole item would. No row holds the
  // sequence and time its key says. The rows of an event naming two objects (the transform,
  // the packing) hold only their role; the rest is in the event's `e` row, once.
  const auto rows = Rows("h");
  size_t role_only = 0;
  for (const auto& [value, item] : rows) {
    EXPECT_FALSE(item.role().empty());
    EXPECT_EQ(value, DeterministicBytes(item));
    EXPECT_EQ(item.sequence(), 0u);
    EXPECT_EQ(item.event_time_unix_micros(), 0);
    if (item.event_type().empty()) {
      EXPECT_TRUE(item.event_id().empty());
      ++role_only;
    }
  }
  EXPECT_EQ(rows.size(), 8u);  // lot A 5, lot P, the pallet and the case
  EXPECT_EQ(role_only, 4u);
  std::vector<std::string> shared;
  for (const auto& [value, item] : Rows("e")) {
    EXPECT_TRUE(item.role().empty());
    shared.push_back(item.event_id());
  }
  EXPECT_EQ(shared, (std::vector<std::string>{"e-transform", "e-pack"}));
  // The projection appends the role as the item's last field: a field added after it must
  // change that.
  EXPECT_EQ(v1::HistoryItem::descriptor()->field_count(), 8);
  auto history = ObjectHistory(Reader(kHistoryView), kLotA, 100);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  EXPECT_EQ(Steps(*history), (std::vector<std::string>{
                                 "e-commission/object/commission", "e-ship/object/ship",
                                 "e-receive/object/receive", "urn:uuid:sampling-1/object/none",
                                 "e-transform/input/transform"}));
  EXPECT_EQ((*history)[1].sequence(), 1u);
  EXPECT_EQ((*history)[1].event_time_unix_micros(), At(10));
  EXPECT_EQ((*history)[1].event_type(), "ObjectEvent");
  EXPECT_EQ((*history)[1].biz_step(), "shipping");
  EXPECT_EQ((*history)[1].submitter_id(), kFarm);
  EXPECT_EQ((*history)[3].event_type(), "SamplingResult");
  EXPECT_EQ((*history)[3].sequence(), 5u);

  const auto lot_p = ObjectHistory(Reader(kHistoryView), kLotP, 100);
  ASSERT_TRUE(lot_p.ok()) << lot_p.status().ToString();
  EXPECT_EQ(Steps(*lot_p), std::vector<std::string>{"e-transform/output/transform"});
  EXPECT_EQ((*lot_p)[0].event_type(), "TransformationEvent");
  EXPECT_EQ((*lot_p)[0].submitter_id(), kPlant);
  EXPECT_EQ((*lot_p)[0].sequence(), 3u);
  EXPECT_EQ((*lot_p)[0].event_time_unix_micros(), At(30));
  EXPECT_EQ(Steps(*ObjectHistory(Reader(kHistoryView), kPallet, 100)),
            std::vector<std::string>{"e-pack/parent/pack"});
  EXPECT_EQ(Steps(*ObjectHistory(Reader(kHistoryView), kCase, 100)),
            std::vector<std::string>{"e-pack/child/pack"});
}

TEST_F(HistoryTest, LimitKeepsTheOldestAndUnknownObjectsHaveNone) {
  std::vector<v1::Event> events;
  for (int i = 0; i < 10; ++i) {
    events.push_back(testing::Ship(std::string("e").append(std::to_string(i)), kFarm, At(100 - i), {{kCase}}, kPlant));
  }
  Append(events);
  CatchUp();
  auto history = ObjectHistory(Reader(kHistoryView), kCase, 3);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(Steps(*history), (std::vector<std::string>{"e9/object/ship", "e8/object/ship",
                                                       "e7/object/ship"}));
  EXPECT_TRUE(ObjectHistory(Reader(kHistoryView), "urn:epc:id:sgtin:9521002.010001.100", 10)
                  ->empty());  // a prefix of kCase is another object
  EXPECT_TRUE(ObjectHistory(Reader(kHistoryView), kCase, 0)->empty());
}

TEST_F(HistoryTest, WhoSubmittedAnEventNamingAnObject) {
  std::vector<v1::Event> events;
  for (int i = 0; i < 5; ++i) {  // the plant's event is the last of the case's history
    events.push_back(testing::Ship("f" + std::to_string(i), kFarm, At(i), {{kCase}}, kPlant));
  }
  events.push_back(testing::Receive("p0", kPlant, At(10), {{kCase}}, kFarm));
  // Names two objects: its submitter is in its `e` row.
  events.push_back(testing::Aggregate("p1", kPlant, At(20), v1::ACTION_ADD, kPallet, {{kCase}}));
  Append(events);
  CatchUp();
  for (const auto& [submitter, object, expected] :
       {std::tuple{kFarm, kCase, true}, std::tuple{kPlant, kCase, true},
        std::tuple{kLab, kCase, false}, std::tuple{kFarm, kLotA, false},
        std::tuple{kPlant, kPallet, true}, std::tuple{kFarm, kPallet, false}}) {
    auto submitted = SubmittedEventNaming(Reader(kHistoryView), object, submitter);
    ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
    EXPECT_EQ(*submitted, expected) << submitter << " " << object;
  }
}

TEST_F(HistoryTest, ARowWhoseEventRowIsMissingOrThatDoesNotDecodeIsDataLoss) {
  // Names two objects: their rows hold only their role, the rest is in the event's `e` row.
  Append({testing::Aggregate("p1", kPlant, At(20), v1::ACTION_ADD, kPallet, {{kCase}})});
  CatchUp();
  auto history = ObjectHistory(Reader(kHistoryView), kCase, 10);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 1u);
  const uint64_t sequence = (*history)[0].sequence();
  v1::HistoryItem role_only;
  role_only.set_role((*history)[0].role());
  const std::string value = DeterministicBytes(role_only);
  // The row as stored reads back whole through its `e` row.
  v1::HistoryItem item;
  ASSERT_TRUE(HistoryItemOfRow(Reader(kHistoryView), HistoryKeyParts{kCase, At(20), sequence},
                               value, &item)
                  .ok());
  EXPECT_EQ(item.event_id(), "p1");
  EXPECT_EQ(item.role(), role_only.role());
  // The same row naming an entry that has no `e` row, and a value that does not decode.
  const Status missing = HistoryItemOfRow(
      Reader(kHistoryView), HistoryKeyParts{kCase, At(20), sequence + 1}, value, &item);
  EXPECT_EQ(missing.code(), StatusCode::kDataLoss) << missing.ToString();
  EXPECT_NE(missing.ToString().find("event row that is missing"), std::string::npos)
      << missing.ToString();
  const Status garbage = HistoryItemOfRow(
      Reader(kHistoryView), HistoryKeyParts{kCase, At(20), sequence}, "\xff\xff", &item);
  EXPECT_EQ(garbage.code(), StatusCode::kDataLoss) << garbage.ToString();
}

TEST(HistoryKeyTest, ARowKeyTakenApartAndMalformedOnesRefused) {
  const std::string key = Key("h").Str(kCase).Time(At(10)).U64(7).str();
  const std::optional<HistoryKeyParts> parts = ParseHistoryKey(key);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->object, kCase);
  EXPECT_EQ(parts->time_unix_micros, At(10));
  EXPECT_EQ(parts->sequence, 7u);
  EXPECT_FALSE(ParseHistoryKey(key.substr(0, key.size() - 1)).has_value());  // cut short
  EXPECT_FALSE(ParseHistoryKey(key + "x").has_value());
  EXPECT_FALSE(ParseHistoryKey("e" + key.substr(1)).has_value());             // another row
  EXPECT_FALSE(ParseHistoryKey(Key("h").Str("").Time(At(10)).U64(7).str()).has_value());
  EXPECT_FALSE(ParseHistoryKey("").has_value());
}

}  // namespace
}  // namespace traceledger::projections
