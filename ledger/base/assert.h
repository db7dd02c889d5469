// File: ledger/base/assert.h
//
// TL_ASSERT: a broken invariant is our bug. It prints where and what, then aborts, in every
// build type (TigerBeetle, Redpanda vassert). TL_DEBUG_ASSERT is for expensive checks and is
// compiled in only when TL_DEBUG_ASSERTS is defined (Debug and sanitizer builds).
// A failed check on data read from disk is not our bug: return Status::DataLoss instead.
#ifndef TRACELEDGER_LEDGER_BASE_ASSERT_H_
#define TRACELEDGER_LEDGER_BASE_ASSERT_H_

#include <cstdio>
#include <cstdlib>

namespace traceledger::internal {

[[noreturn]] inline void AssertFail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "traceledger: assertion failed: %s at %s:%d\n", expr, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace traceledger::internal

#define TL_ASSERT(cond)                                                           \
  do {                                                                            \
    if (__builtin_expect(!(cond), 0)) {                                           \
      ::traceledger::internal::AssertFail(#cond, __FILE__, __LINE__);             \
    }                                                                             \
  } while (false)

#ifdef TL_DEBUG_ASSERTS
#define TL_DEBUG_ASSERT(cond) TL_ASSERT(cond)
#else
#define TL_DEBUG_ASSERT(cond) \
  do {                        \
  } while (false && (cond))
#endif

#endif  // TRACELEDGER_LEDGER_BASE_ASSERT_H_
