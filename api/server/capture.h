// File: api/server/capture.h
//
// POST /capture behind HTTP: split the document (capture_document.h), decode and validate every
// event as the authenticated party, refuse the whole capture if any event is bad, then append
// all of it in one ledger call (one durable write batch) and record the capture job.
//
//  - All or nothing: a bad event, an event kind the principal may not submit, an event id
//    used twice in the document with other content, or an id already in the ledger with other
//    content (409) refuses the whole document and appends nothing.
//  - An EPCIS event without an eventID gets "urn:traceledger:sha256:<hex>", the SHA-256 of its
//    canonical JSON without errorDeclaration, so resubmitting it is idempotent and an error
//    declaration without an eventID points at the event with the same content.
//  - A resubmitted event (same id, bytes and submitter) is answered with its existing receipt
//    (status "duplicate").
//  - The answer is given only after the entries are durable (fsync'd), so a capture job that
//    says "success" never loses an event (DESIGN.md invariant 5).
//  - Capture jobs are kept in a small RocksDB database (DIR/api) so GET /capture/{id} answers
//    after a restart too (written to its WAL without an fsync: an OS crash just after a
//    capture can lose the job record, never the events).
//
// Thread-safety: Capture and Job are thread-safe.
#ifndef TRACELEDGER_API_SERVER_CAPTURE_H_
#define TRACELEDGER_API_SERVER_CAPTURE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "api/auth/policy.h"
#include "api/server/problem.h"
#include "ingest/event_validator.h"
#include "ledger/ledger.h"

namespace rocksdb {
class DB;
}

namespace traceledger::api {

// Events in one capture. At most the ledger's max_batch_records, so that one capture is one
// durable write batch.
inline constexpr size_t kDefaultMaxCaptureEvents = 1000;

struct CaptureOptions {
  size_t max_events = kDefaultMaxCaptureEvents;
  // The clock for validation (event time not in the future) and job times.
  std::function<int64_t()> clock_unix_micros;
};

// Who is capturing: the party events are submitted as, and its role (which event kinds it
// may submit: MayCaptureEventType in api/auth/policy.h).
struct Submitter {
  std::string party;
  Role role = Role::kEnterprise;
};

struct CaptureAnswer {
  int http_status = 202;
  nlohmann::json job;  // the capture job (as GET /capture/{id} answers)
};

class CaptureService {
 public:
  // `jobs_dir` holds the capture-job database (created if missing).
  static Result<std::unique_ptr<CaptureService>> Open(ledger::Ledger& ledger,
                                                      const std::string& jobs_dir,
                                                      CaptureOptions options);
  ~CaptureService();

  // Captures `body`. A problem when it is refused (nothing appended).
  std::variant<CaptureAnswer, Problem> Capture(const Submitter& submitter,
                                               std::string_view body);
  // The job `id`, if it exists; with its submitter, for authorization.
  Result<std::optional<nlohmann::json>> Job(std::string_view id) const;

  uint64_t events_captured() const { return events_captured_.load(); }
  uint64_t captures_refused() const { return captures_refused_.load(); }

 private:
  CaptureService(ledger::Ledger& ledger, std::unique_ptr<rocksdb::DB> jobs, CaptureOptions options);
  std::string NewCaptureId();

  ledger::Ledger& ledger_;
  std::unique_ptr<rocksdb::DB> jobs_;
  CaptureOptions options_;
  std::atomic<uint64_t> next_job_{0};
  std::atomic<uint64_t> events_captured_{0};
  std::atomic<uint64_t> captures_refused_{0};
};

// The EPCIS-form pointer of a field the validator names in the native form, e.g.
// "/objectEvent/common/bizStep" -> "/bizStep", "/aggregationEvent/parentId" -> "/parentID".
std::string EpcisPointerOf(std::string_view native_pointer);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_SERVER_CAPTURE_H_
