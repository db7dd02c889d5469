// libFuzzer target of the POST /capture body splitter (STYLE.md section 8):
// SplitCaptureDocument checks the body's UTF-8 and JSON grammar, then walks it with a scanner
// of its own to find the event list and each event's exact bytes. Whatever the bytes, it must
// not crash, hang or trip a sanitizer, and what it accepts must hold: at least one and at most
// max_events events, each a JSON object lying inside the body (or, for an event with a
// repeated key, re-serialized as an object), and the same answer again for the same bytes.
// Seeds: tests/fuzz_corpus/api_capture_document_fuzz/ (EPCIS 2.0 documents of the repo's own
// fixtures, a query document, a native batch).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "api/server/capture_document.h"

namespace {

constexpr size_t kMaxEvents = 64;  // small, so that the too-many-events path is reached too

bool IsObjectJson(std::string_view text) {
  const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_object();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using traceledger::api::CaptureDocument;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto split = traceledger::api::SplitCaptureDocument(body, kMaxEvents);
  const auto* document = std::get_if<CaptureDocument>(&split);
  if (document == nullptr) return 0;
  if (document->events.empty() || document->events.size() > kMaxEvents) __builtin_trap();
  for (const traceledger::api::DocumentEvent& event : document->events) {
    // The exact bytes are a part of the body, not a copy.
    if (event.bytes.data() < body.data() ||
        event.bytes.data() + event.bytes.size() > body.data() + body.size()) {
      __builtin_trap();
    }
    if (!IsObjectJson(event.bytes) || !IsObjectJson(event.text())) __builtin_trap();
  }
  // Deterministic: the same body splits the same way.
  const auto again = traceledger::api::SplitCaptureDocument(body, kMaxEvents);
  const auto* second = std::get_if<CaptureDocument>(&again);
  if (second == nullptr || second->events.size() != document->events.size()) __builtin_trap();
  for (size_t i = 0; i < document->events.size(); ++i) {
    if (second->events[i].bytes != document->events[i].bytes ||
        second->events[i].pointer != document->events[i].pointer) {
      __builtin_trap();
    }
  }
  return 0;
}
