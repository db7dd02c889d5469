// File: api/server/alerts_test.cc
//
// GET /alerts for an enterprise whose alerts lie between many alerts of other parties: each
// page holds up to `limit` alerts about itself (it used to be filtered after reading `limit`
// alerts of everybody, so it came back short or empty), and following the per-kind cursors
// (serial_from / cylinder_from = the previous page's nextAlertIndex) yields each of its alerts
// exactly once, also when the bound on alert rows read per page cuts a page short.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "api/server/testing/server_fixture.h"

namespace traceledger::api {
namespace {

using testing::json;

// Parties of the demo story (valid unified social credit codes).
constexpr char kMine[] = "91310104MA1J00008B";
constexpr char kOtherPharmacy[] = "91320500MA1M00006U";
constexpr char kOtherStation[] = "91310112MA1E00009N";

// Rounds of captures; per round: 6 serial alerts of kOtherPharmacy (one event), 3 cylinder
// alerts of kOtherStation (three events), then 2 serial alerts (one event, so one sequence)
// and 1 cylinder alert of kMine.
constexpr int kRounds = 10;

uint64_t Number(const json& value) {
  return value.is_string() ? std::stoull(value.get<std::string>()) : value.get<uint64_t>();
}

class AlertsTest : public testing::ServerFixture {
 protected:
  std::string NextEventId() {
    char id[64];
    std::snprintf(id, sizeof(id), "urn:uuid:00000000-0000-4000-8000-%012d", ++events_);
    return id;
  }

  // A dispensing of never-commissioned drug serials: one UNKNOWN_SERIAL alert per serial,
  // raised by `party`.
  std::string Dispense(const std::string& party, int serials) {
    json event = {{"eventId", NextEventId()},
                  {"submitterId", party},
                  {"objectEvent",
                   {{"common",
                     {{"eventTime", "2026-11-18T06:20:00Z"},
                      {"eventTimeZoneOffset", "+08:00"},
                      {"bizStep", "dispensing"},
                      {"disposition", "dispensed"},
                      {"readPoint", {{"id", "urn:epc:id:sgln:9521008.00003.0"}}}}},
                    {"action", "ACTION_OBSERVE"},
                    {"epcList", json::array()}}}};
    for (int i = 0; i < serials; ++i) {
      char serial[64];
      std::snprintf(serial, sizeof(serial), "cn-drug:%020d", ++serials_);
      event["objectEvent"]["epcList"].push_back(serial);
    }
    return event.dump();
  }

  // A fill of a never-registered cylinder at `station`: one cylinder alert about the station.
  std::string Fill(const std::string& station) {
    json event = {{"eventId", NextEventId()},
                  {"submitterId", station},
                  {"cylinderFill",
                   {{"cylinderId", "TEST-UNREGISTERED-" + std::to_string(++cylinders_)},
                    {"stationId", station},
                    {"filledAt", "2026-11-04T00:20:00Z"},
                    {"medium", "LPG"},
                    {"netMassKg", 14.5},
                    {"operatorId", "TSZY-310112-0457"},
                    {"scaleId", "SCALE-02"}}}};
    return event.dump();
  }

  // Captures `events` in one request as `party`; returns the last receipt's seq + 1.
  uint64_t CaptureAs(const std::string& party, const std::vector<std::string>& events) {
    std::string body = "{\"events\":[";
    for (size_t i = 0; i < events.size(); ++i) body += (i ? "," : "") + events[i];
    body += "]}";
    auto r = Post("/capture", body, Token(Role::kEnterprise, party));
    EXPECT_TRUE(r);
    if (!r) return 0;
    EXPECT_EQ(r->status, 202) << r->body;
    json job = Body(r);
    if (!job.is_object() || !job.contains("receipts")) return 0;
    return Number(job["receipts"].back()["seq"]) + 1;
  }

  // The interleaved story; returns "after=SEQ" to wait for the views to have it.
  std::string CaptureInterleavedAlerts() {
    uint64_t after = 0;
    for (int round = 0; round < kRounds; ++round) {
      after = std::max(after, CaptureAs(kOtherPharmacy, {Dispense(kOtherPharmacy, 6)}));
      after = std::max(after, CaptureAs(kOtherStation, {Fill(kOtherStation), Fill(kOtherStation),
                                                        Fill(kOtherStation)}));
      after = std::max(after, CaptureAs(kMine, {Dispense(kMine, 2), Fill(kMine)}));
    }
    return "after=" + std::to_string(after);
  }

