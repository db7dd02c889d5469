#include "projections/internal/pending_rows.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "projections/keys.h"

namespace traceledger::projections {
namespace {

// A model of what PendingRows must answer: one ordered map of every row.
using Model = std::map<std::string, std::optional<std::string>>;

// A pending row's value as the model holds it: nullopt for a deletion.
std::optional<std::string> ValueOf(const PendingRows::Row* row) {
  if (row == nullptr || !row->has_value()) return std::nullopt;
  return std::string(row->value());
}

std::vector<std::pair<std::string, std::optional<std::string>>> InOrder(const PendingRows& rows) {
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  rows.ForEachInOrder([&](const PendingRows::Row& row) {
    out.emplace_back(std::string(row.key()), ValueOf(&row));
  });
  return out;
}

std::vector<std::string> UnderKeys(const PendingRows& rows, std::string_view prefix) {
  std::vector<const PendingRows::Row*> found;
  rows.Under(prefix, &found);
  std::vector<std::string> out;
  for (const PendingRows::Row* row : found) out.push_back(std::string(row->key()));
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
    const PendingRows::Row* found = rows.Find(row.first);
    ASSERT_NE(found, nullptr) << row.first;
    EXPECT_EQ(ValueOf(found), row.second);
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

TEST(PendingRowsTest, KeysOfAnyBytesComeOutInByteOrder) {
  // ForEachInOrder sorts by 8 bytes of key at a time and skips the bytes all keys of a run
  // share: keys with long shared prefixes, keys that are prefixes of others (whose missing
  // bytes read as 0x00, like the 0x00 bytes of longer keys), 0x00 and 0xff bytes, and runs of
  // every length around the few that are compared instead and the many that are radix sorted.
  std::mt19937 random(3);
  const std::string bytes = std::string("\0\x01" "a\xff", 4);
  const std::vector<std::string> stems = {"", std::string(20, 'p'), std::string(9, '\0'),
                                          "o" + std::string(1, '\0') + "urn:epc:id:sgtin:1.2."};
  for (size_t count : {1, 2, 15, 16, 17, 40, 255, 256, 257, 3000, 20000}) {
    PendingRows rows;
    std::set<std::string> model;
    while (model.size() < count) {
      std::string key = stems[random() % stems.size()];
      const size_t tail = random() % 20;
      for (size_t i = 0; i < tail; ++i) key += bytes[random() % bytes.size()];
      if (key.empty()) continue;
      rows.Put(key, "v");
      model.insert(key);
    }
    std::vector<std::string> ordered;
    for (const auto& [key, value] : InOrder(rows)) ordered.push_back(key);
    EXPECT_EQ(ordered, std::vector<std::string>(model.begin(), model.end())) << count << " keys";
  }
}

TEST(PendingRowsTest, PutAfterDeleteAndDeleteOfAnUnseenKeyAreOneRowEach) {
  PendingRows rows;
  const std::string key = Key("o").Str("urn:x:1").U64(1).str();
  rows.Put(key, "a");
  rows.Delete(key);
  ASSERT_NE(rows.Find(key), nullptr);
  EXPECT_EQ(ValueOf(rows.Find(key)), std::nullopt);  // a deletion, not an untouched key
  rows.Put(key, "b");
  ASSERT_NE(rows.Find(key), nullptr);
  EXPECT_EQ(ValueOf(rows.Find(key)), "b");
  const std::string unseen = Key("o").Str("urn:x:1").U64(2).str();
  rows.Delete(unseen);
  ASSERT_NE(rows.Find(unseen), nullptr);
  EXPECT_EQ(ValueOf(rows.Find(unseen)), std::nullopt);
  EXPECT_EQ(rows.size(), 2u);
  const auto ordered = InOrder(rows);
  ASSERT_EQ(ordered.size(), 2u);
  EXPECT_EQ(ordered[0].first, key);
  EXPECT_EQ(ordered[0].second, "b");
  EXPECT_EQ(ordered[1].first, unseen);
  EXPECT_EQ(ordered[1].second, std::nullopt);
  // Under lists deletions too (a scan must hide the stored row they delete).
  EXPECT_EQ(UnderKeys(rows, Key("o").Str("urn:x:1").str()),
            (std::vector<std::string>{key, unseen}));
}

TEST(PendingRowsTest, KeysWithoutAFirstComponent) {
  PendingRows rows;
  // No 0x00 after the tag, a lone tag, and a 0x00 right after the tag: none has one.
  for (const std::string& key : {std::string("z"), std::string("ob"), std::string("oa"),
                                std::string("o\0", 2), std::string("n")}) {
    rows.Put(key, key);
  }
  const std::string grouped = Key("o").Str("a").str();  // "oa" 0x00
  rows.Put(grouped, "grouped");
  EXPECT_EQ(UnderKeys(rows, "o"),
            (std::vector<std::string>{std::string("o\0", 2), "oa", grouped, "ob"}));
  EXPECT_EQ(UnderKeys(rows, "oa"), (std::vector<std::string>{"oa", grouped}));
  EXPECT_EQ(UnderKeys(rows, "q"), (std::vector<std::string>{}));
  ASSERT_NE(rows.Find("n"), nullptr);
  EXPECT_EQ(ValueOf(rows.Find("n")), "n");
  std::vector<std::string> keys;
  for (const auto& [key, value] : InOrder(rows)) keys.push_back(key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"n", std::string("o\0", 2), "oa", grouped, "ob", "z"}));
}

TEST(PendingRowsTest, ScannedRowsStayValidWhileRowsAreAddedAndChanged) {
  // MergedScan holds the rows Under returned while its visitor may write the same rows: they
  // must not move when the table grows.
  PendingRows rows;
  const std::string object = Key("o").Str("urn:x:1").str();
  for (uint64_t i = 0; i < 10; ++i) rows.Put(Key("o").Str("urn:x:1").U64(i).str(), "v");
  std::vector<const PendingRows::Row*> scanned;
  rows.Under(object, &scanned);
  ASSERT_EQ(scanned.size(), 10u);
  const PendingRows::Row* found = rows.Find(Key("o").Str("urn:x:1").U64(3).str());
  ASSERT_NE(found, nullptr);
  for (uint64_t i = 0; i < 100000; ++i) {
    rows.Put(Key("o").Str("urn:y:" + std::to_string(i)).U64(i).str(), "w");
    rows.Put(Key("o").Str("urn:x:1").U64(100 + i % 50).str(), "added");
  }
  rows.Put(Key("o").Str("urn:x:1").U64(5).str(), "changed");
  rows.Delete(Key("o").Str("urn:x:1").U64(6).str());
  for (uint64_t i = 0; i < 10; ++i) {
    EXPECT_EQ(scanned[i]->key(), Key("o").Str("urn:x:1").U64(i).str());
    EXPECT_EQ(ValueOf(scanned[i]), i == 5 ? std::optional<std::string>("changed")
                                  : i == 6 ? std::nullopt
                                           : std::optional<std::string>("v"));
  }
  EXPECT_EQ(found, rows.Find(Key("o").Str("urn:x:1").U64(3).str()));
  // A later scan sees the rows added since, in order.
  std::vector<std::string> expected;
  for (uint64_t i = 0; i < 10; ++i) expected.push_back(Key("o").Str("urn:x:1").U64(i).str());
  for (uint64_t i = 100; i < 150; ++i) expected.push_back(Key("o").Str("urn:x:1").U64(i).str());
  EXPECT_EQ(UnderKeys(rows, object), expected);
}

TEST(PendingRowsTest, ManyRowsThroughGrowthMatchTheModel) {
  // Enough rows for many rehashes of both tables and many row chunks; scans between writes
  // sort groups a part at a time.
  const char* env = std::getenv("TL_TEST_SEED");
  const uint32_t seed = env != nullptr ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10))
                                        : std::random_device()();
  SCOPED_TRACE("TL_TEST_SEED=" + std::to_string(seed));
  std::mt19937 random(seed);
  PendingRows rows;
  Model model;
  for (int i = 0; i < 200000; ++i) {
    const std::string object =
        "urn:epc:id:sgtin:9521101.000001." + std::to_string(random() % 20000);
    const std::string key = Key("o").Str(object).U64(random() % 8).str();
    if (random() % 7 == 0) {
      rows.Delete(key);
      model[key] = std::nullopt;
    } else {
      rows.Put(key, std::to_string(i));
      model[key] = std::to_string(i);
    }
    if (i % 1000 == 0) {
      const std::string prefix = Key("o").Str(object).str();
      std::vector<std::string> expected;
      for (auto it = model.lower_bound(prefix);
           it != model.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
        expected.push_back(it->first);
      }
      ASSERT_EQ(UnderKeys(rows, prefix), expected) << "after " << i << " writes";
    }
  }
  ASSERT_EQ(rows.size(), model.size());
  for (const auto& [key, value] : model) {
    const PendingRows::Row* found = rows.Find(key);
    ASSERT_NE(found, nullptr);
    ASSERT_EQ(ValueOf(found), value);
  }
  const auto ordered = InOrder(rows);
  ASSERT_EQ(ordered.size(), model.size());
  EXPECT_TRUE(std::equal(ordered.begin(), ordered.end(), model.begin(), model.end(),
                         [](const auto& a, const auto& b) {
                           return a.first == b.first && a.second == b.second;
                         }));
}

