// File: api/server/server_test.cc
//
// The HTTP API end to end in one process: capture (EPCIS 2.0 and native), the capture job,
// the EPCIS query, the views (trace, recall, alerts, timeline, fill permit), ledger reads and
// proofs, evidence bundles verified offline, metrics, and durability across a restart.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "api/evidence/evidence_bundle.h"
#include "api/server/ledger_json.h"
#include "api/server/testing/server_fixture.h"
#include "ingest/event_decoder.h"
#include "projections/all_views.h"
#include "projections/runner.h"

namespace traceledger::api {
namespace {

using testing::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> JsonldFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".jsonld") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every event of an EPCIS document (its eventList, or a query document's result list).
json EventsOf(const json& doc) {
  const json& body = doc["epcisBody"];
  if (body.contains("eventList")) return body["eventList"];
  return body["queryResults"]["resultsBody"]["eventList"];
}

class ServerTest : public testing::ServerFixture {
 protected:
  // Every event the EPCIS query answers, following nextPageToken.
  std::vector<json> AllQueried(const std::string& token, const std::string& query = "") {
    std::vector<json> out;
    std::string path = "/events?perPage=1000" + query;
    for (int pages = 0; pages < 100; ++pages) {
      auto r = Get(path, token);
      EXPECT_TRUE(r);
      if (!r) break;
      EXPECT_EQ(r->status, 200) << r->body;
      json doc = Body(r);
      for (const json& e : doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) {
        out.push_back(e);
      }
      const std::string link = r->get_header_value("Link");
      if (link.empty()) break;
      path = link.substr(1, link.find('>') - 1);
    }
    return out;
  }

  // Captures one EPCIS document as `party`; checks the receipts; returns the job.
  json CaptureDocument(const std::string& text, const std::string& party) {
    auto r = Post("/capture", text, Token(Role::kEnterprise, party), "application/ld+json");
    EXPECT_TRUE(r);
    if (!r) return nullptr;
    EXPECT_EQ(r->status, 202) << r->body;
    json job = Body(r);
    EXPECT_EQ(r->get_header_value("Location"), "/capture/" + job.value("captureID", ""));
    EXPECT_EQ(job["success"], true);
    EXPECT_EQ(job["receipts"].size(), EventsOf(json::parse(text)).size());
    for (const json& receipt : job["receipts"]) {
      EXPECT_EQ(receipt["leaf_hash"].get<std::string>().size(), 64u);
    }
    return job;
  }
};

TEST_F(ServerTest, CapturesEveryRepositoryEpcisFixtureAndFindsEachEventByQuery) {
  const std::string party = "9521101000009";
  size_t captured = 0;
  std::set<std::string> ids;
  for (const std::string& path : JsonldFiles(std::string(TL_SOURCE_DIR) + "/ingest/testdata/epcis")) {
    SCOPED_TRACE(path);
    json job = CaptureDocument(ReadFile(path), party);
    for (const json& receipt : job["receipts"]) {
      if (receipt["status"] == "appended") ++captured;
    }
  }
  ASSERT_GT(captured, 10u);
  EXPECT_EQ(server_->ledger().size(), captured);
  // All of them come back from the query, in ledger order, exactly once.
  std::vector<json> events = AllQueried(Token(Role::kRegulator, "regulator:T"));
  EXPECT_EQ(events.size(), captured);
  // And an EPC of the first fixture finds its event.
  auto hits = AllQueried(Token(Role::kEnterprise, party),
                         "&MATCH_anyEPC=" + httplib::detail::encode_query_param(
                                                events[0].contains("epcList") && !events[0]["epcList"].empty()
                                                    ? events[0]["epcList"][0].get<std::string>()
                                                    : events[0].value("parentID", "")));
  EXPECT_GE(hits.size(), 1u);
}

TEST_F(ServerTest, OfficialEpcisExamplesAreAcceptedAndFindableWhenAvailable) {
  const char* dir = std::getenv("TL_EPCIS_CONFORMANCE_DIR");
  if (dir == nullptr) GTEST_SKIP() << "TL_EPCIS_CONFORMANCE_DIR is not set";
  const std::vector<std::string> files = JsonldFiles(dir);
  ASSERT_FALSE(files.empty());
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    // A fresh ledger per document: some examples reuse one eventID for different events.
    StopServer();
    issued_.clear();
    std::filesystem::remove_all(dir_ + "/data");
    Start();
    const std::string text = ReadFile(path);
    json job = CaptureDocument(text, "9521101000009");
    const json events = EventsOf(json::parse(text));
    std::vector<json> found = AllQueried(Token(Role::kRegulator, "regulator:T"));
    ASSERT_EQ(found.size(), events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      // The stored event object comes back as captured.
      EXPECT_EQ(found[i], events[i]);
    }
  }
}

TEST_F(ServerTest, CaptureJobIsKeptAcrossARestartAndOnlyItsOwnerReadsIt) {
  const std::string party = "9521101000009";
  json job = CaptureDocument(
      ReadFile(std::string(TL_SOURCE_DIR) + "/ingest/testdata/epcis/association_event_minimal.jsonld"),
      party);
  const std::string id = job["captureID"];
  StopServer();
  issued_.clear();
  Start();
  EXPECT_EQ(server_->ledger().size(), job["receipts"].size());
  auto r = Get("/capture/" + id, Token(Role::kEnterprise, party));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Body(r)["receipts"], job["receipts"]);
  r = Get("/capture/" + id, Token(Role::kEnterprise, "9521199000001"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = Get("/capture/" + id, Token(Role::kRegulator, "regulator:T"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, ViewsAnswerTheDemoStory) {
  const uint64_t size = CaptureNative(SampleEvents());
  ASSERT_EQ(size, SampleEvents().size());
  const std::string regulator = Token(Role::kRegulator, "regulator:SAMR-310104");
  const std::string after = "after=" + std::to_string(size);

  // The recalled lot traces back to its two ingredients and forward to its holders.
  const std::string lot = "urn:epc:class:lgtin:9521002.010001.L261110";
  auto r = Get("/trace/" + lot + "?direction=backward&" + after, regulator);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  std::set<std::string> nodes;
  const json backward = Body(r);
  for (const json& n : backward["nodes"]) nodes.insert(n["id"].get<std::string>());
  EXPECT_TRUE(nodes.count("urn:epc:class:lgtin:9521001.000010.WMP261102")) << r->body;
  EXPECT_TRUE(nodes.count("urn:epc:class:lgtin:9521010.000020.LAC2610A")) << r->body;
  r = Get("/trace/" + lot + "?direction=forward&" + after, regulator);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_FALSE(Body(r)["holders"].empty()) << r->body;
  r = Get("/trace/" + lot + "?direction=sideways", regulator);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Body(r)["parameter"], "direction");

  // The recall case with its holders and progress.
  r = Get("/recalls/RC-310104-2026-0007?" + after, regulator);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json recall = Body(r);
  EXPECT_FALSE(recall["recall"]["holders"].empty()) << r->body;
  EXPECT_TRUE(recall.contains("effectivenessPercent")) << r->body;
  r = Get("/recalls/RC-NOPE", regulator);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);

  // The enforcement timeline of the inspected enterprise.
  r = Get("/enterprises/91310104MA1F000047/timeline?" + after, regulator);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;

  // The refuse-to-fill gate: the station's own registered, inspected cylinder may be filled;
  // another station may not fill it.
  const std::string cylinder = "urn:epc:id:grai:9521009.00001.1001";
  r = Get("/cylinders/" + cylinder + "/fill-permit?station=91310112MA1E00009N", regulator);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Body(r)["allowed"], true) << r->body;
  r = Get("/cylinders/" + cylinder + "/fill-permit?station=91310112MA1X00000X", regulator);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Body(r)["allowed"], false) << r->body;
  EXPECT_FALSE(Body(r)["reasons"].empty()) << r->body;
  r = Get("/cylinders/UNKNOWN-1/fill-permit?station=91310112MA1E00009N", regulator);
  ASSERT_TRUE(r);
  EXPECT_EQ(Body(r)["allowed"], false) << r->body;

