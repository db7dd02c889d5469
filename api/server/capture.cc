// File: api/server/capture.cc
#include "api/server/capture.h"

#include <openssl/rand.h>
#include <rocksdb/db.h>

#include <chrono>
#include <map>
#include <utility>
#include <vector>

#include "api/server/capture_document.h"
#include "ingest/epcis_json.h"
#include "ingest/event_decoder.h"
#include "ledger/base/encoding.h"
#include "ledger/sha256.h"
#include "tl/v1/ledger.pb.h"

namespace traceledger::api {
namespace {

using nlohmann::json;

int64_t SystemMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string JobKey(std::string_view id) { return "capture/" + std::string(id); }

// EPCIS eventID is optional. An event without one is named by its content: the SHA-256 of its
// canonical JSON (keys sorted, no whitespace) without "errorDeclaration", so resubmitting it is
// idempotent, and an error declaration without an eventID (EPCIS identifies the erroneous
// event by its content then) points at the event with the same content.
void AssignContentId(std::string_view bytes, v1::Event& event) {
  json canonical = json::parse(bytes, nullptr, false);
  if (canonical.is_object()) canonical.erase("errorDeclaration");
  const std::string id =
      "urn:traceledger:sha256:" +
      HexEncode(ledger::Sha256(canonical.dump(-1, ' ', false, json::error_handler_t::replace)));
  v1::EpcisCommon* common = ingest::MutableEpcisCommon(&event);
  if (common != nullptr && common->has_error_declaration()) {
    common->mutable_error_declaration()->set_erroneous_event_id(id);
    event.set_event_id(id + std::string(ingest::kErrorDeclarationIdSuffix));
  } else {
    event.set_event_id(id);
  }
}

}  // namespace

std::string EpcisPointerOf(std::string_view native_pointer) {
  std::string p(native_pointer);
  for (std::string_view body : {"/objectEvent", "/aggregationEvent", "/transactionEvent",
                                "/transformationEvent", "/associationEvent"}) {
    if (p.rfind(body, 0) == 0 && (p.size() == body.size() || p[body.size()] == '/')) {
      p.erase(0, body.size());
      break;
    }
  }
  if (p.rfind("/common", 0) == 0 && (p.size() == 7 || p[7] == '/')) p.erase(0, 7);
  static const std::vector<std::pair<std::string, std::string>> kRenames = {
      {"eventId", "eventID"},         {"parentId", "parentID"},
      {"childEpcs", "childEPCs"},     {"inputEpcList", "inputEPCList"},
      {"outputEpcList", "outputEPCList"}, {"transformationId", "transformationID"},
      {"deviceId", "deviceID"},       {"sensorReports", "sensorReport"},
      {"correctiveEventIds", "correctiveEventIDs"}};
  std::string out;
  size_t start = 0;
  std::string previous;
  while (start < p.size()) {
    size_t end = p.find('/', start + 1);
    if (end == std::string::npos) end = p.size();
    std::string segment = p.substr(start + 1, end - start - 1);
    for (const auto& [from, to] : kRenames) {
      if (segment == from) segment = to;
    }
    // sourceList/N/id -> sourceList/N/source (and destinations).
    if (segment == "id" && out.rfind("/sourceList/", 0) == 0) segment = "source";
    if (segment == "id" && out.rfind("/destinationList/", 0) == 0) segment = "destination";
    out += "/" + segment;
    start = end;
  }
  return out;
}

CaptureService::CaptureService(ledger::Ledger& ledger, std::unique_ptr<rocksdb::DB> jobs,
                               CaptureOptions options)
    : ledger_(ledger), jobs_(std::move(jobs)), options_(std::move(options)) {
  if (!options_.clock_unix_micros) options_.clock_unix_micros = SystemMicros;
}

CaptureService::~CaptureService() = default;

Result<std::unique_ptr<CaptureService>> CaptureService::Open(ledger::Ledger& ledger,
                                                             const std::string& jobs_dir,
                                                             CaptureOptions options) {
  if (options.max_events == 0) {
    return Status::InvalidArgument("capture: max_events must be at least 1");
  }
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, jobs_dir, &db);
  if (!s.ok()) {
    return Status::Unavailable("capture jobs database " + jobs_dir + ": " + s.ToString());
  }
  return std::unique_ptr<CaptureService>(
      new CaptureService(ledger, std::unique_ptr<rocksdb::DB>(db), std::move(options)));
}

std::string CaptureService::NewCaptureId() {
  unsigned char random[8];
  if (RAND_bytes(random, sizeof(random)) != 1) {
    // Unpredictability is a nicety here (jobs are authorized by owner); uniqueness is not.
    const uint64_t n = next_job_.fetch_add(1) ^ static_cast<uint64_t>(SystemMicros());
    for (size_t i = 0; i < sizeof(random); ++i) random[i] = static_cast<unsigned char>(n >> (8 * i));
  }
  return "cap-" + HexEncode(std::string_view(reinterpret_cast<const char*>(random), sizeof(random)));
}

