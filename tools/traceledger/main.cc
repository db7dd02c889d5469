// traceledger: the long-running services. `traceledger ingest` consumes events from Kafka into
// the ledger (exactly once) and publishes the ledger and its rejections to their topics.
// `traceledger help` lists the commands; logs go to stderr. Exit codes: 0 clean stop (SIGTERM
// or SIGINT), 2 usage error, 3 operating failure.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "api/server/embedded.h"
#include "ingest/event_decoder.h"
#include "ingest/kafka_ingester.h"
#include "ingest/logging.h"
#include "ledger/data_dir.h"
#include "projections/all_views.h"
#include "projections/runner.h"
#include "tools/flags.h"

namespace traceledger::tools {
namespace {

constexpr int kExitFailure = 3;

std::atomic<bool> stop_requested{false};

void OnSignal(int) { stop_requested.store(true); }

void InstallSignalHandlers() {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

int Fail(const Status& status) {
  std::fprintf(stderr, "traceledger: %s\n", status.ToString().c_str());
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

// "key=value;key=value" into librdkafka settings.
Result<ingest::KafkaConfig> ParseKafkaConfig(const std::string& flag, const std::string& text) {
  ingest::KafkaConfig config;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--" + flag + ": \"" + item + "\" is not key=value");
    }
    config.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    start = end + 1;
  }
  return config;
}

int Ingest(const Flags& flags) {
  auto dir = flags.Require("data");
  if (!dir.ok()) return Fail(dir.status());
  ingest::IngestOptions options;
  auto brokers = flags.Require("brokers");
  if (!brokers.ok()) return Fail(brokers.status());
  options.brokers = *brokers;
  options.topic = flags.Get("topic").value_or(options.topic);
  options.group_id = flags.Get("group").value_or(options.group_id);
  options.rejected_topic = flags.Get("rejected-topic").value_or(options.rejected_topic);
  options.ledger_topic = flags.Get("ledger-topic").value_or(options.ledger_topic);
  if (flags.Has("no-publish")) options.publish = ingest::Publishing::kOff;
  auto batch = flags.GetUint("batch");
  auto wait = flags.GetUint("batch-wait-ms");
  auto report = flags.GetUint("report-interval-ms");
  for (const auto* r : {&batch, &wait, &report}) {
    if (!r->ok()) return Fail(r->status());
  }
  options.max_batch_messages = batch->value_or(options.max_batch_messages);
  options.max_batch_wait = std::chrono::milliseconds(wait->value_or(options.max_batch_wait.count()));
  options.report_interval =
      std::chrono::milliseconds(report->value_or(options.report_interval.count()));
  for (const auto& [flag, target] :
       std::vector<std::pair<std::string, ingest::KafkaConfig*>>{
           {"consumer-config", &options.consumer_config},
           {"producer-config", &options.producer_config}}) {
    if (auto text = flags.Get(flag)) {
      auto parsed = ParseKafkaConfig(flag, *text);
      if (!parsed.ok()) return Fail(parsed.status());
      *target = std::move(parsed).value();
    }
  }
  if (auto instance = flags.Get("instance-id")) {
    options.consumer_config.emplace_back("group.instance.id", *instance);
  }
  std::shared_ptr<std::unordered_set<std::string>> known;
  if (auto path = flags.Get("known-submitters")) {
    std::ifstream in(*path);
    if (!in) return Fail(Status::NotFound("cannot read --known-submitters " + *path));
    known = std::make_shared<std::unordered_set<std::string>>();
    for (std::string line; std::getline(in, line);) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty() && line[0] != '#') known->insert(line);
    }
    options.is_known_submitter = [known](std::string_view id) {
      return known->count(std::string(id)) > 0;
    };
  }

  auto ledger = ledger::OpenDataDir(*dir, ledger::Access::kReadWrite, {});
  if (!ledger.ok()) return Fail(ledger.status());
  InstallSignalHandlers();
  auto ingester = ingest::KafkaIngester::Create(**ledger, options);
  if (!ingester.ok()) return Fail(ingester.status());
  Status run = (*ingester)->Run(stop_requested);
  Status closed = (*ledger)->Close();
  if (!run.ok()) return Fail(run);
  if (!closed.ok()) return Fail(closed);
  return kExitOk;
}

// One line of `traceledger project`'s log: what it is doing, the head, and the entries the
// slowest view is behind it.
void LogLag(const char* what, uint64_t head, uint64_t lag) {
  std::fprintf(stderr, "traceledger: project %s head=%llu lag=%llu\n", what,
               static_cast<unsigned long long>(head), static_cast<unsigned long long>(lag));
}

