// File: ledger/testing/requests.h
//
// Builders of AppendRequests for ledger tests and benchmarks: events of a chosen size whose
// bytes depend only on their id. Test-only.
#ifndef TRACELEDGER_LEDGER_TESTING_REQUESTS_H_
#define TRACELEDGER_LEDGER_TESTING_REQUESTS_H_

#include <string>

#include "ledger/ledger.h"

namespace traceledger::ledger::testing {

// A JSON-looking event of exactly `bytes` bytes (at least ~80) for `event_id`.
inline std::string MakeEventBytes(const std::string& event_id, size_t bytes = 300) {
  std::string event = R"({"eventId":")" + event_id +
                      R"(","submitterId":"6901234000003","objectEvent":{"note":")";
  const std::string tail = R"("}})";
  while (event.size() + tail.size() < bytes) {
    event.push_back(static_cast<char>('a' + (event.size() * 7 + event_id.size()) % 26));
  }
  return event + tail;
}

inline AppendRequest MakeRequest(const std::string& event_id, size_t bytes = 300) {
  AppendRequest request;
  request.event_id = event_id;
  request.submitter_id = "6901234000003";
  request.encoding = v1::EVENT_ENCODING_JSON;
  request.event = MakeEventBytes(event_id, bytes);
  request.source.mutable_file()->set_path("test");
  return request;
}

}  // namespace traceledger::ledger::testing

#endif  // TRACELEDGER_LEDGER_TESTING_REQUESTS_H_
