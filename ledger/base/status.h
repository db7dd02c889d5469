// File: ledger/base/status.h
//
// Status and Result<T>: how operating failures travel (STYLE.md section 4). Codes follow
// google.rpc.Code so that api/ can map them to HTTP in one place. Header-only; thread-compatible.
#ifndef TRACELEDGER_LEDGER_BASE_STATUS_H_
#define TRACELEDGER_LEDGER_BASE_STATUS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "ledger/base/assert.h"

namespace traceledger {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input breaks a rule; fix the input
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // a conflicting thing exists (e.g. same event id, other bytes)
  kFailedPrecondition,  // the system is not in a state for this call; fix state first
  kAborted,             // concurrency conflict; retry the sequence
  kOutOfRange,          // a position past the end (e.g. proof for a size not yet reached)
  kResourceExhausted,   // a named limit was hit
  kUnavailable,         // transient; retry the call
  kDataLoss,            // stored data failed a check: corruption or tampering
  kInternal,            // a dependency failed in a way we did not expect
  kUnimplemented,       // this build cannot do it (e.g. no decoder for an encoding)
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status Unimplemented(std::string m) {
    return {StatusCode::kUnimplemented, std::move(m)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const {
    if (ok()) return "OK";
    return std::string(StatusCodeName(code_)) + ": " + message_;
  }
  // Returns a copy whose message is prefixed with `context` (e.g. the item being processed).
  Status WithContext(std::string_view context) const {
    if (ok()) return *this;
    return Status(code_, std::string(context) + ": " + message_);
  }
  // Explicitly drops the status; write "// Why: ..." next to every call.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kAborted: return "ABORTED";
    case StatusCode::kOutOfRange: return "OUT_OF_RANGE";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kDataLoss: return "DATA_LOSS";
    case StatusCode::kInternal: return "INTERNAL";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
  }
  return "UNKNOWN";
}

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    TL_ASSERT(!status_.ok());
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & {
    TL_ASSERT(ok());
    return *value_;
  }
  const T& value() const& {
    TL_ASSERT(ok());
    return *value_;
  }
  T&& value() && {
    TL_ASSERT(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  Status status_;  // OK when value_ holds a value
  std::optional<T> value_;
};

}  // namespace traceledger

#define TL_STATUS_CONCAT_INNER_(a, b) a##b
#define TL_STATUS_CONCAT_(a, b) TL_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if it is not OK.
#define TL_RETURN_IF_ERROR(expr)                        \
  do {                                                  \
    ::traceledger::Status tl_status_ = (expr);          \
    if (!tl_status_.ok()) return tl_status_;            \
  } while (false)

// TL_ASSIGN_OR_RETURN(auto x, ComputeX()); declares x from a Result or returns its status.
#define TL_ASSIGN_OR_RETURN(lhs, expr) \
  TL_ASSIGN_OR_RETURN_IMPL_(TL_STATUS_CONCAT_(tl_result_, __LINE__), lhs, expr)
#define TL_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                              \
  if (!result.ok()) return result.status();          \
  lhs = std::move(result).value()

#endif  // TRACELEDGER_LEDGER_BASE_STATUS_H_