int Project(const Flags& flags) {
  auto dir = flags.Require("data");
  if (!dir.ok()) return Fail(dir.status());
  const std::string views_dir = flags.Get("views").value_or(*dir + "/views");
  const std::string follower_dir = flags.Get("follower-dir").value_or(*dir + "/follower");
  auto report = flags.GetUint("report-interval-ms");
  auto batch_entries = flags.GetUint("batch-entries");
  auto table_file_min_rows = flags.GetUint("table-file-min-rows");
  auto settle_after_entries = flags.GetUint("settle-after-entries");
  for (const auto* value :
       {&report, &batch_entries, &table_file_min_rows, &settle_after_entries}) {
    if (!value->ok()) return Fail(value->status());
  }
  projections::RunnerOptions options;
  // ingest's decoder reads every encoding the ledger stores, EPCIS 2.0 JSON included.
  options.decoder = ingest::DecodeStoredEventInto;
  options.batch_entries = batch_entries->value_or(options.batch_entries);
  if (options.batch_entries == 0) {
    return Fail(Status::InvalidArgument("--batch-entries must be at least 1"));
  }
  options.table_file_min_rows = table_file_min_rows->value_or(options.table_file_min_rows);
  options.settle_after_entries = settle_after_entries->value_or(options.settle_after_entries);
  // A long catch-up (a first start, a rebuild) reports how far it is, every report interval.
  const auto interval = std::chrono::milliseconds(report->value_or(5000));
  auto last_report = std::chrono::steady_clock::now();
  options.progress = [&](uint64_t applied_through, uint64_t head) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_report < interval || applied_through >= head) return;
    LogLag("catching-up", head, head - applied_through);
    last_report = now;
  };
  auto ledger = ledger::Ledger::OpenFollower(ledger::DatabasePath(*dir), follower_dir, {});
  if (!ledger.ok()) return Fail(ledger.status());
  auto runner = projections::ProjectionRunner::Open(views_dir, projections::AllViews(), options);
  if (!runner.ok()) return Fail(runner.status());
  if (auto name = flags.Get("rebuild")) {
    if (Status s = (*runner)->Rebuild(*name); !s.ok()) {
      if (s.code() != StatusCode::kNotFound) return Fail(s);
      // A name that is not a view is a usage error: say which names are.
      std::string known;
      for (const std::string& view : (*runner)->names()) known.append(known.empty() ? "" : ", ").append(view);
      return Fail(Status::InvalidArgument("--rebuild: " + s.message() + "; views: " + known));
    }
    std::fprintf(stderr, "traceledger: rebuilding %s (and the views it depends on) from 0\n",
                 name->c_str());
  }
  auto source = projections::LedgerEntrySource(**ledger);
  InstallSignalHandlers();
  auto log_progress = [&](const char* what) {
    const uint64_t head = source->size();
    LogLag(what, head, (*runner)->Lag(head));
  };
  if (flags.Has("once")) {
    auto applied = (*runner)->CatchUp(*source, &stop_requested);
    if (!applied.ok()) return Fail(applied.status());
    log_progress("caught-up");
    // After a long catch-up the views are being compacted (RunnerOptions::settle_after_entries):
    // waited for, so that what reads them next finds them settled; SIGTERM/SIGINT stops it
    // (the views are whole either way).
    if ((*runner)->settle_started()) {
      std::fprintf(stderr, "traceledger: project compacting the views after the catch-up\n");
      bool settled = false;
      while (!settled && !stop_requested.load()) {
        settled = (*runner)->SettledWithin(std::chrono::milliseconds(200));
      }
      if (settled) {
        if (Status s = (*runner)->WaitUntilSettled(); !s.ok()) return Fail(s);
        std::fprintf(stderr, "traceledger: project views compacted\n");
      }
    }
    return kExitOk;
  }
  // Follow: catch up, report lag now and then, until SIGTERM/SIGINT.
  while (!stop_requested.load()) {
    auto applied = (*runner)->CatchUp(*source, &stop_requested);
    if (!applied.ok()) return Fail(applied.status());
    if (std::chrono::steady_clock::now() - last_report >= interval) {
      log_progress("following");
      last_report = std::chrono::steady_clock::now();
    }
    uint64_t applied_to = UINT64_MAX;
    for (const std::string& name : (*runner)->names()) {
      applied_to = std::min(applied_to, (*runner)->NextSequence(name));
    }
    source->WaitForMore(applied_to, std::chrono::milliseconds(200));
  }
  log_progress("stopped");
  return kExitOk;
}

