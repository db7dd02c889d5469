// File: api/server/trace_json.h
//
// The body of GET /trace/{id}, written straight from the trace's answer. Why not through
// protobuf's JSON printer and nlohmann::json, as the other answers are: a forward trace of a
// long-lived lot lists thousands of nodes and tens of thousands of edges (10 MB of JSON for the
// chain test's largest, 8,593 nodes), and printing it through protobuf's reflection, parsing
// that text into a json tree and dumping the tree took 0.4-0.6 s, ten times as long as the
// trace itself; written directly, 10-17 ms (docs/BENCHMARKS.md, "HTTP API":
// `api_trace_json_bench`).
//
// The document is the one the API has always answered: the TraceResult in protobuf's JSON
// mapping (lowerCamelCase names, every field even when it has its default value, 64-bit
// integers as strings, enums by name, NaN and infinities as strings), with "direction" and
// "views_applied" beside its fields, every object's keys in byte order, no whitespace, and
// strings escaped as nlohmann::json dumps them (UTF-8 as is, control characters escaped,
// invalid UTF-8 replaced by U+FFFD). Tested against that older path byte for byte.
#ifndef TRACELEDGER_API_SERVER_TRACE_JSON_H_
#define TRACELEDGER_API_SERVER_TRACE_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "tl/v1/view_chain.pb.h"

namespace traceledger::api {

// The JSON text of `trace`, answered in `direction` ("backward", "forward" or "both") with the
// views at `views_applied` entries.
std::string TraceJson(const v1::TraceResult& trace, std::string_view direction,
                      uint64_t views_applied);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_SERVER_TRACE_JSON_H_
