// File: api/server/capture_errors_test.cc
//
// Bad input never changes state and always gets a specific answer (DESIGN.md invariant 7): a
// corpus of malformed capture requests, each checked for its HTTP status, the rule named in the
// RFC 9457 problem, the JSON pointer of the bad field, and an unchanged ledger.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/server/testing/server_fixture.h"

namespace traceledger::api {
namespace {

using testing::json;

constexpr char kParty[] = "9521101000009";

json ValidObjectEvent(const std::string& id) {
  return {{"type", "ObjectEvent"},
          {"eventID", id},
          {"eventTime", "2025-03-01T08:00:00+08:00"},
          {"eventTimeZoneOffset", "+08:00"},
          {"epcList", {"urn:epc:id:sgtin:9521101.012345.1001"}},
          {"action", "OBSERVE"},
          {"bizStep", "shipping"},
          {"disposition", "in_transit"},
          {"readPoint", {{"id", "urn:epc:id:sgln:9521101.00000.1"}}},
          {"bizLocation", {{"id", "urn:epc:id:sgln:9521101.00000.0"}}}};
}

json Document(json events) {
  return {{"@context", {"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"}},
          {"type", "EPCISDocument"},
          {"schemaVersion", "2.0"},
          {"creationDate", "2025-03-01T08:00:00+08:00"},
          {"epcisBody", {{"eventList", std::move(events)}}}};
}

json NativeEvent(const std::string& id, const std::string& submitter) {
  return {{"eventId", id},
          {"submitterId", submitter},
          {"objectEvent",
           {{"common", {{"eventTime", "2025-03-01T00:00:00Z"}, {"bizStep", "shipping"}}},
            {"epcList", {"urn:epc:id:sgtin:9521101.012345.2001"}},
            {"action", "ACTION_OBSERVE"}}}};
}

struct Case {
  std::string name;
  std::string body;
  int status;
  std::string rule;      // the problem's rule, or (with errors) the first error's rule
  std::string pointer;   // expected pointer ("" = do not check)
  std::string content_type = "application/json";
};

class CaptureErrorsTest : public testing::ServerFixture {
 protected:
  void Configure(EmbeddedOptions& options) override {
    options.capture.max_events = 5;
    options.server.max_body_bytes = 64 * 1024;
  }
};

std::vector<Case> Corpus() {
  std::vector<Case> cases;
  auto doc_with = [](const std::function<void(json&)>& change) {
    json event = ValidObjectEvent("urn:uuid:11111111-0000-4000-8000-000000000001");
    change(event);
    return Document(json::array({event})).dump();
  };
  auto doc_change = [](const std::function<void(json&)>& change) {
    json doc = Document(json::array({ValidObjectEvent("urn:uuid:11111111-0000-4000-8000-000000000002")}));
    change(doc);
    return doc.dump();
  };
  const std::string e0 = "/epcisBody/eventList/0";
  cases.push_back({"truncated JSON", "{\"type\": \"EPCISDocument\", ", 400, "bad_json", ""});
  cases.push_back({"a number no double holds",
                   "{\"type\": \"EPCISDocument\", \"schemaVersion\": \"2.0\", \"x\": 1e999}", 400,
                   "bad_json", ""});
  cases.push_back({"invalid UTF-8", "{\"type\": \"EPCIS\xff\"}", 400, "bad_json", ""});
  cases.push_back({"root is an array", "[]", 400, "bad_document", ""});
  cases.push_back({"neither form", "{\"foo\": 1}", 400, "bad_document", ""});
  cases.push_back({"wrong document type",
                   doc_change([](json& d) { d["type"] = "EPCISMasterDataDocument"; }), 400,
                   "bad_document", "/type"});
  cases.push_back({"type not a string", doc_change([](json& d) { d["type"] = 7; }), 400,
                   "bad_document", "/type"});
  cases.push_back({"schemaVersion 1.2", doc_change([](json& d) { d["schemaVersion"] = "1.2"; }),
                   400, "bad_document", "/schemaVersion"});
  cases.push_back({"no schemaVersion", doc_change([](json& d) { d.erase("schemaVersion"); }), 400,
                   "bad_document", "/schemaVersion"});
  cases.push_back({"no epcisBody", doc_change([](json& d) { d.erase("epcisBody"); }), 400,
                   "bad_document", "/epcisBody"});
  cases.push_back({"eventList not an array",
                   doc_change([](json& d) { d["epcisBody"]["eventList"] = json::object(); }), 400,
                   "bad_document", "/epcisBody/eventList"});
  cases.push_back({"empty eventList",
                   doc_change([](json& d) { d["epcisBody"]["eventList"] = json::array(); }), 400,
                   "empty_document", "/epcisBody/eventList"});
  cases.push_back({"event not an object",
                   doc_change([](json& d) { d["epcisBody"]["eventList"] = {"ObjectEvent"}; }), 400,
                   "bad_document", e0});
  cases.push_back({"unknown event type", doc_with([](json& e) { e["type"] = "TeleportEvent"; }),
                   400, "unparsable", e0});
  cases.push_back({"missing eventTime", doc_with([](json& e) { e.erase("eventTime"); }), 400,
                   "missing_field", e0 + "/eventTime"});
  cases.push_back({"eventTime wrong type", doc_with([](json& e) { e["eventTime"] = 20250301; }),
                   400, "unparsable", e0});
  cases.push_back({"eventTime not a time",
                   doc_with([](json& e) { e["eventTime"] = "yesterday"; }), 400, "", e0});
  cases.push_back({"eventTime in the future",
                   doc_with([](json& e) { e["eventTime"] = "2099-01-01T00:00:00Z"; }), 400,
                   "event_time_in_future", e0 + "/eventTime"});
  cases.push_back({"malformed EPC URN",
                   doc_with([](json& e) { e["epcList"] = {"urn:epc:id:sgtin:123"}; }), 400,
                   "bad_identifier", e0 + "/epcList/0"});
  cases.push_back({"GTIN check digit wrong",
                   doc_with([](json& e) {
                     e["epcList"] = {"https://id.gs1.org/01/09521101012346/21/1001"};
                   }),
                   400, "bad_identifier", e0 + "/epcList/0"});
  cases.push_back({"unknown action", doc_with([](json& e) { e["action"] = "JUMP"; }), 400, "",
                   e0});
  cases.push_back({"negative quantity",
                   doc_with([](json& e) {
                     e["quantityList"] = {{{"epcClass", "urn:epc:class:lgtin:9521101.012345.L1"},
                                           {"quantity", -5},
                                           {"uom", "KGM"}}};
                   }),
                   400, "bad_quantity", e0 + "/quantityList/0/quantity"});
  cases.push_back({"unknown field", doc_with([](json& e) { e["colour"] = "red"; }), 400,
                   "unparsable", e0});
  cases.push_back({"epcList not an array",
                   doc_with([](json& e) { e["epcList"] = "urn:epc:id:sgtin:9521101.012345.1"; }),
                   400, "unparsable", e0});
  cases.push_back({"eventID too long",
                   doc_with([](json& e) { e["eventID"] = "urn:x:" + std::string(300, 'a'); }),
                   400, "too_large", e0 + "/eventID"});
  {
    // A repeated key inside a native event: two parsers could read two different events.
    std::string doc = json{{"events", {NativeEvent("urn:uuid:dup-key", kParty)}}}.dump();
    const std::string needle = "\"action\":\"ACTION_OBSERVE\"";
    doc.replace(doc.find(needle), needle.size(), needle + ",\"action\":\"ACTION_ADD\"");
    cases.push_back({"native: repeated key in an event", doc, 400, "unparsable", "/events/0"});
  }
  {
    json a = ValidObjectEvent("urn:uuid:same-id");
    json b = a;
    b["disposition"] = "damaged";
    cases.push_back({"one id, two contents in a document", Document(json::array({a, b})).dump(),
                     400, "duplicate_in_document", "/epcisBody/eventList/1"});
  }
  {
    json good = ValidObjectEvent("urn:uuid:good-then-bad-1");
    json bad = ValidObjectEvent("urn:uuid:good-then-bad-2");
    bad["epcList"] = {"urn:epc:id:sgtin:not-an-epc"};
    cases.push_back({"second event bad (all or nothing)", Document(json::array({good, bad})).dump(),
                     400, "bad_identifier", "/epcisBody/eventList/1/epcList/0"});
  }
  {
    json events = json::array();
    for (int i = 0; i < 6; ++i) events.push_back(ValidObjectEvent("urn:uuid:many-" + std::to_string(i)));
    cases.push_back({"too many events", Document(events).dump(), 413, "too_many_events",
                     "/epcisBody/eventList"});
  }
  {
    json event = ValidObjectEvent("urn:uuid:huge");
    event["ext:note"] = std::string(70 * 1024, 'x');
    cases.push_back({"body over max_body_bytes", Document(json::array({event})).dump(), 413,
                     "body_too_large", ""});
  }
  cases.push_back({"native: another party's event",
                   json{{"events", {NativeEvent("urn:uuid:as-other", "9521199000001")}}}.dump(), 403,
                   "submitter_mismatch", "/events/0/submitterId"});
  {
    json recall = {{"eventId", "urn:uuid:enterprise-recall"},
                   {"submitterId", kParty},
                   {"recall",
                    {{"recallId", "RC-X"},
                     {"phase", "PHASE_OPENED"},
                     {"level", "LEVEL_I"},
                     {"reason", "not yours to open"},
                     {"rootIds", {"urn:epc:class:lgtin:9521101.012345.L1"}}}}};
    cases.push_back({"native: enterprise opens a recall", json{{"events", {recall}}}.dump(), 403,
                     "forbidden_event_kind", "/events/0"});
  }
  cases.push_back({"native: events not an array", "{\"events\": {}}", 400, "bad_document",
                   "/events"});
  {
    json event = NativeEvent("urn:uuid:native-unknown", kParty);
    event["objectEvent"]["colour"] = "red";
    cases.push_back({"native: unknown field", json{{"events", {event}}}.dump(), 400, "unparsable",
                     "/events/0"});
  }
  cases.push_back({"not JSON media type", Document(json::array({ValidObjectEvent("urn:uuid:txt")})).dump(),
                   415, "unsupported_media_type", "", "text/plain"});
  return cases;
}

TEST_F(CaptureErrorsTest, EveryMalformedRequestGetsItsRuleAndPointerAndChangesNothing) {
  const std::string token = Token(Role::kEnterprise, kParty);
  const std::vector<Case> cases = Corpus();
  ASSERT_GE(cases.size(), 30u);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const uint64_t before = server_->ledger().size();
    auto r = Post("/capture", c.body, token, c.content_type);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, c.status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/problem+json");
    json problem = Body(r);
    ASSERT_TRUE(problem.is_object()) << r->body;
    EXPECT_EQ(problem.value("status", 0), c.status);
    EXPECT_FALSE(problem.value("detail", "").empty()) << r->body;
    std::string rule = problem.value("rule", "");
    std::string pointer = problem.value("pointer", "");
    if (problem.contains("errors")) {
      rule = problem["errors"][0].value("rule", "");
      pointer = problem["errors"][0].value("pointer", "");
    }
    if (!c.rule.empty()) {
      EXPECT_EQ(rule, c.rule) << r->body;
    }
    if (!c.pointer.empty()) {
      EXPECT_EQ(pointer, c.pointer) << r->body;
    }
    EXPECT_EQ(server_->ledger().size(), before) << "a refused capture appended entries";
  }
}

TEST_F(CaptureErrorsTest, ReusedIdWithOtherContentIs409AndAppendsNothing) {
  const std::string token = Token(Role::kEnterprise, kParty);
  json first = ValidObjectEvent("urn:uuid:reused");
  auto r = Post("/capture", Document(json::array({first})).dump(), token);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  const uint64_t size = server_->ledger().size();

  json changed = first;
  changed["disposition"] = "damaged";
  json fresh = ValidObjectEvent("urn:uuid:fresh-beside-conflict");
  r = Post("/capture", Document(json::array({fresh, changed})).dump(), token);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409) << r->body;
  json problem = Body(r);
  EXPECT_EQ(problem["rule"], "conflict");
  EXPECT_EQ(problem["errors"][0]["pointer"], "/epcisBody/eventList/1");
  EXPECT_EQ(problem["errors"][0]["eventId"], "urn:uuid:reused");
  EXPECT_EQ(server_->ledger().size(), size);

  // The same content again is idempotent: the existing receipt, nothing appended.
  r = Post("/capture", Document(json::array({first})).dump(), token);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  EXPECT_EQ(Body(r)["receipts"][0]["status"], "duplicate");
  EXPECT_EQ(server_->ledger().size(), size);
}

TEST_F(CaptureErrorsTest, MissingOrBadCredentialsAre401) {
  const std::string body = Document(json::array({ValidObjectEvent("urn:uuid:anon")})).dump();
  auto r = Post("/capture", body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(Body(r)["rule"], "unauthenticated");
  EXPECT_FALSE(r->get_header_value("WWW-Authenticate").empty());
  r = client_->Post("/capture", {{"Authorization", "Bearer tl_0000000000000000_00"}}, body,
                    "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = client_->Post("/capture", {{"Authorization", "Basic dXNlcjpwYXNz"}}, body, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(server_->ledger().size(), 0u);
}

}  // namespace
}  // namespace traceledger::api
