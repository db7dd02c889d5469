// File: ledger/sha256.h
//
// SHA-256 through OpenSSL 3 EVP with the algorithm fetched once and a reusable per-thread
// context, so a hash of a 300-byte entry costs the compression function and not a provider
// lookup. Thread-safe: every thread uses its own context.
#ifndef TRACELEDGER_LEDGER_SHA256_H_
#define TRACELEDGER_LEDGER_SHA256_H_

#include <string_view>

#include "ledger/base/types.h"

namespace traceledger::ledger {

// SHA-256 of the concatenation of `parts`.
Sha256Digest Sha256(std::initializer_list<std::string_view> parts);
inline Sha256Digest Sha256(std::string_view data) { return Sha256({data}); }

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_SHA256_H_
