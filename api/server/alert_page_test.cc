// File: api/server/alert_page_test.cc
//
// FilterAlertPage over an in-memory alert list that answers like SerialAlertsFrom: the page
// fills with kept alerts however many others lie between them, reads no more rows than its
// bound, and its cursor, followed, yields every kept alert exactly once.
#include "api/server/alert_page.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "tl/v1/view_oversight.pb.h"

namespace traceledger::api {
namespace {

// Alerts numbered 0..n-1 whose party is parties[i]; reads answer like SerialAlertsFrom, at
// most `max_rows_per_read` at a time (the projections cap a page, too), and count the rows.
class FakeAlertView {
 public:
  FakeAlertView(std::vector<std::string> parties, size_t max_rows_per_read)
      : parties_(std::move(parties)), max_rows_per_read_(max_rows_per_read) {}

  Result<v1::SerialAlertPage> From(uint64_t index, size_t rows) const {
    const uint64_t count = parties_.size();
    const uint64_t begin = std::min<uint64_t>(index, count);
    const uint64_t wanted = std::min(rows, max_rows_per_read_);
    const uint64_t end = begin + std::min<uint64_t>(wanted, count - begin);
    v1::SerialAlertPage page;
    for (uint64_t i = begin; i < end; ++i) {
      v1::SerialAlert* alert = page.add_alerts();
      alert->set_alert_index(i);
      alert->set_party(parties_[i]);
    }
    rows_read_ += end - begin;
    page.set_next_alert_index(end);
    page.set_more(end < count);
    return page;
  }

  // What the handler reads first: an empty page at `index`.
  v1::SerialAlertPage Start(uint64_t index) const {
    auto page = From(index, 0);
    TL_ASSERT(page.ok());
    return *page;
  }

  size_t rows_read() const { return rows_read_; }

 private:
  std::vector<std::string> parties_;
  size_t max_rows_per_read_;
  mutable size_t rows_read_ = 0;
};

// `mine_every`-th alert (from `mine_first`) is "mine", the others belong to "other".
std::vector<std::string> Parties(size_t count, size_t mine_first, size_t mine_every) {
  std::vector<std::string> out(count, "other");
  for (size_t i = mine_first; i < count; i += mine_every) out[i] = "mine";
  return out;
}

Result<v1::SerialAlertPage> Page(const FakeAlertView& view, uint64_t from, size_t limit,
                                 size_t max_rows_scanned) {
  auto read_from = [&view](uint64_t index, size_t rows) { return view.From(index, rows); };
  auto keep = [](const v1::SerialAlert& alert) { return alert.party() == "mine"; };
  return FilterAlertPage(view.Start(from), limit, max_rows_scanned, read_from, keep);
}

std::vector<uint64_t> Indexes(const v1::SerialAlertPage& page) {
  std::vector<uint64_t> out;
  for (const auto& alert : page.alerts()) out.push_back(alert.alert_index());
  return out;
}

TEST(FilterAlertPageTest, FillsThePageWithKeptAlertsBeyondTheFirstLimitRows) {
  // Mine: 7, 17, 27, ...: the first 3 rows (what a page filtered after reading held) have none.
  const FakeAlertView view(Parties(100, 7, 10), 10000);
  auto page = Page(view, 0, 3, kMaxAlertRowsScannedPerPage);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(Indexes(*page), (std::vector<uint64_t>{7, 17, 27}));
  EXPECT_EQ(page->next_alert_index(), 28u);  // right after the last one kept
  EXPECT_TRUE(page->more());
}

TEST(FilterAlertPageTest, KeepsEverythingWhenEveryAlertIsVisibleAndReadsOnlyThePage) {
  const FakeAlertView view(Parties(50, 0, 1), 10000);
  auto page = Page(view, 5, 20, kMaxAlertRowsScannedPerPage);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->alerts_size(), 20);
  EXPECT_EQ(page->alerts(0).alert_index(), 5u);
  EXPECT_EQ(page->next_alert_index(), 25u);
  EXPECT_TRUE(page->more());
  EXPECT_EQ(view.rows_read(), 20u);  // as one SerialAlertsFrom(5, 20)
}

TEST(FilterAlertPageTest, EndsWithTheAlertsOnAShortPageWithoutMore) {
  const FakeAlertView view(Parties(30, 4, 10), 10000);  // mine: 4, 14, 24
  auto page = Page(view, 0, 10, kMaxAlertRowsScannedPerPage);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(Indexes(*page), (std::vector<uint64_t>{4, 14, 24}));
  EXPECT_EQ(page->next_alert_index(), 30u);
  EXPECT_FALSE(page->more());
}

TEST(FilterAlertPageTest, StopsAtTheScanBoundWithACursorWhereItStopped) {
  const FakeAlertView view(Parties(1000, 40, 100), 10000);  // mine: 40, 140, 240, ...
  auto page = Page(view, 0, 5, 25);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->alerts_size(), 0);
  EXPECT_EQ(page->next_alert_index(), 25u);
  EXPECT_TRUE(page->more());
  EXPECT_EQ(view.rows_read(), 25u);
  // Going on from there finds alert 40 and does not read past the bound either.
  auto next = Page(view, page->next_alert_index(), 5, 25);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(Indexes(*next), (std::vector<uint64_t>{40}));
  EXPECT_EQ(next->next_alert_index(), 50u);
  EXPECT_TRUE(next->more());
  EXPECT_EQ(view.rows_read(), 50u);
}

