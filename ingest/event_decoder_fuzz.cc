// libFuzzer target for every decoder of outside bytes in ingest/ (STYLE.md section 8): native
// JSON, protobuf binary and EPCIS JSON, each followed by validation, must never crash, hang or
// trip a sanitizer, whatever the input. Corpus: tests/fuzz_corpus/ingest_event_decoder_fuzz/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/event_validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the encoding, the rest is the payload.
  constexpr traceledger::v1::EventEncoding kEncodings[] = {
      traceledger::v1::EVENT_ENCODING_JSON, traceledger::v1::EVENT_ENCODING_PROTOBUF,
      traceledger::v1::EVENT_ENCODING_EPCIS_JSON};
  const traceledger::v1::EventEncoding encoding = kEncodings[data[0] % 3];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  traceledger::ingest::ValidationContext ctx;
  ctx.now_unix_micros = 1795651200LL * 1000000;  // fixed clock: runs must be reproducible
  const auto result = traceledger::ingest::DecodeAndValidateAs(bytes, encoding,
                                                               "9521234000006", ctx);
  if (const auto* event = std::get_if<traceledger::v1::Event>(&result)) {
    (void)traceledger::ingest::ObjectIdsOf(*event);
  }
  return 0;
}
