// File: api/server/alert_page.h
//
// FilterAlertPage: one page of GET /alerts holding only the alerts the caller may see (an
// enterprise: those about itself), read from the serial or cylinder alert view in successive
// chunks. The projections' pages (SerialAlertsFrom, CylinderAlertsFrom) hold every party's
// alerts; a page filtered after that read came back short, or empty, while the caller's alerts
// lay just beyond it. Here the filter runs before the limit: the page fills up to `limit` kept
// alerts, or ends with the alerts, or stops at a bound on the rows read, and its cursor points
// right after the last alert it looked at, kept or not.
//
// Header-only (a template over v1::SerialAlertPage and v1::CylinderAlertPage); a pure function
// of its arguments and of what `read_from` answers, so thread-safe as `read_from` is.
#ifndef TRACELEDGER_API_SERVER_ALERT_PAGE_H_
#define TRACELEDGER_API_SERVER_ALERT_PAGE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "ledger/base/assert.h"
#include "ledger/base/status.h"

namespace traceledger::api {

// Most alert rows one page of GET /alerts reads (so one request, with kind=all, reads at most
// twice this). Without it an enterprise asking for its alerts could make the server read the
// whole view in one request. ServerOptions::max_alert_rows_scanned defaults to it.
inline constexpr size_t kMaxAlertRowsScannedPerPage = 50000;

// One page of alerts, in alert-number (= ledger) order, keeping those for which `keep(alert)`
// is true.
//  - `Page` is v1::SerialAlertPage or v1::CylinderAlertPage (alerts, next_alert_index, more).
//  - `start` is an alert page without alerts that says where to begin: next_alert_index, the
//    first alert number to read, and more, whether any alert is there; as
//    SerialAlerts(reader, since, 0) or SerialAlertsFrom(reader, index, 0) answer.
//  - `read_from(index, rows)` returns Result<Page>: at most `rows` alerts from alert number
//    `index` on, next_alert_index right after them and more if alerts follow (the contract of
//    SerialAlertsFrom / CylinderAlertsFrom; it may return fewer than `rows` with more set).
// Returns at most `limit` kept alerts. Reads successive chunks (the first of `limit` rows, each
// next one twice as large) until the page holds `limit` alerts, no alert follows, or
// `max_rows_scanned` rows were read; so the page can be short, or empty, with more = true.
// next_alert_index is the number right after the last alert looked at, kept or not (rows of the
// last chunk after the alert that filled the page are read but not looked at): passing it back
// as the next page's start repeats and skips nothing. more is true if alerts follow it.
// Requires max_rows_scanned > 0. Returns what `read_from` returns when it fails.
template <typename Page, typename ReadFrom, typename Keep>
Result<Page> FilterAlertPage(const Page& start, size_t limit, size_t max_rows_scanned,
                             const ReadFrom& read_from, const Keep& keep) {
  TL_ASSERT(max_rows_scanned > 0);
  Page page;
  uint64_t next = start.next_alert_index();
  bool more = start.more();
  size_t rows_scanned = 0;
  size_t chunk_rows = limit;
  // Every pass reads at least one row or ends the loop, so the loop is bounded by
  // max_rows_scanned passes (by about log2 of it, as chunks double).
  while (more && static_cast<size_t>(page.alerts_size()) < limit &&
         rows_scanned < max_rows_scanned) {
    const size_t rows = std::min(chunk_rows, max_rows_scanned - rows_scanned);
    TL_ASSIGN_OR_RETURN(Page chunk, read_from(next, rows));
    const size_t read = static_cast<size_t>(chunk.alerts_size());
    TL_ASSERT(read <= rows);
    if (read == 0) {
      more = chunk.more();  // nothing at `next` after all (the contract says more is false)
      break;
    }
    rows_scanned += read;
    TL_ASSERT(rows_scanned <= max_rows_scanned);
    size_t looked_at = 0;
    for (auto& alert : *chunk.mutable_alerts()) {
      ++looked_at;
      if (!keep(alert)) continue;
      *page.add_alerts() = std::move(alert);
      if (static_cast<size_t>(page.alerts_size()) == limit) break;
    }
    // The chunk's alerts are numbered next, next + 1, ...: continue right after the last one
    // looked at. If the page filled inside the chunk, the rest of it follows.
    next += looked_at;
    more = looked_at < read || chunk.more();
    chunk_rows = std::min(chunk_rows * 2, max_rows_scanned);
  }
  TL_ASSERT(static_cast<size_t>(page.alerts_size()) <= limit);
  TL_ASSERT(next >= start.next_alert_index());
  page.set_next_alert_index(next);
  page.set_more(more);
  return page;
}

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_SERVER_ALERT_PAGE_H_
