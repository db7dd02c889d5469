// File: api/server/embedded.h
//
// The embedded default (`traceledger serve --data DIR`): one process runs capture -> ledger ->
// projections -> HTTP API, with no Kafka; with Kafka brokers it also ingests from the events
// topic (beside HTTP capture). Layout of DIR: docs/formats/storage.md
//   DIR/db, DIR/checkpoint.{key,vkey}   the ledger (created on first start with `origin`)
//   DIR/views                           the views (ProjectionRunner over every view)
//   DIR/api                             capture jobs
//   DIR/tokens                          bearer tokens (tracectl token issue)
//
// Thread-safety: Run() on one thread; Stop() from any thread (or a signal flag).
#ifndef TRACELEDGER_API_SERVER_EMBEDDED_H_
#define TRACELEDGER_API_SERVER_EMBEDDED_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "api/auth/token_store.h"
#include "api/server/capture.h"
#include "api/server/server.h"
#include "ingest/kafka_ingester.h"
#include "ledger/ledger.h"
#include "projections/runner.h"

namespace traceledger::api {

struct EmbeddedOptions {
  std::string data_dir;
  // Creates the ledger on first start with this checkpoint origin (e.g.
  // "ledger.example.gov/traceledger"); empty: DIR must already hold a ledger.
  std::string create_origin;
  ServerOptions server;
  CaptureOptions capture;
  ledger::LedgerOptions ledger;
  // Kafka: ingest from the events topic too. Empty brokers: no Kafka.
  std::string kafka_brokers;
  ingest::IngestOptions kafka;
};

class EmbeddedServer {
 public:
  // Opens (or creates) everything and binds the listener; nothing is served until Run().
  static Result<std::unique_ptr<EmbeddedServer>> Open(EmbeddedOptions options);
  ~EmbeddedServer();

  int port() const { return port_; }
  ledger::Ledger& ledger() { return *ledger_; }
  ApiServer& server() { return *server_; }
  uint64_t ViewsApplied() const;
  const projections::ViewStore& views() const { return runner_->store(); }

  // Serves, follows the ledger with the views and (with brokers) ingests from Kafka, until
  // Stop() or `stop` becomes true. Then drains: stops the listener, the ingester and the
  // views, and closes the ledger (final checkpoint).
  Status Run(const std::atomic<bool>* stop = nullptr);
  void Stop();

 private:
  EmbeddedServer() = default;

  EmbeddedOptions options_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<projections::ProjectionRunner> runner_;
  std::unique_ptr<projections::EntrySource> source_;
  std::unique_ptr<CaptureService> capture_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<ingest::KafkaIngester> ingester_;
  std::atomic<bool> stopping_{false};
  int port_ = 0;
};

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_SERVER_EMBEDDED_H_
