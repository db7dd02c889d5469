// File: ingest/event_validator.h
//
// The content rules for submitted events (DESIGN.md invariant 7: bad input gets a clear,
// specific error naming the field and the reason, and changes nothing). A rejection is a
// value, a Violation, not an error Status: the rule broken, the field as a JSON pointer into
// the native JSON form of the event, and a message saying got vs want.
//
//   ValidateEvent(event, ctx)                  rules only
//   DecodeAndValidate(bytes, encoding, ctx)    decode (event_decoder.h) + rules
//   ObjectIdsOf(event)                         the object ids an event is about
//
// The rules, in the order they are checked: docs/formats/events.md, "Validation rules".
// Pure functions; thread-safe as long as ctx.is_known_submitter is; no logging.
#ifndef TRACELEDGER_INGEST_EVENT_VALIDATOR_H_
#define TRACELEDGER_INGEST_EVENT_VALIDATOR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tl/v1/events.pb.h"
#include "tl/v1/ledger.pb.h"

namespace traceledger::ingest {

// Longest event_id and longest identifier of any kind, in bytes.
inline constexpr size_t kMaxIdentifierBytes = 256;
// Longest free text (reasons, descriptions, legal basis, addresses), in bytes.
inline constexpr size_t kMaxTextBytes = 4096;
// Most entries in any one list (epc lists, quantity lists, findings, ...).
inline constexpr size_t kMaxListItems = 10000;

// Which rule an event broke. Names (ValidationRuleName) are stable: they appear in rejection
// records on the traceledger.rejected topic and in HTTP error bodies.
enum class ValidationRule {
  kUnparsable,         // "unparsable": the bytes do not decode (event_decoder.h)
  kMissingField,       // "missing_field": a required field is empty or unset
  kBadIdentifier,      // "bad_identifier": an identifier is malformed (check digit, URN syntax)
  kBadQuantity,        // "bad_quantity": a quantity is <= 0, not finite, or not whole
  kEventTimeInFuture,  // "event_time_in_future": more than max_future_skew ahead of now
  kUnknownSubmitter,   // "unknown_submitter": is_known_submitter said no
  kBadValue,           // "bad_value": any other malformed value (enum, date, vocabulary)
  kTooLarge,           // "too_large": an event, identifier, text or list over its limit
  kSubmitterMismatch,  // "submitter_mismatch": submitter_id is not the authenticated party
};

// Returns the rule's stable snake_case name, e.g. "missing_field".
std::string_view ValidationRuleName(ValidationRule rule);

// Why an event was rejected.
struct Violation {
  ValidationRule rule;
  // JSON pointer (RFC 6901) into the native JSON form of the event, e.g.
  // "/objectEvent/epcList/2"; "" means the event as a whole.
  std::string field;
  // Human-readable reason, got vs want: "GTIN 09521234543214: check digit 4, want 3".
  std::string message;
};

// The caller's view of the world while validating.
struct ValidationContext {
  // The ingest clock, microseconds since the Unix epoch (UTC). Inject a fake clock in tests.
  int64_t now_unix_micros = 0;
  // How far an event's time may be ahead of now (clock skew between submitter and ledger).
  int64_t max_future_skew_micros = 10 * 60 * 1000000LL;
  // Says whether a submitter_id is a registered party; null accepts any submitter.
  std::function<bool(std::string_view)> is_known_submitter;
};

// Returns the first violation found (deterministic order: envelope, then the body's fields in
// field-number order), or std::nullopt if the event is valid. Requires nothing of `event`.
std::optional<Violation> ValidateEvent(const traceledger::v1::Event& event,
                                       const ValidationContext& ctx);

// An event that passed ValidateEvent. Reserved for APIs that want the type to say so; nothing
// returns it yet.
struct CheckedEvent {
  traceledger::v1::Event event;
};

// Decodes and validates. On decode failure returns a kUnparsable violation (field "", the
// decoder's message); bytes over kMaxEventBytes give kTooLarge. For EPCIS_JSON the decoded
// event has no submitter, so this reports missing_field "/submitterId": use
// DecodeAndValidateAs for EPCIS_JSON.
std::variant<traceledger::v1::Event, Violation> DecodeAndValidate(
    std::string_view bytes, traceledger::v1::EventEncoding encoding,
    const ValidationContext& ctx);

// Decodes and validates an event submitted by the authenticated party `submitter_id`
// (DESIGN.md invariant 8: an enterprise writes only as itself). For EPCIS_JSON the event's
// submitter_id is set to `submitter_id`; for the native encodings it must already equal it,
// else kSubmitterMismatch at "/submitterId".
std::variant<traceledger::v1::Event, Violation> DecodeAndValidateAs(
    std::string_view bytes, traceledger::v1::EventEncoding encoding,
    std::string_view submitter_id, const ValidationContext& ctx);

// The object ids an event is about, without duplicates, the primary one first (the Kafka key
// of the event; fall back to event_id when the list is empty):
//   ObjectEvent: epc_list, then quantity_list classes
//   Aggregation/Association/TransactionEvent: parent_id, then children / epcs, then classes
//   TransformationEvent: outputs (EPCs, classes), then inputs (EPCs, classes)
//   Inspection, EnforcementAction: enterprise_id
//   SamplingResult: object_ids, then enterprise_id
//   Recall: recall_id, then root_ids;  RecallRemoval: object_id, then recall_id
//   Cylinder*: cylinder_id
// Empty ids are skipped; an event without a body gives an empty list.
std::vector<std::string> ObjectIdsOf(const traceledger::v1::Event& event);

}  // namespace traceledger::ingest

#endif  // TRACELEDGER_INGEST_EVENT_VALIDATOR_H_
