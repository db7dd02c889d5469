// libFuzzer target of the courts' offline verifier (STYLE.md section 8): VerifyEvidenceBundle
// parses everything a bundle holds (its header and title, the embedded verifier key, the C2SP
// signed checkpoint, each entry's LedgerEntry, event and inclusion proof) and must never crash,
// hang or trip a sanitizer, whatever the bytes. The input is the verifier key line, '\n', then
// the bundle; seeds: tests/fuzz_corpus/api_evidence_bundle_fuzz/ (a bundle of two entries by
// `tracectl evidence`, and its key). A bundle that verifies must verify again byte for byte.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/evidence/evidence_bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t end_of_key = input.find('\n');
  if (end_of_key == std::string_view::npos) return 0;
  const std::string_view vkey = input.substr(0, end_of_key);
  const std::string_view bundle = input.substr(end_of_key + 1);
  const traceledger::api::BundleVerdict verdict =
      traceledger::api::VerifyEvidenceBundle(bundle, vkey);
  if (verdict.ok) {
    // Deterministic: the same bytes give the same verdict.
    if (!traceledger::api::VerifyEvidenceBundle(bundle, vkey).ok) __builtin_trap();
  }
  return 0;
}