  // Alert numbers of `kind` ("serial" or "cylinder") about `party` (as "party" for serial
  // alerts, "stationId" for cylinder alerts), from every alert as the regulator pages through
  // them; checks that those are all the alerts, 0 to the last, each once.
  std::vector<uint64_t> AlertsAbout(const std::string& party, const std::string& kind,
                                    const std::string& after) {
    const std::string token = Token(Role::kRegulator, "regulator:SAMR-310104");
    const char* field = kind == "serial" ? "party" : "stationId";
    std::vector<uint64_t> out;
    uint64_t from = 0;
    const bool failed_before = HasFailure();
    for (bool more = true; more;) {
      auto r = Get("/alerts?kind=" + kind + "&limit=10000&" + kind + "_from=" +
                       std::to_string(from) + "&" + after,
                   token);
      EXPECT_TRUE(r);
      if (!r) break;
      EXPECT_EQ(r->status, 200) << r->body;
      const json page = Body(r)[kind];
      for (const json& alert : page["alerts"]) {
        EXPECT_EQ(Number(alert["alertIndex"]), from++) << r->body;
        if (alert[field] == party) out.push_back(Number(alert["alertIndex"]));
      }
      EXPECT_EQ(Number(page["nextAlertIndex"]), from) << r->body;
      more = page["more"] == true;
      if (HasFailure() && !failed_before) break;
    }
    return out;
  }

  struct Followed {
    std::vector<uint64_t> serial;
    std::vector<uint64_t> cylinder;
    int pages = 0;
    int cut_pages = 0;  // short, with more set: stopped by the scan bound
  };

  // Follows GET /alerts (kind=all) as kMine with `limit`, passing each page's nextAlertIndex
  // back, until neither kind has more. Checks every page against the scan bound `max_rows`:
  // a cursor moves at most that far, and a page with more set is full unless it moved that far.
  Followed FollowAsMine(size_t limit, uint64_t max_rows, const std::string& after) {
    Followed out;
    const std::string token = Token(Role::kEnterprise, kMine);
    std::string cursors;
    uint64_t from[2] = {0, 0};
    const bool failed_before = HasFailure();
    for (bool more = true; more; ++out.pages) {
      if (out.pages > 1000) {
        ADD_FAILURE() << "the cursors do not advance: " << cursors;
        break;
      }
      auto r = Get("/alerts?limit=" + std::to_string(limit) + cursors + "&" + after, token);
      EXPECT_TRUE(r);
      if (!r) break;
      EXPECT_EQ(r->status, 200) << r->body;
      const json answer = Body(r);
      more = false;
      cursors.clear();
      int k = 0;
      for (const char* kind : {"serial", "cylinder"}) {
        const json& page = answer[kind];
        const uint64_t next = Number(page["nextAlertIndex"]);
        EXPECT_LE(page["alerts"].size(), limit) << r->body;
        EXPECT_LE(next - from[k], max_rows) << r->body;
        if (page["more"] == true && page["alerts"].size() < limit) {
          EXPECT_EQ(next - from[k], max_rows) << "a short page not cut by the bound: " << r->body;
          ++out.cut_pages;
        }
        for (const json& alert : page["alerts"]) {
          EXPECT_EQ(alert[k == 0 ? "party" : "stationId"], kMine) << r->body;
          (k == 0 ? out.serial : out.cylinder).push_back(Number(alert["alertIndex"]));
        }
        more = more || page["more"] == true;
        cursors += std::string("&") + kind + "_from=" + std::to_string(next);
        from[k++] = next;
      }
      if (HasFailure() && !failed_before) break;  // one page's failures, not a thousand
    }
    return out;
  }

