// File: ingest/epcis_json.h
//
// Maps one EPCIS 2.0 JSON/JSON-LD event object (an element of epcisBody.eventList) onto
// traceledger.v1.Event. The mapping, field by field: docs/formats/events.md, "EPCIS 2.0
// mapping". Pure function; thread-safe; no logging.
#ifndef TRACELEDGER_INGEST_EPCIS_JSON_H_
#define TRACELEDGER_INGEST_EPCIS_JSON_H_

#include <string_view>

#include "ledger/base/status.h"
#include "tl/v1/events.pb.h"

namespace traceledger::ingest {

// Appended to an EPCIS eventID to make the event_id of an error declaration (EPCIS reuses the
// erroneous event's eventID for the declaring event; ledger event ids are unique).
inline constexpr std::string_view kErrorDeclarationIdSuffix = "#error-declaration";

// Decodes one EPCIS 2.0 event object whose "type" is ObjectEvent, AggregationEvent,
// TransactionEvent, TransformationEvent or AssociationEvent.
//  - eventID becomes Event.event_id; submitter_id is left empty (EPCIS events do not name
//    their submitter; the caller sets the authenticated one).
//  - An event with an errorDeclaration gets event_id "<eventID>#error-declaration" and
//    error_declaration.erroneous_event_id "<eventID>".
//  - Namespaced keys ("ext1:foo", or full URIs) are user extensions and go, as given, into the
//    nearest `extensions` Struct; "@context" is ignored (the stored bytes keep it).
//  - Values are stored as given (bizStep "shipping" stays "shipping", a URI stays a URI).
// Returns InvalidArgument naming the EPCIS field, e.g.
// "EPCIS ObjectEvent: quantityList/0/quantity: want a number", for malformed JSON, an
// unsupported event type, an unknown non-namespaced key or a value of the wrong JSON type.
Result<traceledger::v1::Event> DecodeEpcisJsonEvent(std::string_view json);

// The EpcisCommon of an EPCIS event body (Object/Aggregation/Transaction/Transformation/
// AssociationEvent); null for any other body.
traceledger::v1::EpcisCommon* MutableEpcisCommon(traceledger::v1::Event* event);

}  // namespace traceledger::ingest

#endif  // TRACELEDGER_INGEST_EPCIS_JSON_H_