TEST(PendingRowsTest, ValuesGrowShrinkAndMayBeEmptyOrLarge) {
  PendingRows rows;
  const std::string key = Key("o").Str("urn:x:1").U64(1).str();
  rows.Put(key, "");
  ASSERT_NE(rows.Find(key), nullptr);
  EXPECT_TRUE(rows.Find(key)->has_value());  // an empty value, not a deletion
  EXPECT_EQ(ValueOf(rows.Find(key)), "");
  std::string grown(1000, 'g');
  rows.Put(key, grown);
  EXPECT_EQ(ValueOf(rows.Find(key)), grown);
  rows.Put(key, "short");
  EXPECT_EQ(ValueOf(rows.Find(key)), "short");
  // Larger than the arena's blocks, for a new row and for a row that grows.
  const std::string large(3 << 20, 'L');
  const std::string other = Key("o").Str("urn:x:2").str();
  rows.Put(other, large);
  rows.Put(key, large + "x");
  EXPECT_EQ(ValueOf(rows.Find(other)), large);
  EXPECT_EQ(ValueOf(rows.Find(key)), large + "x");
  rows.Delete(key);
  EXPECT_EQ(ValueOf(rows.Find(key)), std::nullopt);
  ASSERT_NE(rows.Find(key), nullptr);
  EXPECT_FALSE(rows.Find(key)->has_value());
  EXPECT_EQ(rows.size(), 2u);
  // Rows added after a large one (in the arena's blocks again), through the table's growth,
  // and a large row among them: every one is found (the table's slots locate rows by block
  // and offset, a large row being a block of its own).
  auto small_key = [](int i) { return Key("h").Str("urn:x:" + std::to_string(i)).str(); };
  for (int i = 0; i < 20000; ++i) {
    rows.Put(small_key(i), std::to_string(i));
    if (i == 10000) rows.Put(Key("o").Str("urn:x:3").str(), large);
  }
  EXPECT_EQ(ValueOf(rows.Find(other)), large);
  EXPECT_EQ(ValueOf(rows.Find(Key("o").Str("urn:x:3").str())), large);
  for (int i = 0; i < 20000; i += 7) ASSERT_EQ(ValueOf(rows.Find(small_key(i))), std::to_string(i));
  EXPECT_EQ(rows.size(), 20003u);
}

