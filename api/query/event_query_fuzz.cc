// libFuzzer target of GET /events' parameters (STYLE.md section 8): ParseEventQuery reads
// every URL query parameter a client sends (times, event types, CBV values, EPC patterns,
// perPage) and decodes its nextPageToken. Whatever the parameters, it must not crash, throw or
// trip a sanitizer. A query it accepts must take back the page token it issues: the same
// parameters with nextPageToken = EncodePageToken(query, 7) parse to the same query (same
// fingerprint) starting at sequence 7.
// The input is one parameter per line, "name=value" (already percent-decoded, as the server
// passes them); seeds: tests/fuzz_corpus/api_event_query_fuzz/.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "api/query/event_query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using traceledger::api::EventQuery;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::pair<std::string, std::string>> params;
  bool has_token = false;
  while (!input.empty()) {
    const size_t end = input.find('\n');
    const std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      params.emplace_back(std::string(line), "");
    } else {
      params.emplace_back(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
    }
    has_token = has_token || params.back().first == "nextPageToken";
  }
  const auto parsed = traceledger::api::ParseEventQuery(params);
  const auto* query = std::get_if<EventQuery>(&parsed);
  if (query == nullptr || has_token) return 0;
  params.emplace_back("nextPageToken", traceledger::api::EncodePageToken(*query, 7));
  const auto next = traceledger::api::ParseEventQuery(params);
  const auto* next_query = std::get_if<EventQuery>(&next);
  if (next_query == nullptr || next_query->start_sequence != 7 ||
      next_query->fingerprint != query->fingerprint) {
    __builtin_trap();
  }
  return 0;
}
