// File: api/server/role_matrix_test.cc
//
// Who may do what (DESIGN.md invariant 8; docs/formats/http-api.md): every route for every role
// (anonymous, enterprise, regulator, auditor), written out here as the expected table rather
// than derived from the policy code, plus the per-object rules: an enterprise writes only as
// itself and reads only its own events, the traces of lots it handled, recalls addressed to it,
// its own timeline and its own station's fill permits.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "api/server/testing/server_fixture.h"

namespace traceledger::api {
namespace {

using testing::json;

constexpr char kRetailer[] = "91310104MA1F000047";   // received the recalled lot, removed it
constexpr char kStation[] = "91310112MA1E00009N";    // the gas filling station
constexpr char kRegulator[] = "regulator:SAMR-310104";
constexpr char kLot[] = "urn:epc:class:lgtin:9521002.010001.L261110";
constexpr char kRecall[] = "RC-310104-2026-0007";

enum Expect { kOk, k401, k403 };

struct Row {
  std::string method;
  std::string path;
  std::function<std::string(int)> body;  // request body for the n-th call
  Expect anonymous, enterprise, regulator, auditor;
};

class RoleMatrixTest : public testing::ServerFixture {
 protected:
  void SetUp() override {
    testing::ServerFixture::SetUp();
    size_ = CaptureNative(SampleEvents());
    ASSERT_EQ(size_, SampleEvents().size());
  }
  uint64_t size_ = 0;
};

json EpcisDocumentOf(const std::string& id) {
  json event = {{"type", "ObjectEvent"},
                {"eventID", id},
                {"eventTime", "2026-11-20T08:00:00+08:00"},
                {"eventTimeZoneOffset", "+08:00"},
                {"epcList", {"urn:epc:id:sgtin:9521004.012345.77"}},
                {"action", "OBSERVE"},
                {"bizStep", "inspecting"}};
  return {{"type", "EPCISDocument"},
          {"schemaVersion", "2.0"},
          {"creationDate", "2026-11-20T08:00:00+08:00"},
          {"epcisBody", {{"eventList", {event}}}}};
}

TEST_F(RoleMatrixTest, EveryRouteForEveryRole) {
  // A capture job of the retailer, for GET /capture/{id}.
  auto r = Post("/capture", EpcisDocumentOf("urn:uuid:matrix-job").dump(), Token(Role::kEnterprise, kRetailer));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  const std::string job = Body(r)["captureID"];
  const std::string after = "after=" + std::to_string(size_);

  auto none = [](int) { return std::string(); };
  const std::vector<Row> rows = {
      {"GET", "/healthz", none, kOk, kOk, kOk, kOk},
      {"GET", "/metrics", none, k401, k403, kOk, k403},
      {"POST", "/capture", [](int n) { return EpcisDocumentOf("urn:uuid:matrix-" + std::to_string(n)).dump(); },
       k401, kOk, kOk, k403},
      {"GET", "/capture/" + job, none, k401, kOk, kOk, k403},
      {"GET", "/events?perPage=10", none, k401, kOk, kOk, k403},
      {"GET", std::string("/trace/") + kLot + "?direction=both&" + after, none, k401, kOk, kOk, k403},
      {"POST", "/recalls",
       [](int n) {
         return json{{"eventId", "urn:uuid:matrix-recall-" + std::to_string(n)},
                     {"submitterId", kRegulator},
                     {"recall",
                      {{"recallId", "RC-MATRIX-" + std::to_string(n)},
                       {"phase", "PHASE_OPENED"},
                       {"level", "LEVEL_II"},
                       {"reason", "matrix"},
                       {"rootIds", {kLot}},
                       {"deadline", "2026-12-31T00:00:00Z"},
                       {"issuedAt", "2026-11-21T00:00:00Z"}}}}
             .dump();
       },
       k401, k403, kOk, k403},
      {"GET", std::string("/recalls/") + kRecall + "?" + after, none, k401, kOk, kOk, k403},
      {"GET", "/alerts?" + after, none, k401, kOk, kOk, k403},
      {"GET", std::string("/enterprises/") + kRetailer + "/timeline", none, k401, kOk, kOk, k403},
      {"GET", std::string("/cylinders/SH-LPG-2019-004512/fill-permit?station=") + kRetailer, none, k401,
       kOk, kOk, k403},
      {"GET", "/ledger/checkpoint", none, kOk, kOk, kOk, kOk},
      {"GET", "/ledger/key", none, kOk, kOk, kOk, kOk},
      {"GET", "/ledger/entries/0", none, k401, k403, kOk, kOk},
      {"GET", "/ledger/proof/inclusion?seq=0", none, k401, kOk, kOk, kOk},
      {"GET", "/ledger/proof/consistency?from=1", none, k401, kOk, kOk, kOk},
      {"POST", "/evidence",
       [](int) { return json{{"eventIds", {"urn:uuid:matrix-job"}}}.dump(); }, k401, k403, kOk, kOk},
  };
  const std::vector<std::pair<std::string, std::string>> principals = {
      {"anonymous", ""},
      {"enterprise", Token(Role::kEnterprise, kRetailer)},
      {"regulator", Token(Role::kRegulator, kRegulator)},
      {"auditor", Token(Role::kAuditor, "court:shanghai-3")}};
  int call = 0;
  for (const Row& row : rows) {
    const Expect expected[] = {row.anonymous, row.enterprise, row.regulator, row.auditor};
    for (size_t p = 0; p < principals.size(); ++p) {
      SCOPED_TRACE(row.method + " " + row.path + " as " + principals[p].first);
      const uint64_t before = server_->ledger().size();
      httplib::Result res = row.method == "GET"
                                ? Get(row.path, principals[p].second)
                                : Post(row.path, row.body(call++), principals[p].second);
      ASSERT_TRUE(res);
      switch (expected[p]) {
        case kOk:
          EXPECT_GE(res->status, 200) << res->body;
          EXPECT_LT(res->status, 300) << res->body;
          break;
        case k401:
          EXPECT_EQ(res->status, 401) << res->body;
          EXPECT_EQ(Body(res)["rule"], "unauthenticated");
          break;
        case k403:
          EXPECT_EQ(res->status, 403) << res->body;
          EXPECT_EQ(Body(res)["rule"], "forbidden");
          break;
      }
      if (expected[p] != kOk) {
        EXPECT_EQ(server_->ledger().size(), before) << "a refused request changed the ledger";
      }
    }
  }
}

TEST_F(RoleMatrixTest, AnEnterpriseSeesOnlyWhatIsItsOwn) {
  const std::string retailer = Token(Role::kEnterprise, kRetailer);
  const std::string station = Token(Role::kEnterprise, kStation);
  const std::string regulator = Token(Role::kRegulator, kRegulator);
  const std::string after = "after=" + std::to_string(size_);

  // Events: the retailer's own EPCIS events only (it submitted two ObjectEvents).
  auto mine = Get("/events?perPage=1000", retailer);
  auto all = Get("/events?perPage=1000", regulator);
  ASSERT_TRUE(mine && all);
  const json mine_events = Body(mine)["epcisBody"]["queryResults"]["resultsBody"]["eventList"];
  const json all_events = Body(all)["epcisBody"]["queryResults"]["resultsBody"]["eventList"];
  EXPECT_EQ(mine_events.size(), 2u) << mine->body;
  EXPECT_GT(all_events.size(), mine_events.size());
  for (const json& e : mine_events) {
    bool found = false;
    for (const std::string& line : SampleEvents()) {
      json native = json::parse(line);
      if (native["eventId"] == e["eventID"]) found = native["submitterId"] == kRetailer;
    }
    EXPECT_TRUE(found) << e.dump();
  }

  // Trace: the station never handled the milk lot.
  auto r = Get(std::string("/trace/") + kLot + "?" + after, station);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403) << r->body;
  // Recall: not addressed to the station (answered as missing); addressed to the retailer.
  r = Get(std::string("/recalls/") + kRecall + "?" + after, station);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->body;
  r = Get(std::string("/recalls/") + kRecall + "?" + after, retailer);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  // Timeline: only its own.
  r = Get(std::string("/enterprises/") + kStation + "/timeline", retailer);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403) << r->body;
  // Fill permit: only for itself as the station.
  r = Get(std::string("/cylinders/SH-LPG-2019-004512/fill-permit?station=") + kStation, retailer);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403) << r->body;
  r = Get(std::string("/cylinders/SH-LPG-2019-004512/fill-permit?station=") + kStation, station);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  // Writing as another party, or a regulator's event kind, is refused whole.
  json as_other = json::parse(SampleEvents()[0]);
  as_other["eventId"] = "urn:uuid:as-other-party";
  r = Post("/capture", json{{"events", {as_other}}}.dump(), retailer);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403) << r->body;
  EXPECT_EQ(Body(r)["errors"][0]["rule"], "submitter_mismatch");
  EXPECT_EQ(server_->ledger().size(), size_);
}

}  // namespace
}  // namespace traceledger::api
