// File: api/server/trace_json_test.cc
//
// TraceJson against the path GET /trace/{id} took before it: protobuf's JSON printer, parsed
// into nlohmann::json, two keys added, dumped. The two must give the same bytes.
#include "api/server/trace_json.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/server/proto_json.h"

namespace traceledger::api {
namespace {

using nlohmann::json;

// What every other route answers with (proto_json.h), as GET /trace/{id} did.
std::string ThroughProtobufAndJson(const v1::TraceResult& trace, std::string_view direction,
                                   uint64_t views_applied) {
  json out = ProtoJson(trace);
  EXPECT_TRUE(out.is_object()) << "protobuf did not print the answer";
  out["direction"] = direction;
  out["views_applied"] = views_applied;
  return DumpJson(out);
}

v1::TraceResult SmallChain() {
  v1::TraceResult trace;
  trace.set_root_id("urn:epc:class:lgtin:4012345.012345.LOT-A");
  auto* root = trace.add_nodes();
  root->set_id(trace.root_id());
  root->set_kind(v1::NODE_KIND_OBJECT);
  root->set_time_unix_micros(std::numeric_limits<int64_t>::min());
  root->set_direction("root");
  auto* party = trace.add_nodes();
  party->set_id("urn:epc:id:pgln:4012345.00002");
  party->set_kind(v1::NODE_KIND_PARTY);
  party->set_time_unix_micros(1767225600123456);
  party->set_depth(1);
  party->set_direction("forward");
  auto* edge = trace.add_edges();
  edge->set_from(trace.root_id());
  edge->set_to(party->id());
  edge->set_kind("received");
  edge->set_sequence(std::numeric_limits<uint64_t>::max());
  edge->set_time_unix_micros(1767225600123456);
  edge->set_quantity(12.5);
  edge->set_uom("KGM");
  edge->set_party(party->id());
  auto* holder = trace.add_holders();
  holder->set_party(party->id());
  holder->set_object_id(trace.root_id());
  holder->set_quantity(3);
  holder->set_uom("KGM");
  holder->set_location("urn:epc:id:sgln:4012345.00002.0");
  auto* sold = trace.add_holders();
  sold->set_party(party->id());
  sold->set_object_id(trace.root_id());
  sold->set_quantity(0.25);
  sold->set_sold_to_consumers(true);
  return trace;
}

TEST(TraceJsonTest, IsWhatProtobufAndJsonAnsweredForAChain) {
  const v1::TraceResult trace = SmallChain();
  for (const char* direction : {"forward", "backward", "both"}) {
    EXPECT_EQ(TraceJson(trace, direction, 42), ThroughProtobufAndJson(trace, direction, 42));
  }
}

TEST(TraceJsonTest, PrintsEveryFieldOfAnEmptyAnswer) {
  v1::TraceResult empty;
  EXPECT_EQ(TraceJson(empty, "both", 0), ThroughProtobufAndJson(empty, "both", 0));
  EXPECT_EQ(TraceJson(empty, "both", 0),
            R"({"direction":"both","edges":[],"holders":[],"nodes":[],"rootId":"",)"
            R"("truncated":false,"truncatedReason":"","views_applied":0})");

  v1::TraceResult cut = SmallChain();
  cut.set_truncated(true);
  cut.set_truncated_reason("max_nodes");
  cut.add_nodes();  // a node with every field at its default
  cut.add_edges();
  cut.add_holders();
  EXPECT_EQ(TraceJson(cut, "forward", 7), ThroughProtobufAndJson(cut, "forward", 7));
}

TEST(TraceJsonTest, QuantitiesAndEnumsAsBefore) {
  const double quantities[] = {0,       -0.0,   1,        -2,     3.5,   0.1,
                               1e-7,    1.0 / 3, 2.5e-300, 1e14,  99999999999999.0,
                               123456789012345.0, 1e15, 1e20,  -4e21, 6.02214076e23,
                               // Whole numbers from 10^15 on that need 16 or 17 digits.
                               1234567890123456.0, -9007199254740993.0, 12345678901234568.0,
                               1e16 + 2, 99999999999999984.0, 1e17, 123456789012345678.0,
                               std::numeric_limits<double>::max(),
                               std::numeric_limits<double>::denorm_min(),
                               std::numeric_limits<double>::quiet_NaN(),
                               std::numeric_limits<double>::infinity(),
                               -std::numeric_limits<double>::infinity()};
  v1::TraceResult trace = SmallChain();
  for (double quantity : quantities) {
    trace.mutable_edges(0)->set_quantity(quantity);
    trace.mutable_holders(0)->set_quantity(-quantity);
    EXPECT_EQ(TraceJson(trace, "forward", 1), ThroughProtobufAndJson(trace, "forward", 1))
        << "quantity " << quantity;
  }
  // A kind this build has no name for is printed as its number, as protobuf does.
  trace.mutable_nodes(1)->set_kind(static_cast<v1::NodeKind>(99));
  EXPECT_EQ(TraceJson(trace, "forward", 1), ThroughProtobufAndJson(trace, "forward", 1));
}

TEST(TraceJsonTest, EscapesStringsAsBefore) {
  constexpr char kControls[] = "controls \b\f\n\r\t \x01 \x1f \x7f and a NUL \0 inside";
  const std::string texts[] = {
      "quote \" and backslash \\ and slash /",
      std::string(kControls, sizeof(kControls) - 1),
      "Latin \xC3\xA9, CJK \xE4\xB8\xAD\xE6\x96\x87, emoji \xF0\x9F\x93\xA6, U+2028 \xE2\x80\xA8",
      "\xED\x9F\xBF (U+D7FF) \xEE\x80\x80 (U+E000) \xF4\x8F\xBF\xBF (U+10FFFF)",
      "",
  };
  for (const std::string& text : texts) {
    v1::TraceResult trace = SmallChain();
    trace.set_root_id(text);
    trace.mutable_nodes(1)->set_id(text);
    trace.mutable_edges(0)->set_party(text);
    trace.mutable_holders(0)->set_location(text);
    EXPECT_EQ(TraceJson(trace, "both", 5), ThroughProtobufAndJson(trace, "both", 5)) << text;
  }
}

// Random well-formed UTF-8 (every range of code points, controls and quotes included).
TEST(TraceJsonTest, EscapesRandomUtf8AsBefore) {
  std::mt19937 random(20261207);
  const auto append_utf8 = [](std::string* s, uint32_t cp) {
    if (cp < 0x80) {
      s->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  };
  const uint32_t limits[] = {0x80, 0x800, 0x10000, 0x110000};
  for (int round = 0; round < 500; ++round) {
    std::string text;
    const int length = static_cast<int>(random() % 40);
    for (int i = 0; i < length; ++i) {
      uint32_t cp = static_cast<uint32_t>(random() % limits[random() % 4]);
      if (cp >= 0xD800 && cp <= 0xDFFF) cp -= 0x800;  // no surrogates in UTF-8
      append_utf8(&text, cp);
    }
    v1::TraceResult trace = SmallChain();
    trace.mutable_edges(0)->set_from(text);
    trace.mutable_holders(1)->set_uom(text);
    ASSERT_EQ(TraceJson(trace, "backward", 9), ThroughProtobufAndJson(trace, "backward", 9))
        << "round " << round;
  }
}

// Not UTF-8 (ids that capture would refuse): still a JSON document, each such string as
// nlohmann::json dumps it with U+FFFD in place of what is not UTF-8.
TEST(TraceJsonTest, ReplacesWhatIsNotUtf8) {
  const std::string broken[] = {"lot \xFF end", "cut \xE4\xB8", "overlong \xC0\xAF",
                                "surrogate \xED\xA0\x80", "past \xF4\x90\x80\x80",
                                "\x80 leading continuation"};
  for (const std::string& text : broken) {
    v1::TraceResult trace = SmallChain();
    trace.mutable_edges(0)->set_kind(text);
    const json parsed = json::parse(TraceJson(trace, "forward", 3), nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << text;
    const json replaced =
        json::parse(json(text).dump(-1, ' ', false, json::error_handler_t::replace));
    EXPECT_EQ(parsed["edges"][0]["kind"], replaced) << text;
    EXPECT_NE(replaced.get<std::string>().find("\xEF\xBF\xBD"), std::string::npos) << text;
    EXPECT_EQ(parsed["edges"][0]["uom"], "KGM");  // the fields after it are intact
  }
}

}  // namespace
}  // namespace traceledger::api