int Serve(const Flags& flags) {
  api::EmbeddedOptions options;
  auto dir = flags.Require("data");
  if (!dir.ok()) return Fail(dir.status());
  options.data_dir = *dir;
  options.create_origin = flags.Get("origin").value_or("");
  if (auto listen = flags.Get("listen")) {
    const size_t colon = listen->rfind(':');
    if (colon == std::string::npos || colon + 1 == listen->size()) {
      return Fail(Status::InvalidArgument("--listen: \"" + *listen + "\": want HOST:PORT"));
    }
    options.server.host = listen->substr(0, colon);
    const std::string port = listen->substr(colon + 1);
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) > 65535) {
      return Fail(Status::InvalidArgument("--listen: port \"" + port + "\": want 0..65535"));
    }
    options.server.port = std::stoi(port);
  }
  struct SizeFlag {
    const char* name;
    size_t* target;
  };
  for (const SizeFlag& f : {SizeFlag{"threads", &options.server.worker_threads},
                            SizeFlag{"max-queued-connections", &options.server.max_queued_connections},
                            SizeFlag{"max-body-bytes", &options.server.max_body_bytes},
                            SizeFlag{"max-capture-events", &options.capture.max_events}}) {
    auto v = flags.GetUint(f.name);
    if (!v.ok()) return Fail(v.status());
    if (v->has_value()) {
      if (**v == 0) return Fail(Status::InvalidArgument(std::string("--") + f.name + " must be at least 1"));
      *f.target = static_cast<size_t>(**v);
    }
  }
  options.server.tls_cert_file = flags.Get("tls-cert").value_or("");
  options.server.tls_key_file = flags.Get("tls-key").value_or("");
  options.server.tls_client_ca_file = flags.Get("tls-client-ca").value_or("");
  if (auto brokers = flags.Get("kafka")) {
    options.kafka_brokers = *brokers;
    options.kafka.topic = flags.Get("topic").value_or(options.kafka.topic);
    options.kafka.group_id = flags.Get("group").value_or(options.kafka.group_id);
    // As for `traceledger ingest`: two deployments (or tests) sharing a cluster must not
    // publish into each other's ledger and rejected topics.
    options.kafka.rejected_topic =
        flags.Get("rejected-topic").value_or(options.kafka.rejected_topic);
    options.kafka.ledger_topic = flags.Get("ledger-topic").value_or(options.kafka.ledger_topic);
  }
  const std::string host = options.server.host;
  auto server = api::EmbeddedServer::Open(std::move(options));
  if (!server.ok()) return Fail(server.status());
  InstallSignalHandlers();
  std::fprintf(stderr, "traceledger: serving %s on %s:%d (%s), ledger size %llu\n", dir->c_str(),
               host.c_str(), (*server)->port(), flags.Has("kafka") ? "HTTP + Kafka" : "HTTP",
               static_cast<unsigned long long>((*server)->ledger().size()));
  if (auto port_file = flags.Get("port-file")) {
    // Written after the listener is bound, so a script may wait for this file.
    std::ofstream out(*port_file + ".tmp");
    out << (*server)->port() << "\n";
    out.close();
    if (!out || std::rename((*port_file + ".tmp").c_str(), port_file->c_str()) != 0) {
      return Fail(Status::Unavailable("cannot write --port-file " + *port_file));
    }
  }
  Status run = (*server)->Run(&stop_requested);
  if (!run.ok()) return Fail(run);
  std::fprintf(stderr, "traceledger: stopped cleanly\n");
  return kExitOk;
}