TEST(PendingRowsTest, BatchesAfterClearReuseMemoryAndMatchTheModel) {
  // The runner keeps one PendingRows per view and clears it for every batch: a large batch,
  // a small one (the table shrinks to fit), then a large one again (the arena's kept blocks
  // are filled again), each checked against a fresh model.
  PendingRows rows;
  std::mt19937 random(11);
  Model previous;
  for (int batch : {50000, 10, 80000, 0, 3000}) {
    rows.Clear();
    EXPECT_TRUE(rows.empty());
    Model model;
    for (int i = 0; i < batch; ++i) {
      const std::string key =
          Key("h").Str("urn:epc:id:sgtin:9521101.000001." + std::to_string(random() % 5000))
              .U64(random() % 4)
              .str();
      if (random() % 9 == 0) {
        rows.Delete(key);
        model[key] = std::nullopt;
      } else {
        const std::string value(random() % 64, static_cast<char>('a' + i % 26));
        rows.Put(key, value);
        model[key] = value;
      }
    }
    const auto ordered = InOrder(rows);
    ASSERT_EQ(ordered.size(), model.size()) << "batch of " << batch;
    EXPECT_TRUE(std::equal(ordered.begin(), ordered.end(), model.begin(), model.end(),
                           [](const auto& a, const auto& b) {
                             return a.first == b.first && a.second == b.second;
                           }))
        << "batch of " << batch;
    // The rows of the batch before are gone.
    for (const auto& [key, value] : previous) {
      if (model.count(key) == 0) {
        ASSERT_EQ(rows.Find(key), nullptr) << "batch of " << batch;
      }
    }
    previous = std::move(model);
  }
}

TEST(PendingRowsTest, StoredHashesAreThoseOfTheRowsWithAValueAndOfTheirFirstComponents) {
  PendingRows rows;
  rows.Put(Key("o").Str("lot-1").U64(1).str(), "a");
  rows.Put(Key("o").Str("lot-1").U64(2).str(), "b");
  rows.Put(Key("o").Str("lot-2").U64(1).str(), "c");
  rows.Delete(Key("o").Str("lot-3").U64(1).str());  // deleted only: not stored
  rows.Put(Key("o").Str("lot-4").U64(1).str(), "d");
  rows.Delete(Key("o").Str("lot-4").U64(1).str());  // written, then deleted in the batch
  rows.Put("z", "no first component");
  std::multiset<uint64_t> keys;
  std::multiset<uint64_t> prefixes;
  rows.ForEachStoredHash([&](uint64_t hash) { keys.insert(hash); },
                         [&](uint64_t hash) { prefixes.insert(hash); });
  const std::multiset<uint64_t> expected_keys = {
      PendingRows::HashKey(Key("o").Str("lot-1").U64(1).str()),
      PendingRows::HashKey(Key("o").Str("lot-1").U64(2).str()),
      PendingRows::HashKey(Key("o").Str("lot-2").U64(1).str()), PendingRows::HashKey("z")};
  const std::multiset<uint64_t> expected_prefixes = {
      PendingRows::HashKey(Key("o").Str("lot-1").str()),
      PendingRows::HashKey(Key("o").Str("lot-2").str())};
  EXPECT_EQ(keys, expected_keys);
  EXPECT_EQ(prefixes, expected_prefixes);
  // A row's hash is HashKey of its key.
  const PendingRows::Row* row = rows.Find("z");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->key_hash(), PendingRows::HashKey("z"));
}

}  // namespace
}  // namespace traceledger::projections
