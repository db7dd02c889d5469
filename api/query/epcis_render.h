// File: api/query/epcis_render.h
//
// RenderEpcisEvent: the EPCIS 2.0 JSON form of a native-encoded EPCIS event (a
// traceledger.v1.Event whose body is an ObjectEvent, AggregationEvent, TransactionEvent,
// TransformationEvent or AssociationEvent), for query results. It is the inverse of ingest's
// DecodeEpcisJsonEvent (docs/formats/events.md, "EPCIS 2.0 mapping"): decoding the rendered
// object gives back the same Event for every field EPCIS has. What EPCIS has no field for is
// left out: submitter_id, batch. Pure function; thread-safe.
#ifndef TRACELEDGER_API_QUERY_EPCIS_RENDER_H_
#define TRACELEDGER_API_QUERY_EPCIS_RENDER_H_

#include <nlohmann/json.hpp>

#include "ledger/base/status.h"
#include "tl/v1/events.pb.h"

namespace traceledger::api {

// JSON objects keep their keys in insertion order, so rendered events read in the standard's
// order (type, eventID, eventTime, ...) and stored EPCIS events keep the submitter's order.
using OrderedJson = nlohmann::ordered_json;

// The EPCIS 2.0 JSON event object of `event`:
//  - "type" is the body's EPCIS type; "eventID" the event_id, except for an event with an
//    errorDeclaration, whose eventID is error_declaration.erroneous_event_id (EPCIS repeats the
//    erroneous event's id; ingest derives "<eventID>#error-declaration" from it again).
//  - "eventTimeZoneOffset" is required by EPCIS: "+00:00" when the event has none.
//  - Times are RFC 3339 in UTC ("2026-11-02T01:30:00Z"); a whole-number quantity or sensor value
//    is written as a JSON integer, others as JSON numbers.
//  - ilmd's own fields become "cbvmda:lotNumber", ...; every `extensions` Struct is written
//    back as the keys it holds (their namespace prefixes are the submitter's; a native event
//    has no @context to define them).
// Returns InvalidArgument for an event whose body is not one of the five EPCIS types.
Result<OrderedJson> RenderEpcisEvent(const v1::Event& event);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_QUERY_EPCIS_RENDER_H_
