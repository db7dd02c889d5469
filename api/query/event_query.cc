#include "api/query/event_query.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include "api/query/epc_pattern.h"
#include "ingest/event_decoder.h"
#include "ledger/base/encoding.h"
#include "ledger/sha256.h"
#include "projections/chain/history.h"
#include "projections/keys.h"
#include "projections/view_store.h"
#include "tl/v1/ledger.pb.h"
#include "tl/v1/view_chain.pb.h"
#include "tl/v1/views.pb.h"

namespace traceledger::api {
namespace {

namespace pb = google::protobuf;

constexpr std::string_view kEpcisContext =
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
// The EPCIS 2.0 name of the one query the REST binding's GET /events answers.
constexpr std::string_view kQueryName = "SimpleEventQuery";

// Page token: version byte, next sequence (8 bytes big-endian), query fingerprint; 18 bytes
// are 24 base64url characters without padding.
constexpr char kTokenVersion = 1;
constexpr size_t kFingerprintBytes = 9;
constexpr size_t kTokenBytes = 1 + 8 + kFingerprintBytes;
static_assert(kTokenBytes % 3 == 0, "a token is whole base64 groups, so it needs no padding");
constexpr size_t kTokenChars = kTokenBytes / 3 * 4;

constexpr std::array<std::string_view, 5> kEventTypes = {
    "ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent",
    "AssociationEvent"};

// EPCIS 2.0 query parameters (section 8.2.7.1) and REST binding parameters this server does
// not implement: refused as unsupported rather than unknown, so a client learns which it is.
constexpr std::array<std::string_view, 14> kUnsupportedPrefixes = {
    "EQ_",  "NE_",      "GE_",          "GT_",     "LE_",          "LT_",          "MATCH_",
    "WD_",  "EXISTS_",  "HASATTR_",     "EQATTR_", "orderBy",      "orderDirection",
    "eventCountLimit"};
constexpr std::array<std::string_view, 2> kUnsupportedNames = {"maxEventCount", "queryName"};

enum class Splitting { kPipe, kPipeAndComma };

struct ListParameter {
  std::string_view name;
  Splitting splitting;
  std::vector<std::string> EventQuery::*field;
};

constexpr std::array<ListParameter, 9> kListParameters = {{
    {"eventType", Splitting::kPipeAndComma, &EventQuery::event_types},
    {"EQ_bizStep", Splitting::kPipeAndComma, &EventQuery::eq_biz_step},
    {"EQ_disposition", Splitting::kPipeAndComma, &EventQuery::eq_disposition},
    {"EQ_bizLocation", Splitting::kPipe, &EventQuery::eq_biz_location},
    {"MATCH_epc", Splitting::kPipe, &EventQuery::match_epc},
    {"MATCH_anyEPC", Splitting::kPipe, &EventQuery::match_any_epc},
    {"MATCH_parentID", Splitting::kPipe, &EventQuery::match_parent_id},
    {"MATCH_inputEPC", Splitting::kPipe, &EventQuery::match_input_epc},
    {"MATCH_outputEPC", Splitting::kPipe, &EventQuery::match_output_epc},
}};

const ListParameter* FindListParameter(std::string_view name) {
  for (const ListParameter& p : kListParameters) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool IsUnsupportedEpcisParameter(std::string_view name) {
  for (std::string_view prefix : kUnsupportedPrefixes) {
    if (name.substr(0, prefix.size()) == prefix) return true;
  }
  return std::find(kUnsupportedNames.begin(), kUnsupportedNames.end(), name) !=
         kUnsupportedNames.end();
}

std::string Quoted(std::string_view value) {
  constexpr size_t kShown = 80;
  std::string out = "\"";
  out.append(value.substr(0, kShown));
  if (value.size() > kShown) out.append("...");
  out.push_back('"');
  return out;
}

QueryError Error(std::string_view parameter, std::string_view rule, std::string detail) {
  return QueryError{std::string(parameter), std::string(rule), std::move(detail)};
}

// Appends `value` as a length-prefixed field, so no two different queries share a canonical
// form whatever bytes their values hold.
void PutField(std::string* out, std::string_view value) {
  PutFixed64BigEndian(out, value.size());
  out->append(value);
}

std::string Fingerprint(const EventQuery& q) {
  std::string canonical = "traceledger event query v1";
  for (const ListParameter& p : kListParameters) {
    PutField(&canonical, p.name);
    const std::vector<std::string>& values = q.*(p.field);
    PutFixed64BigEndian(&canonical, values.size());
    for (const std::string& value : values) PutField(&canonical, value);
  }
  for (const auto& [name, time] : {std::pair{"GE_eventTime", q.ge_event_time},
                                   std::pair{"LT_eventTime", q.lt_event_time}}) {
    PutField(&canonical, name);
    PutField(&canonical, time.has_value() ? "1" : "0");
    if (time.has_value()) {
      PutFixed64BigEndian(&canonical, static_cast<uint64_t>(time->seconds));
      PutFixed64BigEndian(&canonical, static_cast<uint64_t>(time->nanos));
    }
  }
  const Sha256Digest digest = ledger::Sha256(canonical);
  return std::string(AsBytes(digest).substr(0, kFingerprintBytes));
}

std::string ToBase64Url(std::string text) {
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return text;
}

// The next sequence a token names, or the rule it breaks.
std::variant<uint64_t, QueryError> DecodePageToken(std::string_view token,
                                                   const std::string& fingerprint) {
  constexpr std::string_view kParameter = "nextPageToken";
  if (token.size() != kTokenChars) {
    return Error(kParameter, "bad_page_token",
                 "token " + Quoted(token) + " has " + std::to_string(token.size()) +
                     " characters, want " + std::to_string(kTokenChars));
  }
  std::string standard(token);
  for (char& c : standard) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (c == '+' || c == '/' || c == '=') {
      c = '!';  // not base64url: make the strict decoder refuse it
    }
  }
  Result<std::string> bytes = Base64Decode(standard);
  if (!bytes.ok()) {
    return Error(kParameter, "bad_page_token",
                 "token " + Quoted(token) + " is not base64url: " + bytes.status().message());
  }
  TL_ASSERT(bytes->size() == kTokenBytes);
  if ((*bytes)[0] != kTokenVersion) {
    return Error(kParameter, "bad_page_token",
                 "token " + Quoted(token) + " has version " +
                     std::to_string(static_cast<uint8_t>((*bytes)[0])) + ", want " +
                     std::to_string(kTokenVersion));
  }
  if (bytes->substr(9) != fingerprint) {
    return Error(kParameter, "page_token_of_other_query",
                 "token " + Quoted(token) +
                     " was issued for a query with other parameters; repeat the parameters "
                     "of the first page (only perPage may change)");
  }
  return DecodeFixed64BigEndian(std::string_view(*bytes).substr(1, 8));
}

void SplitValues(std::string_view text, Splitting splitting, std::vector<std::string>* out) {
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    const bool end = i == text.size();
    const bool separator =
        !end && (text[i] == '|' || (splitting == Splitting::kPipeAndComma && text[i] == ','));
    if (end || separator) {
      out->emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
}

std::optional<Instant> ParseInstant(const std::string& text) {
  pb::Timestamp t;
  if (!pb::util::TimeUtil::FromString(text, &t)) return std::nullopt;
  return Instant{t.seconds(), t.nanos()};
}

// CBV 2.0: a bare short name equals its URN and its GS1 Web URI forms.
std::string_view CbvShortName(std::string_view value, std::string_view urn_prefix,
                              std::string_view web_prefix) {
  for (std::string_view prefix : {urn_prefix, web_prefix}) {
    if (value.size() > prefix.size() && value.substr(0, prefix.size()) == prefix) {
      return value.substr(prefix.size());
    }
  }
  return value;
}
std::string_view BizStepKey(std::string_view value) {
  return CbvShortName(value, "urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-");
}
std::string_view DispositionKey(std::string_view value) {
  return CbvShortName(value, "urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-");
}

// ----------------------------------------------------------------------------------------
// Matching one decoded event against the query.

struct EventView {
  std::string_view type;
  const v1::EpcisCommon* common = nullptr;
  const pb::RepeatedPtrField<std::string>* epc_list = nullptr;     // Object, Transaction
  const pb::RepeatedPtrField<std::string>* child_epcs = nullptr;   // Aggregation, Association
  const std::string* parent_id = nullptr;                          // Agg., Assoc., Transaction
  const pb::RepeatedPtrField<std::string>* input_epcs = nullptr;   // Transformation
  const pb::RepeatedPtrField<std::string>* output_epcs = nullptr;  // Transformation
};

std::optional<EventView> ViewOf(const v1::Event& event) {
  EventView v;
  switch (event.body_case()) {
    case v1::Event::kObjectEvent:
      v.type = kEventTypes[0];
      v.common = &event.object_event().common();
      v.epc_list = &event.object_event().epc_list();
      return v;
    case v1::Event::kAggregationEvent:
      v.type = kEventTypes[1];
      v.common = &event.aggregation_event().common();
      v.child_epcs = &event.aggregation_event().child_epcs();
      v.parent_id = &event.aggregation_event().parent_id();
      return v;
    case v1::Event::kTransactionEvent:
      v.type = kEventTypes[2];
      v.common = &event.transaction_event().common();
      v.epc_list = &event.transaction_event().epc_list();
      v.parent_id = &event.transaction_event().parent_id();
      return v;
    case v1::Event::kTransformationEvent:
      v.type = kEventTypes[3];
      v.common = &event.transformation_event().common();
      v.input_epcs = &event.transformation_event().input_epc_list();
      v.output_epcs = &event.transformation_event().output_epc_list();
      return v;
    case v1::Event::kAssociationEvent:
      v.type = kEventTypes[4];
      v.common = &event.association_event().common();
      v.child_epcs = &event.association_event().child_epcs();
      v.parent_id = &event.association_event().parent_id();
      return v;
    default:
      return std::nullopt;  // regulator and domain events are not EPCIS events
  }
}

bool AnyMatches(const std::vector<std::string>& query_values, std::string_view id) {
  if (id.empty()) return false;
  return std::any_of(query_values.begin(), query_values.end(),
                     [&](const std::string& q) { return EpcMatches(q, id); });
}

bool AnyMatches(const std::vector<std::string>& query_values,
                const pb::RepeatedPtrField<std::string>* ids) {
  if (ids == nullptr) return false;
  return std::any_of(ids->begin(), ids->end(),
                     [&](const std::string& id) { return AnyMatches(query_values, id); });
}

bool Contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

bool Matches(const EventQuery& q, const EventView& v) {
  if (!q.event_types.empty() && !Contains(q.event_types, v.type)) return false;
  const Instant time{v.common->event_time().seconds(), v.common->event_time().nanos()};
  if (q.ge_event_time.has_value() && time < *q.ge_event_time) return false;
  if (q.lt_event_time.has_value() && !(time < *q.lt_event_time)) return false;
  if (!q.eq_biz_step.empty()) {
    const std::string_view step = BizStepKey(v.common->biz_step());
    if (step.empty() || std::none_of(q.eq_biz_step.begin(), q.eq_biz_step.end(),
                                     [&](const std::string& s) { return BizStepKey(s) == step; })) {
      return false;
    }
  }
  if (!q.eq_disposition.empty()) {
    const std::string_view disposition = DispositionKey(v.common->disposition());
    if (disposition.empty() ||
        std::none_of(q.eq_disposition.begin(), q.eq_disposition.end(),
                     [&](const std::string& s) { return DispositionKey(s) == disposition; })) {
      return false;
    }
  }
  if (!q.eq_biz_location.empty()) {
    const std::string& location = v.common->biz_location().id();
    if (location.empty() || !Contains(q.eq_biz_location, location)) return false;
  }
  if (!q.match_epc.empty() && !AnyMatches(q.match_epc, v.epc_list) &&
      !AnyMatches(q.match_epc, v.child_epcs)) {
    return false;
  }
  if (!q.match_any_epc.empty() && !AnyMatches(q.match_any_epc, v.epc_list) &&
      !AnyMatches(q.match_any_epc, v.child_epcs) && !AnyMatches(q.match_any_epc, v.input_epcs) &&
      !AnyMatches(q.match_any_epc, v.output_epcs) &&
      !(v.parent_id != nullptr && AnyMatches(q.match_any_epc, *v.parent_id))) {
    return false;
  }
  if (!q.match_parent_id.empty() &&
      !(v.parent_id != nullptr && AnyMatches(q.match_parent_id, *v.parent_id))) {
    return false;
  }
  if (!q.match_input_epc.empty() && !AnyMatches(q.match_input_epc, v.input_epcs)) return false;
  if (!q.match_output_epc.empty() && !AnyMatches(q.match_output_epc, v.output_epcs)) {
    return false;
  }
  return true;
}

// ----------------------------------------------------------------------------------------
// One page: entries are examined in sequence order until the page is full (one match past
// it), the budget is spent, or the entries run out.

class Page {
 public:
  Page(const EventQuery& query, const QueryScope& scope, uint64_t budget)
      : query_(query), scope_(scope), budget_(budget) {}

  bool done() const { return next_.has_value(); }
  uint64_t examined() const { return examined_; }
  const std::optional<uint64_t>& next() const { return next_; }
  std::vector<OrderedJson>& events() { return events_; }

  // Examines entry `sequence`; afterwards done() says whether to stop. DataLoss if the entry
  // record does not decode.
  Status Examine(uint64_t sequence, std::string_view entry_bytes) {
    TL_ASSERT(!done());
    if (examined_ == budget_) {
      next_ = sequence;  // not examined: the next page starts here
      return Status::Ok();
    }
    ++examined_;
    v1::LedgerEntry entry;
    if (!entry.ParseFromArray(entry_bytes.data(), static_cast<int>(entry_bytes.size()))) {
      return Status::DataLoss("ledger entry " + std::to_string(sequence) +
                              " does not decode as traceledger.v1.LedgerEntry");
    }
    if (scope_.only_submitter.has_value() && entry.submitter_id() != *scope_.only_submitter) {
      return Status::Ok();
    }
    Result<v1::Event> event = ingest::DecodeStoredEvent(entry.event_encoding(), entry.event());
    if (!event.ok()) return Status::Ok();  // Why: not an event at all; see the header
    const std::optional<EventView> view = ViewOf(*event);
    if (!view.has_value() || !Matches(query_, *view)) return Status::Ok();
    if (events_.size() == query_.per_page) {
      next_ = sequence;  // the first match of the next page
      return Status::Ok();
    }
    if (entry.event_encoding() == v1::EVENT_ENCODING_EPCIS_JSON) {
      OrderedJson stored = OrderedJson::parse(entry.event(), /*cb=*/nullptr,
                                              /*allow_exceptions=*/false);
      if (!stored.is_object()) {
        return Status::DataLoss("ledger entry " + std::to_string(sequence) +
                                ": EPCIS JSON event decoded but does not parse as an object");
      }
      events_.push_back(std::move(stored));
    } else {
      Result<OrderedJson> rendered = RenderEpcisEvent(*event);
      TL_ASSERT(rendered.ok());  // ViewOf accepted the body, so it is an EPCIS type
      events_.push_back(std::move(*rendered));
    }
    return Status::Ok();
  }

 private:
  const EventQuery& query_;
  const QueryScope& scope_;
  const uint64_t budget_;
  uint64_t examined_ = 0;
  std::optional<uint64_t> next_;
  std::vector<OrderedJson> events_;
};

Status ScanRange(const ledger::Ledger& ledger, uint64_t from, uint64_t to, Page& page) {
  Status examine_status;
  TL_RETURN_IF_ERROR(ledger.ScanEntries(from, to, [&](uint64_t sequence, std::string_view bytes) {
    examine_status = page.Examine(sequence, bytes);
    return examine_status.ok() && !page.done();
  }));
  return examine_status;
}

// ----------------------------------------------------------------------------------------
// The history view as an index: "h" | object 0x00 | time (8) | sequence (8) -> HistoryItem
// (projections/chain/history.h: ParseHistoryKey, HistoryItemOfRow).

// The MATCH_* list whose candidates are fewest to look up: any one of them is a superset of
// the answer, since different parameters are ANDed.
const std::vector<std::string>* IndexList(const EventQuery& q) {
  const std::vector<std::string>* best = nullptr;
  for (const auto* list : {&q.match_epc, &q.match_any_epc, &q.match_parent_id,
                           &q.match_input_epc, &q.match_output_epc}) {
    if (!list->empty() && (best == nullptr || list->size() < best->size())) best = list;
  }
  return best;
}

// The first sequence the history view has not applied (0 if it has no cursor yet).
Result<uint64_t> IndexedEnd(const projections::ViewReader& history) {
  TL_ASSIGN_OR_RETURN(std::optional<std::string> bytes, history.Get(projections::kCursorKey));
  if (!bytes.has_value()) return uint64_t{0};
  v1::ProjectionCursor cursor;
  if (!cursor.ParseFromString(*bytes)) {
    return Status::DataLoss(
        "history view cursor does not decode as traceledger.v1.ProjectionCursor");
  }
  return cursor.next_sequence();
}

struct Candidates {
  bool overflow = false;  // more than max_index_rows rows: scan instead
  std::vector<uint64_t> sequences;
};

// Candidate sequences in [from, indexed_end) naming an object `values` match, pre-filtered by
// what the history row says (type, submitter, time).
Result<Candidates> FindCandidates(const projections::ViewReader& history,
                                  const std::vector<std::string>& values, const EventQuery& q,
                                  const QueryScope& scope, uint64_t from, uint64_t indexed_end,
                                  uint64_t max_rows) {
  Candidates out;
  uint64_t rows = 0;
  Status row_status;
  for (const std::string& value : values) {
    const bool pattern = IsEpcPattern(value);
    std::string prefix = projections::Key("h").str();
    if (pattern) {
      prefix.append(EpcPatternPrefix(value));  // a raw prefix: every object starting with it
    } else {
      prefix = projections::Key("h").Str(value).str();
    }
    TL_RETURN_IF_ERROR(history.Scan(prefix, [&](std::string_view key, std::string_view bytes) {
      if (++rows > max_rows) {
        out.overflow = true;
        return false;
      }
      const std::optional<projections::HistoryKeyParts> parts = projections::ParseHistoryKey(key);
      if (!parts.has_value()) {
        row_status = Status::DataLoss("history row key of " + Quoted(key.substr(1)) +
                                      " is not h|object|time|sequence");
        return false;
      }
      if (pattern && !EpcMatches(value, parts->object)) return true;
      const int64_t micros = parts->time_unix_micros;
      const uint64_t sequence = parts->sequence;
      // The row holds eventTime in whole microseconds (rounded down): the event happened in
      // [lower, upper).
      const Instant lower{micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000),
                          0};
      const int64_t sub_second = micros - lower.seconds * 1000000;
      const Instant at{lower.seconds, static_cast<int32_t>(sub_second * 1000)};
      const Instant upper{at.nanos + 1000 >= 1000000000 ? at.seconds + 1 : at.seconds,
                          (at.nanos + 1000) % 1000000000};
      if (q.lt_event_time.has_value() && !(at < *q.lt_event_time)) {
        return pattern;  // one object's rows are in time order: the rest are later still
      }
      if (q.ge_event_time.has_value() && !(*q.ge_event_time < upper)) return true;
      if (sequence < from || sequence >= indexed_end) return true;
      v1::HistoryItem item;
      row_status = projections::HistoryItemOfRow(history, *parts, bytes, &item);
      if (!row_status.ok()) return false;
      if (std::find(kEventTypes.begin(), kEventTypes.end(), item.event_type()) ==
          kEventTypes.end()) {
        return true;
      }
      if (!q.event_types.empty() && !Contains(q.event_types, item.event_type())) return true;
      if (scope.only_submitter.has_value() && item.submitter_id() != *scope.only_submitter) {
        return true;
      }
      out.sequences.push_back(sequence);
      return true;
    }));
    TL_RETURN_IF_ERROR(row_status);
    if (out.overflow) return out;
  }
  std::sort(out.sequences.begin(), out.sequences.end());
  out.sequences.erase(std::unique(out.sequences.begin(), out.sequences.end()),
                      out.sequences.end());
  return out;
}

OrderedJson Document(std::vector<OrderedJson> events, int64_t now_unix_micros) {
  OrderedJson event_list = OrderedJson::array();
  for (OrderedJson& event : events) event_list.push_back(std::move(event));
  OrderedJson results_body = OrderedJson::object();
  results_body["eventList"] = std::move(event_list);
  OrderedJson query_results = OrderedJson::object();
  query_results["queryName"] = kQueryName;
  query_results["resultsBody"] = std::move(results_body);
  OrderedJson body = OrderedJson::object();
  body["queryResults"] = std::move(query_results);

  OrderedJson document = OrderedJson::object();
  document["@context"] = OrderedJson::array({kEpcisContext});
  document["type"] = "EPCISQueryDocument";
  document["schemaVersion"] = "2.0";
  document["creationDate"] = pb::util::TimeUtil::ToString(
      pb::util::TimeUtil::MicrosecondsToTimestamp(now_unix_micros));
  document["epcisBody"] = std::move(body);
  return document;
}

}  // namespace

std::variant<EventQuery, QueryError> ParseEventQuery(
    const std::vector<std::pair<std::string, std::string>>& params) {
  EventQuery q;
  std::set<std::string, std::less<>> single_seen;
  std::optional<std::string> token;
  for (const auto& [name, value] : params) {
    if (value.size() > kMaxValueBytes) {
      return Error(name, "value_too_long",
                   "value of " + std::to_string(value.size()) + " bytes, want at most " +
                       std::to_string(kMaxValueBytes));
    }
    if (const ListParameter* list = FindListParameter(name); list != nullptr) {
      std::vector<std::string> values;
      SplitValues(value, list->splitting, &values);
      std::vector<std::string>& field = q.*(list->field);
      for (std::string& v : values) {
        if (v.empty()) {
          return Error(name, "empty_value", "value " + Quoted(value) + " has an empty item");
        }
        field.push_back(std::move(v));
      }
      if (field.size() > kMaxValuesPerParameter) {
        return Error(name, "too_many_values",
                     std::to_string(field.size()) + " values, want at most " +
                         std::to_string(kMaxValuesPerParameter));
      }
      continue;
    }
    const bool single = name == "GE_eventTime" || name == "LT_eventTime" || name == "perPage" ||
                        name == "nextPageToken";
    if (!single) {
      if (IsUnsupportedEpcisParameter(name)) {
        return Error(name, "unsupported_parameter",
                     "EPCIS query parameter " + Quoted(name) +
                         " is not supported here; see docs/formats/query.md for the ones that are");
      }
      return Error(name, "unknown_parameter",
                   "unknown query parameter " + Quoted(name) +
                       " (parameter names are case-sensitive)");
    }
    if (!single_seen.insert(name).second) {
      return Error(name, "repeated_parameter", "given more than once; want one value");
    }
    if (value.empty()) return Error(name, "empty_value", "value is empty");
    if (name == "GE_eventTime" || name == "LT_eventTime") {
      const std::optional<Instant> t = ParseInstant(value);
      if (!t.has_value()) {
        return Error(name, "bad_time",
                     Quoted(value) +
                         " is not an RFC 3339 date-time with an offset, e.g. "
                         "2026-11-02T09:30:00+08:00 or 2026-11-02T01:30:00.5Z");
      }
      (name == "GE_eventTime" ? q.ge_event_time : q.lt_event_time) = t;
    } else if (name == "perPage") {
      const bool digits = value.size() <= 9 && std::all_of(value.begin(), value.end(), [](char c) {
                            return c >= '0' && c <= '9';
                          });
      const size_t per_page = digits ? std::stoul(value) : 0;
      if (!digits || per_page < 1 || per_page > kMaxPerPage) {
        return Error(name, "bad_per_page",
                     Quoted(value) + ": want a whole number from 1 to " +
                         std::to_string(kMaxPerPage));
      }
      q.per_page = per_page;
    } else {
      token = value;
    }
  }
  for (const std::string& type : q.event_types) {
    if (std::find(kEventTypes.begin(), kEventTypes.end(), type) == kEventTypes.end()) {
      return Error("eventType", "bad_event_type",
                   Quoted(type) + ": want ObjectEvent, AggregationEvent, TransactionEvent, "
                                  "TransformationEvent or AssociationEvent");
    }
  }
  for (const ListParameter& p : kListParameters) {
    if (p.name.substr(0, 6) != "MATCH_") continue;
    for (const std::string& value : q.*(p.field)) {
      if (!IsEpcPattern(value)) continue;
      if (Status s = CheckEpcPattern(value); !s.ok()) {
        return Error(p.name, "bad_epc_pattern", s.message());
      }
    }
  }
  // Lists are sets: order and repeats do not change the answer (nor the fingerprint).
  for (const ListParameter& p : kListParameters) {
    std::vector<std::string>& values = q.*(p.field);
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
  }
  q.fingerprint = Fingerprint(q);
  if (token.has_value()) {
    std::variant<uint64_t, QueryError> start = DecodePageToken(*token, q.fingerprint);
    if (auto* error = std::get_if<QueryError>(&start)) return std::move(*error);
    q.start_sequence = std::get<uint64_t>(start);
  }
  return q;
}

std::string EncodePageToken(const EventQuery& query, uint64_t next_sequence) {
  TL_ASSERT(query.fingerprint.size() == kFingerprintBytes);
  std::string bytes(1, kTokenVersion);
  PutFixed64BigEndian(&bytes, next_sequence);
  bytes.append(query.fingerprint);
  TL_ASSERT(bytes.size() == kTokenBytes);
  return ToBase64Url(Base64Encode(bytes));
}

Result<QueryPage> RunEventQuery(const ledger::Ledger& ledger,
                                const projections::ViewReader* history, const EventQuery& query,
                                const QueryScope& scope, const QueryOptions& options) {
  TL_ASSERT(query.per_page >= 1);
  TL_ASSERT(query.per_page <= kMaxPerPage);
  TL_ASSERT(query.fingerprint.size() == kFingerprintBytes);
  const uint64_t end = ledger.size();  // the page answers the ledger as of now
  if (query.start_sequence > end) {
    return Status::InvalidArgument("nextPageToken points at sequence " +
                                   std::to_string(query.start_sequence) +
                                   ", past the end of the ledger (" + std::to_string(end) +
                                   " entries)");
  }
  Page page(query, scope, options.max_scan_entries);
  uint64_t scan_from = query.start_sequence;
  const std::vector<std::string>* index_list = IndexList(query);
  if (history != nullptr && index_list != nullptr) {
    TL_ASSIGN_OR_RETURN(const uint64_t view_end, IndexedEnd(*history));
    const uint64_t indexed_end = std::min(view_end, end);
    if (indexed_end > query.start_sequence) {
      TL_ASSIGN_OR_RETURN(Candidates candidates,
                          FindCandidates(*history, *index_list, query, scope,
                                         query.start_sequence, indexed_end,
                                         options.max_index_rows));
      if (!candidates.overflow) {
        for (uint64_t sequence : candidates.sequences) {
          TL_ASSIGN_OR_RETURN(std::string bytes, ledger.GetEntry(sequence));
          TL_RETURN_IF_ERROR(page.Examine(sequence, bytes));
          if (page.done()) break;
          // Every sequence up to this candidate is settled: the index names none between.
        }
        // The indexed range is settled; the view's tail is scanned below.
        scan_from = indexed_end;
      }
    }
  }
  if (!page.done() && scan_from < end) TL_RETURN_IF_ERROR(ScanRange(ledger, scan_from, end, page));

  QueryPage out;
  out.entries_examined = page.examined();
  if (page.next().has_value()) out.next_page_token = EncodePageToken(query, *page.next());
  out.document = Document(std::move(page.events()), options.now_unix_micros);
  return out;
}

}  // namespace traceledger::api
