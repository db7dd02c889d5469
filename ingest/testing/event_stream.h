// File: ingest/testing/event_stream.h
//
// Deterministic synthetic streams of Kafka event messages for ingest tests and benchmarks:
// realistic valid traceledger.v1.Events (protobuf binary, keyed as the ingest keys them), exact
// resubmissions of earlier messages, and malformed messages of every kind the validator must
// reject, each labelled with the rule it breaks.
//
//   StreamOptions options{.messages = 10000, .seed = 7, .now_unix_micros = clock.NowMicros()};
//   for (const StreamMessage& m : GenerateStream(options)) producer.Send(m.key, m.payload);
//   // Valid messages pass DecodeAndValidate(m.payload, EVENT_ENCODING_PROTOBUF, ctx) with
//   // ctx.now_unix_micros = options.now_unix_micros and is_known_submitter = KnownSubmitters().
//
// Everything here is pure and deterministic for its arguments (the same seed gives the same
// bytes on every platform: no std:: distributions). Thread-safe.
#ifndef TRACELEDGER_INGEST_TESTING_EVENT_STREAM_H_
#define TRACELEDGER_INGEST_TESTING_EVENT_STREAM_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tl/v1/events.pb.h"

namespace traceledger::ingest::testing {

// How a malformed message is broken.
enum class Malformation {
  kUnparsable,         // not a traceledger.v1.Event: truncated protobuf, JSON or noise
  kMissingEventId,     // a valid event without event_id
  kMissingBody,        // event_id and submitter_id but no body
  kBadGtinCheckDigit,  // an EPC as GS1 Digital Link whose GTIN has a wrong check digit
  kZeroQuantity,       // a quantity element with quantity 0
  kFutureEventTime,    // event_time a day after now
  kUnknownSubmitter,   // a well-formed GLN that is not in KnownSubmitters()
};

inline constexpr std::array<Malformation, 7> kAllMalformations = {
    Malformation::kUnparsable,       Malformation::kMissingEventId,
    Malformation::kMissingBody,      Malformation::kBadGtinCheckDigit,
    Malformation::kZeroQuantity,     Malformation::kFutureEventTime,
    Malformation::kUnknownSubmitter,
};

// The ValidationRuleName (ingest/event_validator.h) the validator reports for `m`:
// "unparsable", "missing_field", "missing_field", "bad_identifier", "bad_quantity",
// "event_time_in_future", "unknown_submitter".
std::string_view ExpectedRule(Malformation m);

// A stable snake_case name for `m`, e.g. "bad_gtin_check_digit" (for test names and logs).
std::string_view MalformationName(Malformation m);

// The Kafka key of every kUnparsable message (there is no event to take a key from).
inline constexpr std::string_view kUnparsableKey = "unparsable";

// One message of a stream.
struct StreamMessage {
  // The event's event_id; "" for messages that have none (kUnparsable, kMissingEventId).
  std::string event_id;
  // The Kafka key: the event's primary object id (ObjectIdsOf(event)[0], or event_id when the
  // event names no object), kUnparsableKey for kUnparsable.
  std::string key;
  // Protobuf binary traceledger.v1.Event (garbage for kUnparsable).
  std::string payload;
  // Set for malformed messages.
  std::optional<Malformation> malformation;
  // An exact resubmission (same key and bytes) of an earlier valid message.
  bool duplicate = false;
};

struct StreamOptions {
  // Total messages, duplicates and malformed ones included.
  uint64_t messages = 100000;
  // Share of messages that resend an earlier valid message.
  double duplicate_ratio = 0.10;
  // Share of malformed messages, spread evenly over every Malformation kind; each kind occurs at
  // least once when malformed_ratio > 0 (and messages >= 7).
  double malformed_ratio = 0.01;
  uint64_t seed = 1;
  // Valid payloads are about this many bytes: within 10% for targets from 300 bytes to about
  // 400 KB (lists stop at kMaxListItems); smaller targets get the smallest event of their shape.
  size_t target_payload_bytes = 300;
  // Event times are in the hour before this; kFutureEventTime is a day after it.
  int64_t now_unix_micros = 0;
};

// Generates options.messages messages: round(messages * malformed_ratio) malformed ones (at
// least one of each kind, see above), round(messages * duplicate_ratio) duplicates, the rest
// new valid events with unique event ids. Malformed messages and duplicates are spread
// uniformly over the stream; a duplicate repeats a uniformly chosen earlier valid message.
// Deterministic for the options. Requires 0 <= each ratio, duplicate_ratio + malformed_ratio
// <= 1, and (when duplicate_ratio > 0) room for at least one valid message.
std::vector<StreamMessage> GenerateStream(const StreamOptions& options);

// The submitter ids (13-digit GLNs with the GS1 demo prefix 952) that valid events use; pass
// them as the ingest's known-submitter registry. kUnknownSubmitter uses one not in this list.
const std::vector<std::string>& KnownSubmitters();

// One valid event of about `target_payload_bytes` (serialized) for `index`, e.g. for
// benchmarks: the event GenerateStream with seed 1 produces for a valid message at position
// `index`. Its event_id is unique per index. Passes validation at `now_unix_micros`.
traceledger::v1::Event MakeValidEvent(uint64_t index, int64_t now_unix_micros,
                                      size_t target_payload_bytes);

}  // namespace traceledger::ingest::testing

#endif  // TRACELEDGER_INGEST_TESTING_EVENT_STREAM_H_
