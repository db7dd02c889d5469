// File: ingest/logging.h
//
// The ingest folder's spdlog logger ("ingest"). Messages are decisions as key=value, never
// payloads or secrets (STYLE.md section 11).
#ifndef TRACELEDGER_INGEST_LOGGING_H_
#define TRACELEDGER_INGEST_LOGGING_H_

#include <spdlog/spdlog.h>

#include <memory>

namespace traceledger::ingest {

spdlog::logger& IngestLog();

}  // namespace traceledger::ingest

#endif  // TRACELEDGER_INGEST_LOGGING_H_