std::variant<CaptureAnswer, Problem> CaptureService::Capture(const Submitter& submitter,
                                                             std::string_view body) {
  auto refuse = [this](Problem p) -> std::variant<CaptureAnswer, Problem> {
    captures_refused_.fetch_add(1);
    return p;
  };
  auto split = SplitCaptureDocument(body, options_.max_events);
  if (auto* p = std::get_if<Problem>(&split)) return refuse(std::move(*p));
  CaptureDocument& doc = std::get<CaptureDocument>(split);
  const bool epcis = doc.encoding == v1::EVENT_ENCODING_EPCIS_JSON;

  ingest::ValidationContext ctx;
  ctx.now_unix_micros = options_.clock_unix_micros();
  const std::string capture_id = NewCaptureId();

  std::vector<FieldError> errors;
  bool forbidden = false;
  ledger::AppendCall call;
  call.requests.reserve(doc.events.size());
  std::map<std::string, size_t> first_index;  // event id -> index in the document
  for (size_t i = 0; i < doc.events.size(); ++i) {
    const DocumentEvent& item = doc.events[i];
    auto field_pointer = [&](std::string_view native) {
      return item.pointer + (epcis ? EpcisPointerOf(native) : std::string(native));
    };
    const std::string_view bytes = item.text();
    if (bytes.size() > ingest::kMaxEventBytes) {
      errors.push_back({item.pointer, "too_large",
                        std::to_string(bytes.size()) + " bytes; at most " +
                            std::to_string(ingest::kMaxEventBytes) + " per event",
                        ""});
      continue;
    }
    auto decoded = ingest::DecodeEvent(bytes, doc.encoding);
    if (!decoded.ok()) {
      errors.push_back({item.pointer, "unparsable", decoded.status().message(), ""});
      continue;
    }
    v1::Event& event = *decoded;
    if (epcis) {
      event.set_submitter_id(submitter.party);
      if (event.event_id().empty()) AssignContentId(bytes, event);
    } else if (event.submitter_id() != submitter.party) {
      forbidden = true;
      errors.push_back({field_pointer("/submitterId"), "submitter_mismatch",
                        "submitterId is \"" + event.submitter_id() +
                            "\" but you are authenticated as \"" + submitter.party +
                            "\": a party submits only as itself",
                        event.event_id()});
      continue;
    }
    // (An event without a body is the validator's: missing_field.)
    const google::protobuf::FieldDescriptor* kind =
        v1::Event::descriptor()->FindFieldByNumber(event.body_case());
    if (kind != nullptr && !MayCaptureEventType(submitter.role, event.body_case())) {
      forbidden = true;
      errors.push_back({item.pointer, "forbidden_event_kind",
                        "role " + std::string(RoleName(submitter.role)) + " may not submit " +
                            kind->camelcase_name() +
                            " events (inspections, sampling results, enforcement actions and "
                            "recalls are the regulator's)",
                        event.event_id()});
      continue;
    }
    if (auto violation = ingest::ValidateEvent(event, ctx)) {
      errors.push_back({field_pointer(violation->field),
                        std::string(ingest::ValidationRuleName(violation->rule)),
                        violation->message, event.event_id()});
      continue;
    }
    ledger::AppendRequest request;
    request.event_id = event.event_id();
    request.submitter_id = submitter.party;
    request.encoding = doc.encoding;
    request.event = std::string(bytes);
    request.source.mutable_http()->set_capture_id(capture_id);
    request.source.mutable_http()->set_index(static_cast<uint32_t>(i));
    auto [it, inserted] = first_index.emplace(request.event_id, call.requests.size());
    if (!inserted && call.requests[it->second].event != request.event) {
      errors.push_back({item.pointer, std::string(rule::kDuplicateInDocument),
                        "eventID \"" + request.event_id +
                            "\" is used by another event of this document with other content",
                        request.event_id});
      continue;
    }
    call.requests.push_back(std::move(request));
  }
  if (!errors.empty()) {
    Problem p = MakeProblem(forbidden ? 403 : 400, forbidden ? rule::kForbidden : errors[0].rule,
                            forbidden ? "not allowed to submit these events"
                                      : "invalid events; nothing was captured",
                            std::to_string(errors.size()) + " of " +
                                std::to_string(doc.events.size()) +
                                " events refused; the document was not captured (all or "
                                "nothing). First: " + errors[0].pointer + ": " + errors[0].detail,
                            errors[0].pointer);
    p.errors = std::move(errors);
    return refuse(std::move(p));
  }

  // An id already logged with other content refuses the whole capture (409) before anything
  // is appended. (Two concurrent captures reusing one id can still race past this check; the
  // ledger then answers kConflict for that event, reported in the job.)
  for (const ledger::AppendRequest& request : call.requests) {
    auto seq = ledger_.FindEvent(request.event_id);
    if (!seq.ok()) return refuse(ProblemFromStatus(seq.status()));
    if (!seq->has_value()) continue;
    auto bytes = ledger_.GetEntry(**seq);
    if (!bytes.ok()) return refuse(ProblemFromStatus(bytes.status()));
    v1::LedgerEntry entry;
    if (!entry.ParseFromString(*bytes)) {
      return refuse(MakeProblem(500, rule::kInternal, "stored entry does not decode",
                                "entry " + std::to_string(**seq)));
    }
    if (entry.event() != request.event || entry.submitter_id() != request.submitter_id) {
      errors.push_back({doc.events[request.source.http().index()].pointer,
                        std::string(rule::kConflict),
                        "eventID \"" + request.event_id + "\" is already in the ledger at seq " +
                            std::to_string(**seq) + " with other content or another submitter",
                        request.event_id});
    }
  }
  if (!errors.empty()) {
    Problem p = MakeProblem(409, rule::kConflict, "event id already used for other content",
                            std::to_string(errors.size()) +
                                " events reuse ids already in the ledger; nothing was captured. "
                                "First: " + errors[0].detail,
                            errors[0].pointer);
    p.errors = std::move(errors);
    return refuse(std::move(p));
  }

  std::vector<bool> normalized;
  for (const ledger::AppendRequest& request : call.requests) {
    normalized.push_back(doc.events[request.source.http().index()].normalized);
  }
  const int64_t created = options_.clock_unix_micros();
  auto results = ledger_.Append(std::move(call));
  if (!results.ok()) {
    captures_refused_.fetch_add(1);
    Problem p = ProblemFromStatus(results.status());
    if (results.status().code() == StatusCode::kResourceExhausted) p.status = 503;
    return p;
  }
  json receipts = json::array();
  json job_errors = json::array();
  uint64_t appended = 0;
  for (size_t i = 0; i < results->size(); ++i) {
    const ledger::AppendResult& r = (*results)[i];
    json receipt = {{"event_id", r.receipt.event_id},
                    {"seq", r.receipt.sequence},
                    {"leaf_hash", HexEncode(r.receipt.leaf_hash)},
                    {"status", ledger::AppendOutcomeName(r.outcome)}};
    if (normalized[i]) {
      receipt["normalized"] = "a key was repeated in the event; stored re-serialized, last value wins";
    }
    if (r.outcome == ledger::AppendOutcome::kAppended) ++appended;
    if (r.outcome == ledger::AppendOutcome::kConflict) {
      job_errors.push_back({{"event_id", r.receipt.event_id},
                            {"rule", rule::kConflict},
                            {"detail", "already in the ledger at seq " +
                                           std::to_string(r.receipt.sequence) +
                                           " with other content (a concurrent capture)"}});
    }
    receipts.push_back(std::move(receipt));
  }
  events_captured_.fetch_add(appended);
  json job = {{"captureID", capture_id},
              {"submitter", submitter.party},
              {"createdAt", created},
              {"finishedAt", options_.clock_unix_micros()},
              {"running", false},
              {"success", job_errors.empty()},
              {"captureErrorBehaviour", "rollback"},
              {"errors", job_errors},
              {"receipts", receipts}};
  // The entries are durable already (that is what the answer promises); the job record is a
  // convenience for GET /capture/{id}. It goes to the jobs database's WAL without an fsync of
  // its own: it survives a process crash, and only an OS crash right after can lose it.
  rocksdb::WriteOptions write;
  rocksdb::Status s = jobs_->Put(write, JobKey(capture_id),
                                 job.dump(-1, ' ', false, json::error_handler_t::replace));
  if (!s.ok()) {
    job["jobRecord"] = "not stored: " + s.ToString();
  }
  return CaptureAnswer{job_errors.empty() ? 202 : 409, std::move(job)};
}

Result<std::optional<json>> CaptureService::Job(std::string_view id) const {
  std::string value;
  rocksdb::Status s = jobs_->Get(rocksdb::ReadOptions(), JobKey(id), &value);
  if (s.IsNotFound()) return std::optional<json>();
  if (!s.ok()) return Status::Unavailable("capture jobs database: " + s.ToString());
  json job = json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (job.is_discarded()) return Status::DataLoss("capture job " + std::string(id) + " does not decode");
  return std::optional<json>(std::move(job));
}

}  // namespace traceledger::api
