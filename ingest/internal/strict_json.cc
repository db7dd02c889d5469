#include "ingest/internal/strict_json.h"

#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

namespace traceledger::ingest::internal {
namespace {

// A SAX consumer that keeps no values, only the keys of the open objects. nlohmann's SAX
// parser reports errors through parse_error() instead of throwing.
class StrictJsonChecker {
 public:
  using Json = nlohmann::json;

  bool null() { return Value(); }
  bool boolean(bool /*value*/) { return Value(); }
  bool number_integer(Json::number_integer_t /*value*/) { return Value(); }
  bool number_unsigned(Json::number_unsigned_t /*value*/) { return Value(); }
  bool number_float(Json::number_float_t /*value*/, const Json::string_t& /*text*/) {
    return Value();
  }
  bool string(Json::string_t& /*value*/) { return Value(); }
  bool binary(Json::binary_t& /*value*/) { return Fail("binary values are not JSON"); }

  bool start_object(std::size_t /*elements*/) {
    if (!Open()) return false;
    open_object_keys_.emplace_back();
    return true;
  }
  bool key(Json::string_t& key) {
    TL_ASSERT(!open_object_keys_.empty());
    if (!open_object_keys_.back().insert(key).second) {
      return Fail("duplicate key \"" + key + "\"");
    }
    return true;
  }
  bool end_object() {
    TL_ASSERT(!open_object_keys_.empty());
    open_object_keys_.pop_back();
    --depth_;
    return true;
  }
  bool start_array(std::size_t /*elements*/) {
    if (depth_ == 0) return Fail("want an object at the root, got an array");
    return Open();
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& error) {
    std::string what = error.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " tag; keep the explanation.
    const size_t tag_end = what.find("] ");
    if (tag_end != std::string::npos) what = what.substr(tag_end + 2);
    if (message_.empty()) message_ = what + " (byte " + std::to_string(position) + ")";
    return false;
  }

  // Why parsing stopped; empty while it has not failed.
  const std::string& message() const { return message_; }

 private:
  bool Value() {
    if (depth_ == 0) return Fail("want an object at the root, got a scalar");
    return true;
  }
  bool Open() {
    ++depth_;
    if (depth_ > kMaxJsonDepth) {
      return Fail("nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    return true;
  }
  bool Fail(std::string message) {
    if (message_.empty()) message_ = std::move(message);
    return false;
  }

  size_t depth_ = 0;
  // Keys seen so far in each open object, innermost last.
  std::vector<std::unordered_set<std::string>> open_object_keys_;
  std::string message_;
};

}  // namespace

Status CheckStrictJsonObject(std::string_view text) {
  StrictJsonChecker checker;
  const bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &checker,
                                            nlohmann::json::input_format_t::json,
                                            /*strict=*/true, /*ignore_comments=*/false);
  if (!ok) {
    TL_ASSERT(!checker.message().empty());
    return Status::InvalidArgument("JSON: " + checker.message());
  }
  return Status::Ok();
}

}  // namespace traceledger::ingest::internal
