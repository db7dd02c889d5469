// File: api/server/problem.h
//
// RFC 9457 problem details: how every HTTP error of the API is answered
// (application/problem+json). A Problem names the rule broken and, where the fault is in the
// request body, the RFC 6901 JSON pointer of the bad field; a capture refused for several
// events lists each one in `errors`. ProblemFromStatus is the one place where an operating
// Status becomes an HTTP status. Header-only; values; thread-compatible.
#ifndef TRACELEDGER_API_SERVER_PROBLEM_H_
#define TRACELEDGER_API_SERVER_PROBLEM_H_

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ledger/base/status.h"

namespace traceledger::api {

// Rules that are not event validation rules (those are ingest::ValidationRuleName's).
namespace rule {
inline constexpr std::string_view kBadJson = "bad_json";                // body is not JSON
inline constexpr std::string_view kBadDocument = "bad_document";        // not a capture document
inline constexpr std::string_view kBodyTooLarge = "body_too_large";     // over max_body_bytes
inline constexpr std::string_view kTooManyEvents = "too_many_events";   // over max_batch_events
inline constexpr std::string_view kEmptyDocument = "empty_document";    // no event at all
inline constexpr std::string_view kUnsupportedMediaType = "unsupported_media_type";
inline constexpr std::string_view kConflict = "conflict";               // id reused, other content
inline constexpr std::string_view kDuplicateInDocument = "duplicate_in_document";
inline constexpr std::string_view kUnauthenticated = "unauthenticated";
inline constexpr std::string_view kForbidden = "forbidden";
inline constexpr std::string_view kNotFound = "not_found";
inline constexpr std::string_view kBadParameter = "bad_parameter";
inline constexpr std::string_view kOverloaded = "overloaded";
inline constexpr std::string_view kInternal = "internal";
}  // namespace rule

// One fault inside a request body.
struct FieldError {
  std::string pointer;  // RFC 6901 pointer into the request body, e.g. "/epcisBody/eventList/3/epcList/0"
  std::string rule;     // e.g. "bad_identifier"
  std::string detail;   // got vs want
  std::string event_id; // the event it concerns, when known
};

struct Problem {
  int status = 400;
  std::string rule;     // machine-readable; also the last segment of `type`
  std::string title;    // short, the same for every occurrence of the rule
  std::string detail;   // this occurrence
  std::string pointer;  // body field (JSON pointer) or "" when not about one field
  std::string parameter;  // query parameter name, when about one
  std::vector<FieldError> errors;

  nlohmann::json ToJson() const {
    nlohmann::json out = {{"type", "https://traceledger.dev/problems/" + rule},
                          {"title", title},
                          {"status", status},
                          {"rule", rule}};
    if (!detail.empty()) out["detail"] = detail;
    if (!pointer.empty()) out["pointer"] = pointer;
    if (!parameter.empty()) out["parameter"] = parameter;
    if (!errors.empty()) {
      nlohmann::json list = nlohmann::json::array();
      for (const FieldError& e : errors) {
        nlohmann::json item = {{"pointer", e.pointer}, {"rule", e.rule}, {"detail", e.detail}};
        if (!e.event_id.empty()) item["eventId"] = e.event_id;
        list.push_back(std::move(item));
      }
      out["errors"] = std::move(list);
    }
    return out;
  }
};

inline Problem MakeProblem(int status, std::string_view rule, std::string title,
                           std::string detail, std::string pointer = "") {
  Problem p;
  p.status = status;
  p.rule = std::string(rule);
  p.title = std::move(title);
  p.detail = std::move(detail);
  p.pointer = std::move(pointer);
  return p;
}

// The HTTP status of an operating failure (google.rpc.Code -> HTTP, as gRPC-HTTP does).
inline int HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange: return 400;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted: return 409;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kUnimplemented: return 501;
    default: return 500;
  }
}

inline Problem ProblemFromStatus(const Status& status) {
  const int http = HttpStatusOf(status.code());
  std::string rule_name = http == 404   ? std::string(rule::kNotFound)
                          : http == 400 ? std::string(rule::kBadParameter)
                          : http >= 500 ? std::string(rule::kInternal)
                                        : std::string(StatusCodeName(status.code()));
  return MakeProblem(http, rule_name, std::string(StatusCodeName(status.code())),
                     status.message());
}

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_SERVER_PROBLEM_H_
