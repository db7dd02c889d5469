// File: api/server/capture_document.cc
#include "api/server/capture_document.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

namespace traceledger::api {
namespace {

using nlohmann::json;

// A value's [begin, end) in the body.
struct Span {
  size_t begin = 0;
  size_t end = 0;
};

// Walks JSON text that nlohmann already accepted, so it need not re-check the grammar.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  size_t SkipSpace(size_t pos) const {
    while (pos < text_.size() && (text_[pos] == ' ' || text_[pos] == '\t' ||
                                  text_[pos] == '\n' || text_[pos] == '\r')) {
      ++pos;
    }
    return pos;
  }

  // End of the string starting at `pos` (text_[pos] == '"'), one past the closing quote.
  size_t SkipString(size_t pos) const {
    ++pos;
    while (pos < text_.size() && text_[pos] != '"') pos += text_[pos] == '\\' ? 2 : 1;
    return pos + 1;
  }

  // End of the value starting at `pos`.
  size_t SkipValue(size_t pos) const {
    pos = SkipSpace(pos);
    if (pos >= text_.size()) return pos;
    const char c = text_[pos];
    if (c == '"') return SkipString(pos);
    if (c == '{' || c == '[') {
      int depth = 0;
      while (pos < text_.size()) {
        const char d = text_[pos];
        if (d == '"') {
          pos = SkipString(pos);
          continue;
        }
        if (d == '{' || d == '[') ++depth;
        if (d == '}' || d == ']') {
          if (--depth == 0) return pos + 1;
        }
        ++pos;
      }
      return pos;
    }
    while (pos < text_.size() && text_[pos] != ',' && text_[pos] != '}' && text_[pos] != ']' &&
           text_[pos] != ' ' && text_[pos] != '\n' && text_[pos] != '\r' && text_[pos] != '\t') {
      ++pos;
    }
    return pos;
  }

  // The members of the object at `span`: (decoded key, value span), in order.
  std::vector<std::pair<std::string, Span>> Members(Span span) const {
    std::vector<std::pair<std::string, Span>> out;
    size_t pos = SkipSpace(span.begin) + 1;  // past '{'
    for (;;) {
      pos = SkipSpace(pos);
      if (pos >= span.end || text_[pos] == '}') break;
      const size_t key_end = SkipString(pos);
      std::string key(text_.substr(pos + 1, key_end - pos - 2));
      if (key.find('\\') != std::string::npos) {
        key = json::parse(text_.substr(pos, key_end - pos)).get<std::string>();
      }
      pos = SkipSpace(key_end) + 1;  // past ':'
      const size_t value_begin = SkipSpace(pos);
      const size_t value_end = SkipValue(value_begin);
      out.push_back({std::move(key), {value_begin, value_end}});
      pos = SkipSpace(value_end);
      if (pos < span.end && text_[pos] == ',') ++pos;
    }
    return out;
  }

  // The elements of the array at `span`.
  std::vector<Span> Elements(Span span) const {
    std::vector<Span> out;
    size_t pos = SkipSpace(span.begin) + 1;  // past '['
    for (;;) {
      pos = SkipSpace(pos);
      if (pos >= span.end || text_[pos] == ']') break;
      const size_t end = SkipValue(pos);
      out.push_back({pos, end});
      pos = SkipSpace(end);
      if (pos < span.end && text_[pos] == ',') ++pos;
    }
    return out;
  }

  char At(size_t pos) const { return pos < text_.size() ? text_[pos] : '\0'; }

 private:
  std::string_view text_;
};

// Offset of the first byte that is not well-formed UTF-8 (RFC 3629), or npos.
size_t InvalidUtf8At(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + n >= s.size()) return i;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (d & 0x3F);
    }
    const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

// True if an object anywhere inside the value at `span` repeats a key.
bool HasRepeatedKeys(const Scanner& scanner, Span span) {
  const char c = scanner.At(span.begin);
  if (c == '{') {
    std::vector<std::string> keys;
    for (auto& [key, value] : scanner.Members(span)) {
      keys.push_back(std::move(key));
      if (HasRepeatedKeys(scanner, value)) return true;
    }
    std::sort(keys.begin(), keys.end());
    return std::adjacent_find(keys.begin(), keys.end()) != keys.end();
  }
  if (c == '[') {
    for (const Span& element : scanner.Elements(span)) {
      if (HasRepeatedKeys(scanner, element)) return true;
    }
  }
  return false;
}

Problem DocumentProblem(std::string detail, std::string pointer) {
  return MakeProblem(400, rule::kBadDocument, "not a capture document", std::move(detail),
                     std::move(pointer));
}

// The one member named `key` of the object at `span`; a problem if it is missing or repeated
// (two parsers reading different duplicates would read different documents).
std::variant<Span, Problem> Member(const Scanner& scanner, Span span, std::string_view key,
                                   const std::string& pointer) {
  std::optional<Span> found;
  for (const auto& [name, value] : scanner.Members(span)) {
    if (name != key) continue;
    if (found) {
      return DocumentProblem("duplicate key \"" + std::string(key) + "\"",
                             pointer + "/" + std::string(key));
    }
    found = value;
  }
  if (!found) {
    return MakeProblem(400, rule::kBadDocument, "not a capture document",
                       "missing \"" + std::string(key) + "\"", pointer + "/" + std::string(key));
  }
  return *found;
}

}  // namespace