  r = Get("/alerts?" + after, regulator);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(Body(r).contains("serial"));
  EXPECT_TRUE(Body(r).contains("cylinder"));
}

TEST_F(ServerTest, LedgerReadsMatchTheLibraryAndBundlesVerifyOffline) {
  std::vector<std::string> events = SampleEvents();
  const uint64_t size = CaptureNative(events);
  ASSERT_GT(size, 3u);
  // The checkpoint and key are public.
  auto r = Get("/ledger/checkpoint");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body.rfind("test.example/traceledger\n", 0), 0u) << r->body;
  auto key = Get("/ledger/key");
  ASSERT_TRUE(key);
  ASSERT_EQ(key->status, 200);
  const std::string auditor = Token(Role::kAuditor, "");

  r = Get("/ledger/entries/2", auditor);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Body(r), *EntryJson(server_->ledger(), 2));
  r = Get("/ledger/entries/" + std::to_string(size + 5), auditor);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);

  r = Get("/ledger/proof/inclusion?seq=1&size=" + std::to_string(size), auditor);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Body(r), *InclusionProofJson(server_->ledger(), 1, size));
  r = Get("/ledger/proof/inclusion?seq=" + std::to_string(size) + "&size=" + std::to_string(size), auditor);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  r = Get("/ledger/proof/consistency?from=2&to=" + std::to_string(size), auditor);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Body(r), *ConsistencyProofJson(server_->ledger(), 2, size));
  r = Get("/ledger/proof/consistency?from=x", auditor);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Body(r)["parameter"], "from");

  // An evidence bundle of three events verifies offline with the public key alone.
  json ids = json::array();
  for (int i : {0, 3, 5}) ids.push_back(json::parse(events[i])["eventId"]);
  r = Post("/evidence", json{{"eventIds", ids}}.dump(), auditor);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  std::string vkey = key->body;
  while (!vkey.empty() && vkey.back() == '\n') vkey.pop_back();
  BundleVerdict verdict = VerifyEvidenceBundle(r->body, vkey);
  EXPECT_TRUE(verdict.ok) << verdict.problem;
  ASSERT_EQ(verdict.entries.size(), 3u);
  for (const auto& e : verdict.entries) EXPECT_TRUE(e.ok) << e.problem;
  // One changed byte is caught.
  std::string tampered = r->body;
  tampered[tampered.size() / 2] ^= 1;
  EXPECT_FALSE(VerifyEvidenceBundle(tampered, vkey).ok);

  // A recall case's bundle: the opening event and the removal confirmations.
  // The case is read from the recalls view: after=SEQ waits until it has applied every event
  // captured (without it the removals may not be applied yet).
  r = Post("/evidence?after=" + std::to_string(size),
           json{{"recallId", "RC-310104-2026-0007"}}.dump(), auditor);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  verdict = VerifyEvidenceBundle(r->body, vkey);
  EXPECT_TRUE(verdict.ok) << verdict.problem;
  EXPECT_GE(verdict.entries.size(), 2u);
  r = Post("/evidence", json{{"eventIds", {"urn:uuid:never-captured"}}}.dump(), auditor);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->body;
}