const std::map<std::string, Command>& Commands() {
  static const auto* commands = new std::map<std::string, Command>{
      {"ingest",
       {"consume events from Kafka into the ledger, exactly once",
        "traceledger ingest --data DIR --brokers HOST:PORT [--topic traceledger.events]\n"
        "    [--group traceledger-ingest] [--instance-id ID] [--rejected-topic traceledger.rejected]\n"
        "    [--ledger-topic traceledger.ledger] [--no-publish] [--known-submitters FILE]\n"
        "    [--batch 1000] [--batch-wait-ms 20] [--report-interval-ms 5000]\n"
        "    [--consumer-config 'k=v;k=v'] [--producer-config 'k=v;k=v']\n"
        "  Messages are traceledger.v1.Event in protobuf binary. Valid events are appended with\n"
        "  the partition offsets in the same durable write; invalid ones (and reused event ids\n"
        "  with other content) go to the rejected topic with headers traceledger-rule/-field/\n"
        "  -reason/-source-*. Committed entries are published to the ledger topic (key = the\n"
        "  event's primary object id, headers traceledger-seq and -leaf-hash). --instance-id\n"
        "  sets static group membership, so a restarted worker resumes without a rebalance wait.\n"
        "  --known-submitters: one party id per line; others are rejected (unknown_submitter).\n"
        "  Stops cleanly on SIGTERM/SIGINT: the current batch is made durable first.",
        {"data", "brokers", "topic", "group", "instance-id", "rejected-topic", "ledger-topic",
         "known-submitters", "batch", "batch-wait-ms", "report-interval-ms", "consumer-config",
         "producer-config"},
        {"no-publish"},
        Ingest}},
      {"serve",
       {"the HTTP API with the ledger and the views in one process (the embedded default)",
        "traceledger serve --data DIR [--origin NAME] [--listen 127.0.0.1:8080] [--threads 8]\n"
        "    [--max-queued-connections 256] [--max-body-bytes 33554432] [--max-capture-events 1000]\n"
        "    [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]] [--kafka HOST:PORT\n"
        "    [--topic traceledger.events] [--group traceledger-ingest]\n"
        "    [--rejected-topic traceledger.rejected] [--ledger-topic traceledger.ledger]]\n"
        "    [--port-file FILE]\n"
        "  Runs capture -> ledger -> views -> HTTP API in one process: POST /capture (EPCIS 2.0\n"
        "  documents or native batches), GET /events, /trace/{id}, /recalls, /alerts,\n"
        "  /enterprises/{id}/timeline, /cylinders/{id}/fill-permit, /ledger/..., POST /evidence,\n"
        "  /healthz, /metrics (docs/formats/http-api.md). Principals use bearer tokens from\n"
        "  `tracectl token issue`; without one a caller may read only the checkpoint and key.\n"
        "  --origin creates the ledger on first start (else DIR must hold one: tracectl keygen).\n"
        "  --listen port 0 picks a free port; --port-file receives the port once listening.\n"
        "  --kafka also ingests from the events topic, exactly once, beside HTTP capture.\n"
        "  Stops cleanly on SIGTERM/SIGINT (in-flight requests finish; final checkpoint).",
        {"data", "origin", "listen", "threads", "max-queued-connections", "max-body-bytes",
         "max-capture-events", "tls-cert", "tls-key", "tls-client-ca", "kafka", "topic", "group",
         "rejected-topic", "ledger-topic", "port-file"},
        {},
        Serve}},
      {"project",
       {"build the views (trace, holdings, recalls, alerts, ...) from the ledger",
        "traceledger project --data DIR [--views DIR/views] [--follower-dir DIR/follower]\n"
        "    [--rebuild NAME] [--once] [--report-interval-ms 5000] [--batch-entries 200000]\n"
        "    [--table-file-min-rows 20000] [--settle-after-entries 100000]\n"
        "  Follows the ledger in DIR (written by another process: it reads the ledger's RocksDB\n"
        "  as a secondary instance) and applies every entry, in order, to every view: history,\n"
        "  genealogy (with the holdings), recalls, serials, cylinders, enforcement. Each view's\n"
        "  cursor is stored with its rows, so it resumes where it stopped. --rebuild NAME empties\n"
        "  that view (and the views it depends on) and rebuilds it from the first entry. --once\n"
        "  catches up and exits (after a catch-up of --settle-after-entries or more, once the\n"
        "  views it wrote are compacted for reading; a follower compacts them in the background;\n"
        "  0: never). Logs the lag (entries behind the head), also during a long catch-up,\n"
        "  every --report-interval-ms. Stops cleanly on SIGTERM/SIGINT.\n"
        "  --batch-entries: entries applied in memory before the views are written (memory:\n"
        "  about 9 KB each; memory freed during a catch-up is kept for its next batches and\n"
        "  given back when it ends). --table-file-min-rows: writes of at least this many rows\n"
        "  go in as SST files (catch-up, rebuild), smaller ones as write batches; 0: always\n"
        "  files.",
        {"data", "views", "follower-dir", "rebuild", "report-interval-ms", "batch-entries",
         "table-file-min-rows", "settle-after-entries"},
        {"once"},
        Project}},
  };
  return *commands;
}

}  // namespace
}  // namespace traceledger::tools

int main(int argc, char** argv) {
  return traceledger::tools::RunCommand("traceledger", "the ledger's services.",
                                        traceledger::tools::Commands(), argc, argv);
}
