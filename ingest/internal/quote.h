// File: ingest/internal/quote.h
//
// Quote(s): "s" in double quotes, for naming a value in an error message. Folder-private.
#ifndef TRACELEDGER_INGEST_INTERNAL_QUOTE_H_
#define TRACELEDGER_INGEST_INTERNAL_QUOTE_H_

#include <string>
#include <string_view>

namespace traceledger::ingest::internal {

// Built with append rather than `"\"" + std::string(s) + "\""`: GCC 12 at -O2/-O3 reports a
// false -Wrestrict on that operator+ chain (a known GCC 12 diagnostic bug).
inline std::string Quote(std::string_view s) {
  std::string quoted;
  quoted.reserve(s.size() + 2);
  quoted.push_back('"');
  quoted.append(s);
  quoted.push_back('"');
  return quoted;
}

}  // namespace traceledger::ingest::internal

#endif  // TRACELEDGER_INGEST_INTERNAL_QUOTE_H_
