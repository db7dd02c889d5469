// File: api/server/capture_document.h
//
// Splits a POST /capture body into the events it carries, keeping each event's exact bytes
// (the ledger stores and hashes what was submitted; nothing is re-serialized). Two forms:
//
//   EPCIS 2.0   {"type": "EPCISDocument", "schemaVersion": "2.0", ...,
//                "epcisBody": {"eventList": [ event, ... ]}}
//               (an EPCISQueryDocument's epcisBody.queryResults.resultsBody.eventList is
//               accepted too: a query answer re-captured elsewhere)
//   native      {"events": [ native JSON event, ... ]}   (docs/formats/events.md)
//
// Checks only the document's shape (and that the body is UTF-8); each event's content is the
// validator's business. Native events with a repeated key are left to the decoder, which
// refuses them.
// Pure functions; thread-safe.
#ifndef TRACELEDGER_API_SERVER_CAPTURE_DOCUMENT_H_
#define TRACELEDGER_API_SERVER_CAPTURE_DOCUMENT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/server/problem.h"
#include "tl/v1/ledger.pb.h"

namespace traceledger::api {

struct DocumentEvent {
  std::string_view bytes;  // exact text of the event object inside the body
  std::string pointer;     // where it is, e.g. "/epcisBody/eventList/3"
  // An EPCIS event object with a repeated key (the official GS1 example AssociationEvent-h
  // repeats "eventID") is stored re-serialized with the last value of each key, as JSON-LD
  // processors read it, so the stored bytes mean one thing only; `normalized` says so.
  bool normalized = false;
  std::string normalized_bytes;
  std::string_view text() const { return normalized ? std::string_view(normalized_bytes) : bytes; }
};

struct CaptureDocument {
  v1::EventEncoding encoding = v1::EVENT_ENCODING_UNSPECIFIED;  // EPCIS_JSON or JSON
  std::vector<DocumentEvent> events;
};

// Splits `body` (which must outlive the result). `max_events` is the batch limit: more events
// is a 413 too_many_events problem. Malformed JSON (with the byte offset), a document of
// neither form, a wrong schemaVersion, a missing or non-array event list, an element that is
// not an object, or no events at all are 400 problems naming the pointer.
std::variant<CaptureDocument, Problem> SplitCaptureDocument(std::string_view body,
                                                            size_t max_events);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_SERVER_CAPTURE_DOCUMENT_H_
