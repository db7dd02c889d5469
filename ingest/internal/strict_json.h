// File: ingest/internal/strict_json.h
//
// A strict pre-check for JSON documents from outside: well-formed (RFC 8259, UTF-8), a single
// object at the root, nesting at most kMaxJsonDepth, and no duplicate keys in any object.
// Duplicate keys matter because the ledger stores the exact submitted bytes: two parsers that
// pick different duplicates would read two different events from one entry. Pure functions,
// thread-safe. Folder-private to ingest/.
#ifndef TRACELEDGER_INGEST_INTERNAL_STRICT_JSON_H_
#define TRACELEDGER_INGEST_INTERNAL_STRICT_JSON_H_

#include <cstddef>
#include <string_view>

#include "ledger/base/status.h"

namespace traceledger::ingest::internal {

// Deepest allowed nesting of objects and arrays (the root object is depth 1).
inline constexpr size_t kMaxJsonDepth = 64;

// Returns OK if `text` is one JSON object meeting the rules above; otherwise InvalidArgument
// naming the first problem, e.g. "JSON: duplicate key \"eventId\"" or
// "JSON: syntax error while parsing object - unexpected end of input; ... (byte 14)".
Status CheckStrictJsonObject(std::string_view text);

}  // namespace traceledger::ingest::internal

#endif  // TRACELEDGER_INGEST_INTERNAL_STRICT_JSON_H_
