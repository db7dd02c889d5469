// Every line of tools/demo/sample_events.jsonl must decode and validate, so the demo data and
// the rules cannot drift apart.
#include <fstream>
#include <set>
#include <string>
#include <variant>

#include <gtest/gtest.h>

#include "ingest/event_validator.h"

#ifndef TL_SOURCE_DIR
#error "TL_SOURCE_DIR must name the repository root (set in ingest/CMakeLists.txt)"
#endif

namespace traceledger::ingest {
namespace {

// 2026-11-26T00:00:00Z, the "now" the demo story is written against.
constexpr int64_t kDemoNowUnixMicros = 1795651200LL * 1000000;

TEST(SampleEventsTest, EveryLineDecodesAndValidates) {
  const std::string path = std::string(TL_SOURCE_DIR) + "/tools/demo/sample_events.jsonl";
  std::ifstream file(path);
  ASSERT_TRUE(file.is_open()) << path;

  ValidationContext ctx;
  ctx.now_unix_micros = kDemoNowUnixMicros;
  std::set<std::string> event_ids;
  std::set<int> body_kinds;
  std::string line;
  int line_number = 0;
  while (std::getline(file, line)) {
    ++line_number;
    if (line.empty()) continue;
    auto result = DecodeAndValidate(line, traceledger::v1::EVENT_ENCODING_JSON, ctx);
    if (const Violation* violation = std::get_if<Violation>(&result)) {
      ADD_FAILURE() << path << ":" << line_number << ": " << ValidationRuleName(violation->rule)
                    << " at " << violation->field << ": " << violation->message;
      continue;
    }
    const traceledger::v1::Event& event = std::get<traceledger::v1::Event>(result);
    EXPECT_TRUE(event_ids.insert(event.event_id()).second)
        << path << ":" << line_number << ": duplicate event id " << event.event_id();
    EXPECT_FALSE(ObjectIdsOf(event).empty()) << path << ":" << line_number;
    body_kinds.insert(static_cast<int>(event.body_case()));
  }
  EXPECT_GE(line_number, 35);
  EXPECT_EQ(body_kinds.size(), 13u) << "the story should use every body type";
}

}  // namespace
}  // namespace traceledger::ingest
