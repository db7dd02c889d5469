// File: api/server/embedded.cc
#include "api/server/embedded.h"

#include <sys/stat.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "ingest/event_decoder.h"
#include "ingest/logging.h"
#include "ledger/data_dir.h"
#include "projections/all_views.h"

namespace traceledger::api {
namespace {

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

Result<std::unique_ptr<EmbeddedServer>> EmbeddedServer::Open(EmbeddedOptions options) {
  std::unique_ptr<EmbeddedServer> s(new EmbeddedServer());
  const std::string& dir = options.data_dir;
  if (dir.empty()) return Status::InvalidArgument("serve: --data DIR is required");
  // One capture must fit one ledger write batch, so that it is all or nothing.
  options.ledger.max_batch_records =
      std::max(options.ledger.max_batch_records, options.capture.max_events);
  if (!Exists(ledger::DatabasePath(dir))) {
    if (options.create_origin.empty()) {
      return Status::NotFound("serve: no ledger in " + dir +
                              " (create one with `tracectl keygen` or pass --origin)");
    }
    auto created = ledger::CreateDataDir(dir, options.create_origin, options.ledger);
    if (!created.ok()) return created.status();
    s->ledger_ = std::move(created).value();
  } else {
    auto opened = ledger::OpenDataDir(dir, ledger::Access::kReadWrite, options.ledger);
    if (!opened.ok()) return opened.status();
    s->ledger_ = std::move(opened).value();
  }
  projections::RunnerOptions runner_options;
  runner_options.decoder = ingest::DecodeStoredEventInto;
  auto runner = projections::ProjectionRunner::Open(dir + "/views", projections::AllViews(),
                                                    runner_options);
  if (!runner.ok()) return runner.status();
  s->runner_ = std::move(runner).value();
  s->source_ = projections::LedgerEntrySource(*s->ledger_);
  auto capture = CaptureService::Open(*s->ledger_, dir + "/api", options.capture);
  if (!capture.ok()) return capture.status();
  s->capture_ = std::move(capture).value();
  auto tokens = TokenStore::Open(dir);
  if (!tokens.ok()) return tokens.status();
  s->tokens_ = std::move(tokens).value();

  ApiServices services;
  services.ledger = s->ledger_.get();
  services.views = &s->runner_->store();
  EmbeddedServer* self = s.get();
  services.views_applied = [self] { return self->ViewsApplied(); };
  services.capture = s->capture_.get();
  services.tokens = s->tokens_.get();
  auto server = ApiServer::Create(std::move(services), options.server);
  if (!server.ok()) return server.status();
  s->server_ = std::move(server).value();
  auto port = s->server_->Bind();
  if (!port.ok()) return port.status();
  s->port_ = *port;
  if (!options.kafka_brokers.empty()) {
    options.kafka.brokers = options.kafka_brokers;
    auto ingester = ingest::KafkaIngester::Create(*s->ledger_, options.kafka);
    if (!ingester.ok()) return ingester.status();
    s->ingester_ = std::move(ingester).value();
    ingest::KafkaIngester* kafka = s->ingester_.get();
    Metrics& metrics = s->server_->metrics();
    metrics.AddCounter({"traceledger_kafka_events_appended_total",
                        "Events appended from the Kafka events topic (duplicates excluded).",
                        [kafka] { return static_cast<double>(kafka->Metrics().appended); }});
    metrics.AddCounter({"traceledger_kafka_rejected_total",
                        "Kafka messages refused (to the rejected topic).",
                        [kafka] { return static_cast<double>(kafka->Metrics().rejected); }});
    metrics.AddGauge({"traceledger_kafka_consumer_lag_messages",
                      "Messages behind the high watermarks of the assigned partitions (-1 unknown).",
                      [kafka] { return static_cast<double>(kafka->Metrics().consumer_lag); }});
  }
  s->options_ = std::move(options);
  return s;
}

EmbeddedServer::~EmbeddedServer() {
  Stop();
  if (ledger_) (void)ledger_->Close();
}

uint64_t EmbeddedServer::ViewsApplied() const {
  uint64_t applied = std::numeric_limits<uint64_t>::max();
  for (const std::string& name : runner_->names()) {
    applied = std::min(applied, runner_->NextSequence(name));
  }
  return applied == std::numeric_limits<uint64_t>::max() ? 0 : applied;
}

void EmbeddedServer::Stop() {
  stopping_.store(true);
  if (server_) server_->Stop();
}

Status EmbeddedServer::Run(const std::atomic<bool>* stop) {
  // The views follow the ledger on their own thread.
  Status views_status;
  std::thread views([this, &views_status] {
    views_status = runner_->Follow(*source_, stopping_);
    if (!views_status.ok()) {
      ingest::IngestLog().error("serve: views stopped: {}", views_status.ToString());
    }
  });
  Status kafka_status;
  std::thread kafka;
  if (ingester_) {
    kafka = std::thread([this, &kafka_status] { kafka_status = ingester_->Run(stopping_); });
  }
  // A watcher turns the caller's stop flag into Stop().
  std::thread watcher([this, stop] {
    while (!stopping_.load()) {
      if (stop != nullptr && stop->load()) {
        Stop();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  Status served = server_->Serve();
  Stop();
  watcher.join();
  if (kafka.joinable()) kafka.join();
  views.join();
  Status closed = ledger_->Close();
  if (!served.ok()) return served;
  if (!kafka_status.ok()) return kafka_status;
  if (!views_status.ok()) return views_status;
  return closed;
}

}  // namespace traceledger::api
