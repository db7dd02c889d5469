#include "projections/view_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "projections/internal/pending_rows.h"
#include "projections/keys.h"

namespace traceledger::projections {
namespace {

class ViewStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("view_store_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<ViewStore> Open(const std::vector<std::string>& views,
                                  ViewStore::Mode mode = ViewStore::Mode::kReadWrite) {
    auto store = ViewStore::Open(dir_, views, mode);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }
  // Writes one row, key = value, to `view` (with a cursor), as a write batch.
  static void WriteRow(ViewStore& store, std::string_view view, const std::string& key) {
    PendingRows rows;
    rows.Put(key, "value of " + key);
    ASSERT_TRUE(store.Write({ViewWrite{view, &rows, "cursor"}}, /*as_table_files=*/false).ok());
  }
  static std::vector<std::string> Keys(const ViewStore& store, std::string_view view) {
    std::vector<std::string> keys;
    EXPECT_TRUE(store
                    .ForEach(view,
                             [&](std::string_view key, std::string_view) {
                               keys.emplace_back(key);
                               return true;
                             })
                    .ok());
    return keys;
  }
  std::vector<std::string> Families() const {
    std::vector<std::string> families;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_, &families).ok());
    std::sort(families.begin(), families.end());
    return families;
  }

  std::string dir_;
};

// A scanner's sibling reads what the scanner reads: the view as it was when the scanner was
// made, whatever was written since, and whichever of them seeks first. A scanner made without
// siblings, or of a reader with pending rows (a runner's), has none.
TEST_F(ViewStoreTest, AScannersSiblingReadsTheSameSnapshot) {
  auto store = Open({"v"});
  ASSERT_NE(store, nullptr);
  // Rows of one node (a whole first component, as the trace's scans ask for).
  const std::string prefix = Key("o").Str("lot").str();
  WriteRow(*store, "v", prefix + "1");
  const ViewReader reader(store->db(), store->family("v"));
  EXPECT_EQ(ViewScanner(reader).Sibling(), nullptr);  // made without siblings
  ViewScanner scanner(reader, ViewScanner::Siblings::kAllowed);
  std::unique_ptr<ViewScanner> sibling = scanner.Sibling();
  ASSERT_NE(sibling, nullptr);
  WriteRow(*store, "v", prefix + "2");
  const auto scan = [](ViewScanner& s, std::string_view under) {
    std::vector<std::string> keys;
    EXPECT_TRUE(s.Scan(under, [&](std::string_view key, std::string_view) {
                   keys.emplace_back(key);
                   return true;
                 }).ok());
    return keys;
  };
  EXPECT_EQ(scan(*sibling, prefix), std::vector<std::string>{prefix + "1"});
  EXPECT_EQ(scan(scanner, prefix), std::vector<std::string>{prefix + "1"});
  // A new scanner sees the row written since, and so does its sibling.
  ViewScanner later(reader, ViewScanner::Siblings::kAllowed);
  EXPECT_EQ(scan(*later.Sibling(), prefix), (std::vector<std::string>{prefix + "1", prefix + "2"}));

  PendingRows pending;
  const ViewReader in_batch(store->db(), store->family("v"), &pending);
  EXPECT_EQ(ViewScanner(in_batch, ViewScanner::Siblings::kAllowed).Sibling(), nullptr);
}

TEST_F(ViewStoreTest, OpeningSomeOfTheViewsKeepsTheOthersAndDropsOnlyRetiredOnes) {
  const std::string key = Key("o").Str("lot-1").str();
  {
    // A database with two views and the view earlier versions kept for the holdings.
    auto store = Open({"genealogy", "history", "holdings"});
    ASSERT_NE(store, nullptr);
    WriteRow(*store, "genealogy", key);
    WriteRow(*store, "history", key);
    WriteRow(*store, "holdings", key);
  }
  {
    // A tool that writes the genealogy only.
    auto store = Open({"genealogy"});
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->family("holdings"), nullptr);
  }
  EXPECT_EQ(Families(), (std::vector<std::string>{"default", "genealogy", "history"}));
  auto store = Open({"genealogy", "history"}, ViewStore::Mode::kReadOnly);
  ASSERT_NE(store, nullptr);
  const std::vector<std::string> expected = {std::string(kCursorKey), key};
  EXPECT_EQ(Keys(*store, "history"), expected);
  EXPECT_EQ(Keys(*store, "genealogy"), expected);
}

}  // namespace
}  // namespace traceledger::projections
