// File: projections/event_decoder.h
//
// How projections turn an entry's event bytes into a traceledger.v1.Event. projections/ may not
// depend on ingest/ (STYLE.md section 2), so the decoder is injected: DefaultEventDecoder()
// reads protobuf binary and native JSON with protobuf itself; `traceledger` plugs in ingest's
// DecodeEvent, which also reads EPCIS 2.0 JSON. The entries were validated when appended, so
// decoding here is not strict. Thread-safe.
#ifndef TRACELEDGER_PROJECTIONS_EVENT_DECODER_H_
#define TRACELEDGER_PROJECTIONS_EVENT_DECODER_H_

#include <functional>
#include <string_view>

#include "ledger/base/status.h"
#include "tl/v1/events.pb.h"
#include "tl/v1/ledger.pb.h"

namespace traceledger::projections {

// Decodes `bytes` into `*event`, an empty message (the runner's are on a protobuf arena, so
// that a batch's events are freed together). On failure `*event` is left unspecified.
using EventDecoder =
    std::function<Status(v1::EventEncoding encoding, std::string_view bytes, v1::Event* event)>;

// Protobuf binary and native JSON (proto3 JSON mapping); Unimplemented for EPCIS JSON.
EventDecoder DefaultEventDecoder();

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_EVENT_DECODER_H_