  int events_ = 0;
  int serials_ = 0;
  int cylinders_ = 0;
};

TEST_F(AlertsTest, AnEnterpriseGetsFullPagesOfItsOwnAlertsAndEachOnceByTheCursor) {
  const std::string after = CaptureInterleavedAlerts();
  const std::vector<uint64_t> want_serial = AlertsAbout(kMine, "serial", after);
  const std::vector<uint64_t> want_cylinder = AlertsAbout(kMine, "cylinder", after);
  ASSERT_EQ(want_serial.size(), 2u * kRounds);
  ASSERT_EQ(want_cylinder.size(), 1u * kRounds);

  // The first page already holds 3 of its alerts, although the first 3 alerts of the view
  // are another party's.
  auto r = Get("/alerts?kind=serial&limit=3&" + after, Token(Role::kEnterprise, kMine));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json page = Body(r)["serial"];
  ASSERT_EQ(page["alerts"].size(), 3u) << r->body;
  EXPECT_EQ(Number(page["alerts"][0]["alertIndex"]), want_serial[0]);
  EXPECT_EQ(Number(page["alerts"][2]["alertIndex"]), want_serial[2]);
  // Right after the last alert returned (the 3rd is the first of an event's two alerts).
  EXPECT_EQ(Number(page["nextAlertIndex"]), want_serial[2] + 1) << r->body;
  EXPECT_EQ(page["more"], true);

  // Followed to the end, every page with more is full and each alert comes once.
  for (size_t limit : {1, 3, 4}) {
    SCOPED_TRACE("limit=" + std::to_string(limit));
    const Followed got = FollowAsMine(limit, kMaxAlertRowsScannedPerPage, after);
    EXPECT_EQ(got.serial, want_serial);
    EXPECT_EQ(got.cylinder, want_cylinder);
    EXPECT_EQ(got.cut_pages, 0);
    EXPECT_LE(got.pages, static_cast<int>((want_serial.size() + limit - 1) / limit) + 1);
  }

  // since=SEQ starts a page at the first alert raised at or after SEQ, filtered the same way.
  const uint64_t since = 1 + Number(page["alerts"][2]["sequence"]);
  r = Get("/alerts?kind=serial&limit=2&since=" + std::to_string(since) + "&" + after,
          Token(Role::kEnterprise, kMine));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  page = Body(r)["serial"];
  ASSERT_EQ(page["alerts"].size(), 2u) << r->body;
  EXPECT_EQ(Number(page["alerts"][0]["alertIndex"]), want_serial[4]);
  EXPECT_EQ(Number(page["alerts"][1]["alertIndex"]), want_serial[5]);
}

TEST_F(AlertsTest, ACursorForAKindNotAskedForIsRefused) {
  const std::string token = Token(Role::kEnterprise, kMine);
  auto r = Get("/alerts?kind=cylinder&serial_from=3", token);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(Body(r)["parameter"], "serial_from");
  r = Get("/alerts?kind=all&cylinder_from=x", token);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(Body(r)["parameter"], "cylinder_from");
}

// The same story with a server that reads at most 5 alert rows per page: fewer than the 6
// alerts of another party before each pair of serial alerts about kMine.
class BoundedAlertsTest : public AlertsTest {
 protected:
  static constexpr uint64_t kMaxRows = 5;
  void Configure(EmbeddedOptions& options) override {
    options.server.max_alert_rows_scanned = kMaxRows;
  }
};

TEST_F(BoundedAlertsTest, PagesCutByTheScanBoundGoOnWhereTheyStopped) {
  const std::string after = CaptureInterleavedAlerts();
  const std::vector<uint64_t> want_serial = AlertsAbout(kMine, "serial", after);
  const std::vector<uint64_t> want_cylinder = AlertsAbout(kMine, "cylinder", after);
  ASSERT_EQ(want_serial.size(), 2u * kRounds);
  ASSERT_EQ(want_cylinder.size(), 1u * kRounds);

  // The first 6 serial alerts are another party's, then come 2 of ours: a page of up to 5
  // stops after 5 rows, empty, and says where to go on; the next page finds our 2 and stops
  // after 5 rows again.
  ASSERT_EQ(want_serial[0], 6u);
  ASSERT_EQ(want_serial[1], 7u);
  const std::string token = Token(Role::kEnterprise, kMine);
  auto r = Get("/alerts?kind=serial&limit=5&" + after, token);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json page = Body(r)["serial"];
  EXPECT_EQ(page["alerts"].size(), 0u) << r->body;
  EXPECT_EQ(Number(page["nextAlertIndex"]), kMaxRows) << r->body;
  EXPECT_EQ(page["more"], true);
  r = Get("/alerts?kind=serial&limit=5&serial_from=" + std::to_string(kMaxRows) + "&" + after,
          token);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  page = Body(r)["serial"];
  ASSERT_EQ(page["alerts"].size(), 2u) << r->body;
  EXPECT_EQ(Number(page["alerts"][0]["alertIndex"]), 6u);
  EXPECT_EQ(Number(page["alerts"][1]["alertIndex"]), 7u);
  EXPECT_EQ(Number(page["nextAlertIndex"]), 2 * kMaxRows) << r->body;
  EXPECT_EQ(page["more"], true);

  for (size_t limit : {1, 2, 5}) {
    SCOPED_TRACE("limit=" + std::to_string(limit));
    const Followed got = FollowAsMine(limit, kMaxRows, after);
    EXPECT_EQ(got.serial, want_serial);
    EXPECT_EQ(got.cylinder, want_cylinder);
    EXPECT_GT(got.cut_pages, 0);
  }

  // The bound holds for a regulator too: a page of at most 5 alerts, going on after them.
  r = Get("/alerts?kind=serial&limit=100&" + after,
          Token(Role::kRegulator, "regulator:SAMR-310104"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  page = Body(r)["serial"];
  EXPECT_EQ(page["alerts"].size(), kMaxRows) << r->body;
  EXPECT_EQ(Number(page["nextAlertIndex"]), kMaxRows) << r->body;
  EXPECT_EQ(page["more"], true);
}

}  // namespace
}  // namespace traceledger::api