TEST(FilterAlertPageTest, LimitZeroReadsNothingAndKeepsTheStart) {
  const FakeAlertView view(Parties(10, 0, 2), 10000);
  auto page = Page(view, 3, 0, kMaxAlertRowsScannedPerPage);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->alerts_size(), 0);
  EXPECT_EQ(page->next_alert_index(), 3u);
  EXPECT_TRUE(page->more());
  EXPECT_EQ(view.rows_read(), 0u);
}

TEST(FilterAlertPageTest, AStartPastTheEndIsAnEmptyLastPage) {
  const FakeAlertView view(Parties(10, 0, 2), 10000);
  auto page = Page(view, 1000, 5, kMaxAlertRowsScannedPerPage);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->alerts_size(), 0);
  EXPECT_EQ(page->next_alert_index(), 10u);
  EXPECT_FALSE(page->more());
}

TEST(FilterAlertPageTest, AFailedReadIsReturned) {
  const FakeAlertView view(Parties(10, 0, 2), 10000);
  auto read_from = [](uint64_t, size_t) -> Result<v1::SerialAlertPage> {
    return Status::DataLoss("serials: an alert row does not decode");
  };
  auto keep = [](const v1::SerialAlert&) { return true; };
  auto page = FilterAlertPage(view.Start(0), 5, 100, read_from, keep);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kDataLoss);
}

// Following next_alert_index page after page, for many shapes of view, limit, scan bound and
// read cap, yields every kept alert once, in order; no page reads more than its bound; a page
// with more set is full unless the bound cut it.
TEST(FilterAlertPageTest, FollowingTheCursorYieldsEveryKeptAlertExactlyOnce) {
  for (size_t mine_every : {1, 2, 7, 50, 400}) {
    for (size_t limit : {1, 3, 10}) {
      for (size_t max_rows : {1, 4, 64, 1000}) {
        for (size_t max_rows_per_read : {size_t{5}, size_t{10000}}) {
          SCOPED_TRACE("mine_every=" + std::to_string(mine_every) + " limit=" +
                       std::to_string(limit) + " max_rows=" + std::to_string(max_rows) +
                       " per_read=" + std::to_string(max_rows_per_read));
          const std::vector<std::string> parties = Parties(333, mine_every / 3, mine_every);
          const FakeAlertView view(parties, max_rows_per_read);
          std::vector<uint64_t> want;
          for (size_t i = 0; i < parties.size(); ++i) {
            if (parties[i] == "mine") want.push_back(i);
          }
          std::vector<uint64_t> got;
          uint64_t from = 0;
          bool more = true;
          for (size_t pages = 0; more; ++pages) {
            ASSERT_LE(pages, parties.size() + 1) << "the cursor does not advance";
            const size_t read_before = view.rows_read();
            auto page = Page(view, from, limit, max_rows);
            ASSERT_TRUE(page.ok()) << page.status().ToString();
            ASSERT_LE(view.rows_read() - read_before, max_rows);
            ASSERT_GT(page->next_alert_index(), from);
            ASSERT_LE(page->next_alert_index() - from, max_rows);
            if (page->more() && static_cast<size_t>(page->alerts_size()) < limit) {
              EXPECT_EQ(page->next_alert_index() - from, max_rows) << "short page, not cut";
            }
            for (uint64_t index : Indexes(*page)) got.push_back(index);
            from = page->next_alert_index();
            more = page->more();
          }
          EXPECT_EQ(got, want);
          EXPECT_EQ(from, parties.size());
        }
      }
    }
  }
}

}  // namespace
}  // namespace traceledger::api
