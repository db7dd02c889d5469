// File: api/server/trace_json.cc
#include "api/server/trace_json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

namespace traceledger::api {
namespace {

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0 if it is not one (an
// overlong form, a surrogate, past U+10FFFF, or cut short): the rule nlohmann::json's dump
// checks against.
size_t Utf8SequenceLength(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto continuation = [&](size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  const unsigned char b0 = byte(0);
  if (b0 >= 0xC2 && b0 <= 0xDF) return continuation(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (b0 == 0xE0 && byte(1) < 0xA0) return 0;  // overlong
    if (b0 == 0xED && byte(1) > 0x9F) return 0;  // a surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (b0 == 0xF0 && byte(1) < 0x90) return 0;  // overlong
    if (b0 == 0xF4 && byte(1) > 0x8F) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

// Whether one of the 8 bytes of `word` may need a look of its own: a control character, '"',
// '\\', or a byte of a multibyte UTF-8 sequence (it may also say so of a byte above one that
// does, never miss one). Ids are mostly plain ASCII: skipping them 8 bytes at a time took a
// quarter off writing a large answer (docs/BENCHMARKS.md, "HTTP API", session 29).
bool MayNeedALook(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kHigh = 0x8080808080808080;
  const auto any_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  return (((word - kOnes * 0x20) | word) & kHigh) != 0 || any_zero(word ^ (kOnes * '"')) != 0 ||
         any_zero(word ^ (kOnes * '\\')) != 0;
}

void AppendString(std::string* out, std::string_view s) {
  const size_t start = out->size();
  out->push_back('"');
  size_t plain = 0;  // s[plain, i) still to be copied as it is
  for (size_t i = 0; i < s.size();) {
    if (s.size() - i >= 8) {
      uint64_t word;
      std::memcpy(&word, s.data() + i, sizeof(word));
      if (!MayNeedALook(word)) {
        i += 8;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(s.substr(i));
      if (length > 0) {
        i += length;
        continue;
      }
      // Not UTF-8 (no id should be): the whole string goes as nlohmann::json dumps it with
      // error_handler_t::replace, whose rule for what one U+FFFD stands for is its own.
      out->resize(start);
      out->append(nlohmann::json(std::string(s)).dump(-1, ' ', false,
                                                      nlohmann::json::error_handler_t::replace));
      return;
    }
    out->append(s.data() + plain, i - plain);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: {
        constexpr char kHex[] = "0123456789abcdef";
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(escaped, sizeof(escaped));
      }
    }
    plain = ++i;
  }
  out->append(s.data() + plain, s.size() - plain);
  out->push_back('"');
}

template <typename Integer>
void AppendInteger(std::string* out, Integer value) {
  char digits[24];  // enough for any 64-bit integer, so to_chars cannot fail
  out->append(digits, std::to_chars(digits, digits + sizeof(digits), value).ptr);
}

// A 64-bit integer, which protobuf's JSON mapping writes as a string.
template <typename Integer>
void AppendQuotedInteger(std::string* out, Integer value) {
  out->push_back('"');
  AppendInteger(out, value);
  out->push_back('"');
}

// Whether protobuf's printer writes the whole number `value` (|value| < 10^17) without an
// exponent, so that nlohmann::json reads it back as an integer. It prints "%.15g" if that
// reads back as the same double, else "%.17g": below 10^15 both are plain digits; from 10^15
// on, "%.15g" has an exponent and "%.17g" has none.
bool PrintedAsInteger(double value) {
  if (std::fabs(value) < 1e15) return true;
  char text[32];
  std::snprintf(text, sizeof(text), "%.15g", value);
  return std::strtod(text, nullptr) != value;
}

// A double as it came out of protobuf's printer and nlohmann::json's parse and dump: a whole
// number printed without an exponent as an integer (json keeps it one), any other as json
// dumps that double (the printed text reads back as the same double), NaN and the infinities
// as protobuf's strings.
void AppendDouble(std::string* out, double value) {
  if (std::isnan(value)) {
    out->append("\"NaN\"");
  } else if (std::isinf(value)) {
    out->append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else if (value == std::trunc(value) && std::fabs(value) < 1e17 && PrintedAsInteger(value)) {
    AppendInteger(out, static_cast<int64_t>(value));
  } else {
    out->append(nlohmann::json(value).dump());
  }
}

void AppendBool(std::string* out, bool value) { out->append(value ? "true" : "false"); }

// `"name":`, after a comma unless it is the object's first key.
void AppendKey(std::string* out, std::string_view name, bool first = false) {
  if (!first) out->push_back(',');
  out->push_back('"');
  out->append(name);
  out->append("\":");
}

void AppendNode(std::string* out, const v1::TraceNode& node) {
  out->push_back('{');
  AppendKey(out, "depth", true);
  AppendInteger(out, node.depth());
  AppendKey(out, "direction");
  AppendString(out, node.direction());
  AppendKey(out, "id");
  AppendString(out, node.id());
  AppendKey(out, "kind");
  const std::string& kind = v1::NodeKind_Name(node.kind());
  if (kind.empty()) {
    AppendInteger(out, static_cast<int>(node.kind()));  // a value this build does not name
  } else {
    AppendString(out, kind);
  }
  AppendKey(out, "timeUnixMicros");
  AppendQuotedInteger(out, node.time_unix_micros());
  out->push_back('}');
}

void AppendEdge(std::string* out, const v1::TraceEdge& edge) {
  out->push_back('{');
  AppendKey(out, "from", true);
  AppendString(out, edge.from());
  AppendKey(out, "kind");
  AppendString(out, edge.kind());
  AppendKey(out, "party");
  AppendString(out, edge.party());
  AppendKey(out, "quantity");
  AppendDouble(out, edge.quantity());
  AppendKey(out, "sequence");
  AppendQuotedInteger(out, edge.sequence());
  AppendKey(out, "timeUnixMicros");
  AppendQuotedInteger(out, edge.time_unix_micros());
  AppendKey(out, "to");
  AppendString(out, edge.to());
  AppendKey(out, "uom");
  AppendString(out, edge.uom());
  out->push_back('}');
}

void AppendHolder(std::string* out, const v1::TraceHolder& holder) {
  out->push_back('{');
  AppendKey(out, "location", true);
  AppendString(out, holder.location());
  AppendKey(out, "objectId");
  AppendString(out, holder.object_id());
  AppendKey(out, "party");
  AppendString(out, holder.party());
  AppendKey(out, "quantity");
  AppendDouble(out, holder.quantity());
  AppendKey(out, "soldToConsumers");
  AppendBool(out, holder.sold_to_consumers());
  AppendKey(out, "uom");
  AppendString(out, holder.uom());
  out->push_back('}');
}

template <typename Message, typename AppendOne>
void AppendArray(std::string* out, const google::protobuf::RepeatedPtrField<Message>& items,
                 AppendOne append_one) {
  out->push_back('[');
  bool first = true;
  for (const Message& item : items) {
    if (!first) out->push_back(',');
    first = false;
    append_one(out, item);
  }
  out->push_back(']');
}

}  // namespace

std::string TraceJson(const v1::TraceResult& trace, std::string_view direction,
                      uint64_t views_applied) {
  std::string out;
  // About what the strings take, so that the text grows once or twice, not a dozen times.
  out.reserve(256 + 160 * static_cast<size_t>(trace.nodes_size()) +
              256 * static_cast<size_t>(trace.edges_size()) +
              192 * static_cast<size_t>(trace.holders_size()));
  out.push_back('{');
  AppendKey(&out, "direction", true);
  AppendString(&out, direction);
  AppendKey(&out, "edges");
  AppendArray(&out, trace.edges(), AppendEdge);
  AppendKey(&out, "holders");
  AppendArray(&out, trace.holders(), AppendHolder);
  AppendKey(&out, "nodes");
  AppendArray(&out, trace.nodes(), AppendNode);
  AppendKey(&out, "rootId");
  AppendString(&out, trace.root_id());
  AppendKey(&out, "truncated");
  AppendBool(&out, trace.truncated());
  AppendKey(&out, "truncatedReason");
  AppendString(&out, trace.truncated_reason());
  AppendKey(&out, "views_applied");
  AppendInteger(&out, views_applied);
  out.push_back('}');
  return out;
}

}  // namespace traceledger::api
