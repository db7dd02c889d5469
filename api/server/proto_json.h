// File: api/server/proto_json.h
//
// How the API turns a view's message into its JSON answer: protobuf's JSON mapping (every
// field, even at its default value; lowerCamelCase names; 64-bit integers as strings; enums by
// name) as an nlohmann::json value, to which a route may add keys of its own, then dumped
// compactly with every object's keys in byte order. TraceJson (trace_json.h) writes the trace's
// answer directly and is tested byte for byte against this path.
#ifndef TRACELEDGER_API_SERVER_PROTO_JSON_H_
#define TRACELEDGER_API_SERVER_PROTO_JSON_H_

#include <string>

#include <google/protobuf/message.h>
#include <nlohmann/json.hpp>

namespace traceledger::api {

// `message` in protobuf's JSON mapping; null if protobuf cannot print it (a message it cannot
// map, which no view's message is).
nlohmann::json ProtoJson(const google::protobuf::Message& message);

// The text of an answer: no whitespace, keys in byte order, and invalid UTF-8 in a string
// replaced by U+FFFD (nlohmann's dump() would throw on it).
std::string DumpJson(const nlohmann::json& body);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_SERVER_PROTO_JSON_H_
