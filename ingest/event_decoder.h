// File: ingest/event_decoder.h
//
// Turns submitted bytes into a traceledger.v1.Event (proto/tl/v1/events.proto), for each
// EventEncoding of proto/tl/v1/ledger.proto:
//   EVENT_ENCODING_JSON        native JSON: the proto3 JSON mapping of traceledger.v1.Event
//   EVENT_ENCODING_PROTOBUF    protobuf binary of traceledger.v1.Event (the Kafka wire format)
//   EVENT_ENCODING_EPCIS_JSON  one EPCIS 2.0 JSON/JSON-LD event object (see epcis_json.h)
// Decoding only checks form; the rules of the content are in event_validator.h.
// Formats: docs/formats/events.md. Pure functions; thread-safe; no logging.
#ifndef TRACELEDGER_INGEST_EVENT_DECODER_H_
#define TRACELEDGER_INGEST_EVENT_DECODER_H_

#include <cstddef>
#include <string_view>

#include "ledger/base/status.h"
#include "tl/v1/events.pb.h"
#include "tl/v1/ledger.pb.h"

namespace traceledger::ingest {

// Largest accepted submitted event, in bytes, in any encoding.
inline constexpr size_t kMaxEventBytes = size_t{1} << 20;

// Decodes one event.
//  - JSON: must be one JSON object (UTF-8, nesting <= 64, no duplicate keys); every field must
//    be known (unknown fields are rejected, naming the field); field names may be
//    lowerCamelCase ("eventId") or the proto names ("event_id").
//  - PROTOBUF: must parse, and must carry no field numbers unknown to this build (named in the
//    message), so nothing is stored that validation could not see.
//  - EPCIS_JSON: see DecodeEpcisJsonEvent(); the returned Event has an empty submitter_id,
//    which the caller fills in with the authenticated submitter.
// Returns InvalidArgument with a message naming what failed, e.g.
// "native JSON: (object_event.common) eventTimes: Cannot find field.", when the bytes are
// larger than kMaxEventBytes, or when `encoding` is UNSPECIFIED or unknown.
Result<traceledger::v1::Event> DecodeEvent(std::string_view bytes,
                                           traceledger::v1::EventEncoding encoding);

// Decodes an event the ledger stored (decoded and validated when it was appended), for readers
// of the log such as the projections. As DecodeEvent, except that protobuf bytes are only
// parsed: fields this build does not know (an entry appended by a newer build) are skipped
// instead of refused, and the check for them, about a tenth of decoding, is not made. Takes
// the encoding first, as projections::EventDecoder does.
Result<traceledger::v1::Event> DecodeStoredEvent(traceledger::v1::EventEncoding encoding,
                                                 std::string_view bytes);
// DecodeStoredEvent into `*event`, an empty message (which may be on a protobuf arena): the
// projections runner's decoder (projections::EventDecoder). On failure `*event` is unspecified.
Status DecodeStoredEventInto(traceledger::v1::EventEncoding encoding, std::string_view bytes,
                             traceledger::v1::Event* event);

}  // namespace traceledger::ingest

#endif  // TRACELEDGER_INGEST_EVENT_DECODER_H_
