// File: api/query/event_query.h
//
// The EPCIS 2.0 event query (`GET /events`) as a library, without HTTP: ParseEventQuery turns
// the URL query parameters into an EventQuery (or a QueryError naming the parameter and the
// broken rule, for a 400 problem+json), and RunEventQuery answers one page of it as an
// EPCISQueryDocument. Parameters, matching rules, the page token and the limits:
// docs/formats/query.md.
//
//  - Results are the ledger's EPCIS events (the five EPCIS event types, stored as EPCIS JSON or
//    native JSON/protobuf) in ledger sequence order. Regulator and domain events (inspections,
//    recalls, cylinder events, ...) are not EPCIS events and never appear.
//  - MATCH_* parameters use the history view (projections/chain/history.h) as an index for the
//    entries it has applied, and scan the ledger for the entries it has not applied yet.
//    Without MATCH_* (or when the index would need more than max_index_rows rows) the ledger
//    is scanned from the page position, at most max_scan_entries entries per page: a page may
//    then hold fewer than perPage events (even none) and still carry a nextPageToken.
//  - Every candidate is decoded and checked against the whole query, so the index only
//    narrows the search; it never decides a match.
//
// Thread-safety: pure functions over thread-safe Ledger and ViewReader reads.
#ifndef TRACELEDGER_API_QUERY_EVENT_QUERY_H_
#define TRACELEDGER_API_QUERY_EVENT_QUERY_H_

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "api/query/epcis_render.h"
#include "ledger/base/status.h"
#include "ledger/ledger.h"
#include "projections/projection.h"

namespace traceledger::api {

inline constexpr size_t kDefaultPerPage = 100;
inline constexpr size_t kMaxPerPage = 1000;
// Ledger entries read and decoded per page (scan and index candidates alike).
inline constexpr uint64_t kMaxScanPerPage = 200000;
// History rows read per page to collect index candidates; beyond it the query scans instead.
inline constexpr uint64_t kMaxIndexRowsPerPage = 200000;
// Values of one list parameter (after splitting), and bytes of one value.
inline constexpr size_t kMaxValuesPerParameter = 100;
inline constexpr size_t kMaxValueBytes = 1024;

// An instant with the nanosecond precision of google.protobuf.Timestamp.
struct Instant {
  int64_t seconds = 0;
  int32_t nanos = 0;
  friend auto operator<=>(const Instant&, const Instant&) = default;
};

// A parsed query. Lists are ORs of their values; different parameters are ANDed. Empty list:
// no condition.
struct EventQuery {
  std::vector<std::string> event_types;      // eventType: "ObjectEvent", ...
  std::optional<Instant> ge_event_time;      // GE_eventTime: eventTime >= this
  std::optional<Instant> lt_event_time;      // LT_eventTime: eventTime < this
  std::vector<std::string> eq_biz_step;      // EQ_bizStep: CBV short names or URIs
  std::vector<std::string> eq_disposition;   // EQ_disposition
  std::vector<std::string> eq_biz_location;  // EQ_bizLocation: bizLocation.id as stored
  std::vector<std::string> match_epc;        // MATCH_epc: epcList, childEPCs
  std::vector<std::string> match_any_epc;    // MATCH_anyEPC: + parentID, input/outputEPCList
  std::vector<std::string> match_parent_id;  // MATCH_parentID
  std::vector<std::string> match_input_epc;  // MATCH_inputEPC
  std::vector<std::string> match_output_epc; // MATCH_outputEPC
  size_t per_page = kDefaultPerPage;         // perPage
  uint64_t start_sequence = 0;               // from nextPageToken: first sequence to consider
  // SHA-256 prefix of the canonical filter (everything but perPage and nextPageToken); page
  // tokens carry it so a token is only accepted by the query that issued it.
  std::string fingerprint;
};

// Why a request's parameters were refused; `rule` is one of: unknown_parameter,
// unsupported_parameter (an EPCIS 2.0 parameter this server does not implement),
// repeated_parameter, empty_value, too_many_values, value_too_long, bad_time, bad_event_type,
// bad_per_page, bad_epc_pattern, bad_page_token, page_token_of_other_query.
struct QueryError {
  std::string parameter;
  std::string rule;
  std::string detail;
};

// Parses URL query parameters, already percent-decoded, in request order. A list parameter
// may repeat and each value may hold several values separated by "|" (the EPCIS 2.0 REST
// binding's pipeDelimited style); eventType, EQ_bizStep and EQ_disposition also split on ",".
// Never throws.
std::variant<EventQuery, QueryError> ParseEventQuery(
    const std::vector<std::pair<std::string, std::string>>& params);

struct QueryPage {
  OrderedJson document;  // the EPCISQueryDocument
  std::optional<std::string> next_page_token;  // absent on the last page
  uint64_t entries_examined = 0;  // ledger entries read and decoded for this page
};

// Who is asking: an enterprise sees only the events it submitted.
struct QueryScope {
  std::optional<std::string> only_submitter;  // LedgerEntry.submitter_id must equal it
};

struct QueryOptions {
  int64_t now_unix_micros = 0;  // the document's creationDate
  uint64_t max_scan_entries = kMaxScanPerPage;
  uint64_t max_index_rows = kMaxIndexRowsPerPage;
};

// Answers one page of `query` over the committed entries of `ledger` at the time of the call.
// `history` is a reader of the history view (null: no index, every query scans); the view may
// lag the ledger. The document's eventList holds, per matching entry: the stored event object
// for EVENT_ENCODING_EPCIS_JSON entries (parsed, keys in stored order, nothing changed), and
// RenderEpcisEvent() of the decoded event for native JSON/protobuf ones. Entries whose bytes
// do not decode as an event are skipped (ingest validates before appending, so only a writer
// that bypassed it can leave them; the views skip them too).
// Returns InvalidArgument if the page token points past the end of the ledger, DataLoss if an
// entry or a history row does not decode, or a storage error.
Result<QueryPage> RunEventQuery(const ledger::Ledger& ledger,
                                const projections::ViewReader* history, const EventQuery& query,
                                const QueryScope& scope, const QueryOptions& options);

// The page token that makes the next page of `query` start at `next_sequence` (exposed for
// tests and tools; clients treat tokens as opaque).
std::string EncodePageToken(const EventQuery& query, uint64_t next_sequence);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_QUERY_EVENT_QUERY_H_
