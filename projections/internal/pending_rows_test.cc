#include "projections/internal/pending_rows.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "projections/keys.h"

namespace traceledger::projections {
namespace {

// A model of what PendingRows must answer: one ordered map of every row.
using Model = std::map<std::string, std::optional<std::string>>;

std::vector<std::pair<std::string, std::optional<std::string>>> InOrder(const PendingRows& rows) {
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  rows.ForEachInOrder([&](const std::string& key, const std::optional<std::string>& value) {
    out.emplace_back(key, value);
  });
  return out;
}

std::vector<std::string> UnderKeys(const PendingRows& rows, std::string_view prefix) {
  std::vector<const PendingRows::Row*> found;
  rows.Under(prefix, &found);
  std::vector<std::string> out;
  for (const PendingRows::Row* row : found) out.push_back(row->first);
  return out;
}

TEST(PendingRowsTest, RowsComeOutInKeyOrderAcrossGroupsAndKeysWithoutOne) {
  // Keys with a first component ("o" id 0x00 ...), keys without one ("z", "o" alone, "oa"), and
  // numbers right after the tag, whose 0x00 bytes make groups of their own.
  std::mt19937 random(7);
  const std::vector<std::string> ids = {"a", "ab", "b", "urn:x:1", "urn:x:10", "urn:x:2"};
  PendingRows rows;
  Model model;
  for (int i = 0; i < 2000; ++i) {
    std::string key;
    switch (random() % 4) {
      case 0: key = Key("o").Str(ids[random() % ids.size()]).U64(random() % 50).str(); break;
      case 1: key = Key("i").Str(ids[random() % ids.size()]).Str(ids[random() % ids.size()]).str(); break;
      case 2: key = Key("x").U64(random() % 300).str(); break;
      default: key = std::string("o") + ids[random() % ids.size()]; break;  // no 0x00
    }
    if (random() % 5 == 0) {
      rows.Delete(key);
      model[key] = std::nullopt;
    } else {
      const std::string value = std::to_string(i);
      rows.Put(key, value);
      model[key] = value;
    }
  }
  const auto ordered = InOrder(rows);
  ASSERT_EQ(ordered.size(), model.size());
  EXPECT_EQ(rows.size(), model.size());
  size_t index = 0;
  for (const auto& row : model) {
    EXPECT_EQ(ordered[index].first, row.first) << "row " << index;
    EXPECT_EQ(ordered[index].second, row.second) << "row " << index;
    const std::optional<std::string>* found = rows.Find(row.first);
    ASSERT_NE(found, nullptr) << row.first;
    EXPECT_EQ(*found, row.second);
    ++index;
  }
  EXPECT_EQ(rows.Find(Key("o").Str("never").str()), nullptr);
  EXPECT_EQ(rows.Find("zz"), nullptr);

  // Under a prefix: a whole first component, a longer one, and shorter ones spanning groups.
  for (const std::string& prefix :
       {Key("o").Str("a").str(), Key("o").Str("ab").U64(3).str(), std::string("o"),
        std::string("oa"), std::string("i"), std::string("x"), std::string("urn"), std::string()}) {
    std::vector<std::string> expected;
    for (const auto& [key, value] : model) {
      if (key.compare(0, prefix.size(), prefix) == 0) expected.push_back(key);
    }
    EXPECT_EQ(UnderKeys(rows, prefix), expected) << "prefix of " << prefix.size() << " bytes";
  }

  rows.Clear();
  EXPECT_TRUE(rows.empty());
  EXPECT_TRUE(InOrder(rows).empty());
  EXPECT_EQ(rows.Find(model.begin()->first), nullptr);
}

}  // namespace
}  // namespace traceledger::projections
