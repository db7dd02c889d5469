#include "ingest/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace traceledger::ingest {

spdlog::logger& IngestLog() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    std::shared_ptr<spdlog::logger> existing = spdlog::get("ingest");
    return existing != nullptr ? existing : spdlog::stderr_color_mt("ingest");
  }();
  return *logger;
}

}  // namespace traceledger::ingest