// The views the embedded server builds while it captures (in-process, following the ledger)
// equal views rebuilt from the ledger alone (DESIGN.md invariant 6).
TEST_F(ServerTest, ViewsBuiltBesideCaptureEqualAFreshRebuild) {
  const uint64_t size = CaptureNative(SampleEvents());
  CaptureDocument(ReadFile(std::string(TL_SOURCE_DIR) +
                           "/ingest/testdata/epcis/error_declaration_and_corrective_event.jsonld"),
                  "9521101000009");
  const uint64_t all = server_->ledger().size();
  ASSERT_GT(all, size);
  auto r = Get("/trace/x?after=" + std::to_string(all), Token(Role::kRegulator, "regulator:T"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;  // waited until the views applied everything

  projections::RunnerOptions options;
  options.decoder = ingest::DecodeStoredEventInto;
  auto fresh = projections::ProjectionRunner::Open(dir_ + "/fresh-views", projections::AllViews(),
                                                   options);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  auto source = projections::LedgerEntrySource(server_->ledger());
  auto applied = (*fresh)->CatchUp(*source);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  for (const std::string& view : (*fresh)->names()) {
    SCOPED_TRACE(view);
    std::vector<std::pair<std::string, std::string>> served, rebuilt;
    ASSERT_TRUE(server_->views()
                    .ForEach(view, [&](std::string_view k, std::string_view v) {
                      served.emplace_back(k, v);
                      return true;
                    })
                    .ok());
    ASSERT_TRUE((*fresh)->store()
                    .ForEach(view, [&](std::string_view k, std::string_view v) {
                      rebuilt.emplace_back(k, v);
                      return true;
                    })
                    .ok());
    EXPECT_GT(rebuilt.size(), 0u);
    EXPECT_TRUE(served == rebuilt) << served.size() << " rows served, " << rebuilt.size()
                                   << " rebuilt";
  }
}

TEST_F(ServerTest, MetricsAndHealthReportTheServer) {
  CaptureNative({SampleEvents()[0]});
  auto r = Get("/healthz");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Body(r)["ledger_size"], 1);
  r = Get("/metrics", Token(Role::kRegulator, "regulator:T"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("traceledger_http_requests_total{route=\"POST /capture\",status=\"202\"} 1"),
            std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("traceledger_ledger_entries 1"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("traceledger_capture_events_total 1"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("traceledger_http_request_duration_seconds_bucket{route=\"POST /capture\",le=\"+Inf\"} 1"),
            std::string::npos);
  EXPECT_NE(r->body.find("traceledger_projection_lag_entries"), std::string::npos);
}

}  // namespace
}  // namespace traceledger::api