std::variant<CaptureDocument, Problem> SplitCaptureDocument(std::string_view body,
                                                            size_t max_events) {
  if (const size_t bad = InvalidUtf8At(body); bad != std::string_view::npos) {
    return MakeProblem(400, rule::kBadJson, "the body is not JSON",
                       "byte " + std::to_string(bad) + ": not UTF-8 (RFC 8259 requires UTF-8)");
  }
  // The grammar check builds no document: every event is parsed again by the decoder, so
  // materializing the whole body (a std::map per object, a string per value) here was paid
  // twice. Only the few root members read below are parsed into values.
  if (!json::accept(body)) {
    try {
      // For the message: the byte offset and what is wrong there.
      const json discarded = json::parse(body);
    } catch (const json::parse_error& e) {
      return MakeProblem(400, rule::kBadJson, "the body is not JSON",
                         "byte " + std::to_string(e.byte) + ": " + e.what());
    } catch (const json::exception& e) {
      // Not only grammar: a number too large for a double (1e999) is out_of_range (406).
      // Found by the fuzz target: it used to escape as a 500.
      return MakeProblem(400, rule::kBadJson, "the body is not JSON", e.what());
    }
    return MakeProblem(400, rule::kBadJson, "the body is not JSON",
                       "refused by the JSON grammar check");
  }
  const Scanner scanner(body);
  const Span root{scanner.SkipSpace(0), body.size()};
  if (scanner.At(root.begin) != '{') {
    return DocumentProblem("the body must be a JSON object (an EPCISDocument or {\"events\": [...]})",
                           "");
  }
  // The root members that say which form this is; a repeated key reads as its last value, as
  // a parsed document would.
  std::optional<Span> type_span, version_span, events_span;
  for (const auto& [key, value] : scanner.Members(root)) {
    if (key == "type") type_span = value;
    if (key == "schemaVersion") version_span = value;
    if (key == "events") events_span = value;
  }
  auto value_at = [body](Span span) {
    return json::parse(body.substr(span.begin, span.end - span.begin));
  };

  CaptureDocument out;
  std::vector<std::string> path;  // keys from the root to the event list
  if (type_span) {
    const json type_value = value_at(*type_span);
    if (!type_value.is_string()) return DocumentProblem("\"type\" must be a string", "/type");
    const std::string type = type_value.get<std::string>();
    if (type == "EPCISDocument") {
      path = {"epcisBody", "eventList"};
    } else if (type == "EPCISQueryDocument") {
      path = {"epcisBody", "queryResults", "resultsBody", "eventList"};
    } else {
      return DocumentProblem("\"type\" is \"" + type +
                                 "\"; want \"EPCISDocument\" (or \"EPCISQueryDocument\")",
                             "/type");
    }
    if (!version_span) {
      return DocumentProblem("missing \"schemaVersion\" (want \"2.0\")", "/schemaVersion");
    }
    const json version = value_at(*version_span);
    if (!version.is_string() || version.get<std::string>().rfind("2.", 0) != 0) {
      return DocumentProblem("\"schemaVersion\" is " + version.dump() +
                                 "; this server captures EPCIS 2.x (want \"2.0\")",
                             "/schemaVersion");
    }
    out.encoding = v1::EVENT_ENCODING_EPCIS_JSON;
  } else if (events_span) {
    path = {"events"};
    out.encoding = v1::EVENT_ENCODING_JSON;
  } else {
    return DocumentProblem(
        "neither an EPCIS 2.0 document (\"type\": \"EPCISDocument\") nor a native batch "
        "({\"events\": [...]})",
        "");
  }

  Span span = root;
  std::string pointer;
  for (size_t i = 0; i < path.size(); ++i) {
    if (scanner.At(span.begin) != '{') {
      return DocumentProblem("want an object", pointer);
    }
    auto member = Member(scanner, span, path[i], pointer);
    if (auto* p = std::get_if<Problem>(&member)) return std::move(*p);
    span = std::get<Span>(member);
    pointer += "/" + path[i];
  }
  if (scanner.At(span.begin) != '[') {
    return DocumentProblem("the event list must be an array", pointer);
  }
  const std::vector<Span> elements = scanner.Elements(span);
  if (elements.empty()) {
    return MakeProblem(400, rule::kEmptyDocument, "no events", "the event list is empty",
                       pointer);
  }
  if (elements.size() > max_events) {
    return MakeProblem(413, rule::kTooManyEvents, "too many events",
                       std::to_string(elements.size()) + " events; at most " +
                           std::to_string(max_events) + " per capture (max_batch_events)",
                       pointer);
  }
  out.events.reserve(elements.size());
  for (size_t i = 0; i < elements.size(); ++i) {
    const std::string where = pointer + "/" + std::to_string(i);
    if (scanner.At(elements[i].begin) != '{') {
      return DocumentProblem("an event must be a JSON object", where);
    }
    DocumentEvent event;
    event.bytes = body.substr(elements[i].begin, elements[i].end - elements[i].begin);
    event.pointer = where;
    if (out.encoding == v1::EVENT_ENCODING_EPCIS_JSON && HasRepeatedKeys(scanner, elements[i])) {
      event.normalized = true;
      event.normalized_bytes = nlohmann::ordered_json::parse(event.bytes).dump();
    }
    out.events.push_back(std::move(event));
  }
  return out;
}

}  // namespace traceledger::api
