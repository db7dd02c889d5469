// http_bench: how fast the embedded server captures EPCIS documents over HTTP on loopback, and
// how long reads take meanwhile, next to the in-process ledger append rate of the same events
// measured in the same run (figures in docs/BENCHMARKS.md, "HTTP API").
//
//   http_bench [--events 200000] [--clients 4] [--batch 100] [--readers 2] [--data DIR]
//              [--sample-events FILE] [--seed 1] [--keep]
//
// Phases, each printed with its figures:
//  1. reference (before): the same event bytes, appended in-process through
//     ledger::Ledger::Append into a fresh ledger, in calls of --batch events from --clients
//     threads, every call durable before it returns;
//  2. the embedded server (capture -> ledger -> views -> HTTP, api::EmbeddedServer) on
//     127.0.0.1 at a free port over a fresh data dir. The demo story (--sample-events) is
//     captured first, each event as its own submitter, so the reads have lots to trace and
//     cylinders to ask about. Then --clients threads, one keep-alive connection each, POST
//     /capture EPCIS 2.0 documents of --batch ObjectEvents (built before the clock starts) as one
//     enterprise, while --readers threads loop over GET /trace/{lot}, GET
//     /ledger/proof/inclusion?seq= (a random acknowledged entry) and GET
//     /cylinders/{id}/fill-permit?station= with a regulator token, timing each request;
//  3. reference (after), on another fresh ledger, to show the machine's drift over the run.
// Every answer must be 2xx (a capture: 202 with "success": true), and the ledger must end with
// exactly the events sent; otherwise the bench stops with exit code 1 and says why.
// Results go to stdout as Markdown; progress to stderr.
#include <sys/resource.h>
#include <unistd.h>

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/auth/token_store.h"
#include "api/server/embedded.h"
#include "ledger/data_dir.h"
#include "ledger/ledger.h"
#include "ledger/testing/machine.h"
#include "tools/flags.h"

namespace traceledger::tools {
namespace {

using Clock = std::chrono::steady_clock;

// The enterprise every benchmark document is captured as (a GLN with its check digit), and the
// identifiers its events name (GS1 demonstration company prefix 9521101).
constexpr char kParty[] = "9521101000009";
constexpr char kRegulator[] = "regulator:BENCH";
// Objects of the demo story (tools/demo/sample_events.jsonl) the readers ask about; the bench
// checks that each answers 200 before the load starts.
constexpr const char* kTraceLots[] = {"urn:epc:class:lgtin:9521002.010001.L261110",
                                      "urn:epc:class:lgtin:9521001.000010.WMP261102"};
constexpr const char* kCylinders[] = {"urn:epc:id:grai:9521009.00001.1001", "SH-LPG-2019-004512"};
constexpr char kStation[] = "91310112MA1E00009N";
// Bounds on the waits of the setup.
constexpr auto kMaxViewsWait = std::chrono::seconds(120);
constexpr time_t kEventTimeSpreadSeconds = 20 * 24 * 3600;  // event times: 30 to 10 days ago

constexpr char kUsage[] =
    "usage: http_bench [--events 200000] [--clients 4] [--batch 100] [--readers 2] [--data DIR]\n"
    "                  [--sample-events FILE] [--seed 1] [--keep]\n"
    "\n"
    "HTTP capture throughput (POST /capture of EPCIS 2.0 documents from --clients keep-alive\n"
    "connections) of the embedded server on loopback, with the latency of GET /trace, GET\n"
    "/ledger/proof/inclusion and GET /cylinders/{id}/fill-permit from --readers threads under\n"
    "that load, next to the in-process Ledger::Append rate of the same events (before and\n"
    "after, same run). --data: where the ledgers go (subdirectories are created and removed\n"
    "unless --keep); default a new temporary directory. Any non-2xx answer fails the run.\n";

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "http_bench: %s\n", what.c_str());
  std::exit(1);
}

[[noreturn]] void Die(const std::string& what, const Status& status) {
  Die(what + ": " + status.ToString());
}

// User + system CPU seconds of the whole process (server, clients and ledger threads).
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index =
      std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())));
  return values[index];
}

struct Config {
  uint64_t events = 200'000;
  size_t clients = 4;
  size_t batch = 100;
  size_t readers = 2;
  std::string data;  // empty: a temporary directory
  std::string sample_events = std::string(TL_SOURCE_DIR) + "/tools/demo/sample_events.jsonl";
  uint64_t seed = 1;
  bool keep = false;
};

struct BenchEvent {
  std::string id;
  std::string text;  // the EPCIS 2.0 JSON-LD event object, exactly as sent and stored
};

// A random (version 4) UUID URN, as submitters name their events.
std::string UuidUrn(std::mt19937_64& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(32, '0');
  for (size_t half = 0; half < 2; ++half) {
    uint64_t bits = rng();
    for (size_t i = 0; i < 16; ++i, bits >>= 4) hex[half * 16 + i] = kHex[bits & 0xf];
  }
  hex[12] = '4';                                                  // version 4
  hex[16] = kHex[8 + (static_cast<unsigned char>(hex[16]) & 3)];  // variant 10xx
  return "urn:uuid:" + hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string UtcText(time_t unix_seconds) {
  tm parts{};
  gmtime_r(&unix_seconds, &parts);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

// `count` commissioning ObjectEvents, one serialized GTIN instance each, with distinct random
// event ids and event times in the past.
std::vector<BenchEvent> MakeEvents(uint64_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const time_t newest = std::time(nullptr) - 10 * 24 * 3600;
  std::vector<BenchEvent> events;
  events.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    BenchEvent& event = events.emplace_back();
    event.id = UuidUrn(rng);
    const time_t when = newest - kEventTimeSpreadSeconds +
                        static_cast<time_t>(i % static_cast<uint64_t>(kEventTimeSpreadSeconds));
    event.text = "{\"type\":\"ObjectEvent\",\"eventID\":\"" + event.id + "\",\"eventTime\":\"" +
                 UtcText(when) +
                 "\",\"eventTimeZoneOffset\":\"+08:00\",\"epcList\":[\"urn:epc:id:sgtin:9521101."
                 "012345." +
                 std::to_string(100'000'000 + i) +
                 "\"],\"action\":\"ADD\",\"bizStep\":\"commissioning\",\"disposition\":"
                 "\"active\",\"readPoint\":{\"id\":\"urn:epc:id:sgln:9521101.00000.1\"},"
                 "\"bizLocation\":{\"id\":\"urn:epc:id:sgln:9521101.00000.0\"}}";
  }
  return events;
}

// The EPCIS 2.0 documents carrying `events`, `batch` events each.
std::vector<std::string> MakeDocuments(const std::vector<BenchEvent>& events, size_t batch) {
  const std::string head =
      "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],"
      "\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"" +
      UtcText(std::time(nullptr) - 3600) + "\",\"epcisBody\":{\"eventList\":[";
  std::vector<std::string> documents;
  for (size_t start = 0; start < events.size(); start += batch) {
    std::string& doc = documents.emplace_back(head);
    const size_t end = std::min(events.size(), start + batch);
    for (size_t i = start; i < end; ++i) {
      if (i > start) doc += ',';
      doc += events[i].text;
    }
    doc += "]}}";
  }
  return documents;
}

struct PhaseResult {
  uint64_t events = 0;
  double seconds = 0;
  double cpu_seconds = 0;
  double rate() const { return static_cast<double>(events) / seconds; }
  double cpu_micros_per_event() const { return cpu_seconds * 1e6 / static_cast<double>(events); }
};

// Phase 1 and 3: appends `events` to a new ledger in `dir` through Ledger::Append, `batch`
// events per call from `threads` threads; the requests carry what the HTTP capture's carry.
PhaseResult ReferenceAppend(const std::string& dir, const std::vector<BenchEvent>& events,
                            size_t batch, size_t threads) {
  auto ledger = ledger::CreateDataDir(dir, "bench.traceledger/reference", {});
  if (!ledger.ok()) Die("creating the reference ledger in " + dir, ledger.status());
  std::vector<ledger::AppendCall> calls;
  for (size_t start = 0; start < events.size(); start += batch) {
    ledger::AppendCall& call = calls.emplace_back();
    char capture_id[32];
    std::snprintf(capture_id, sizeof(capture_id), "cap-%016zx", calls.size());
    const size_t end = std::min(events.size(), start + batch);
    for (size_t i = start; i < end; ++i) {
      ledger::AppendRequest& request = call.requests.emplace_back();
      request.event_id = events[i].id;
      request.submitter_id = kParty;
      request.encoding = v1::EVENT_ENCODING_EPCIS_JSON;
      request.event = events[i].text;
      request.source.mutable_http()->set_capture_id(capture_id);
      request.source.mutable_http()->set_index(static_cast<uint32_t>(i - start));
    }
  }
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  std::optional<std::string> error;  // guarded by error_mutex
  const double cpu_start = ProcessCpuSeconds();
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t k = next.fetch_add(1); k < calls.size(); k = next.fetch_add(1)) {
        auto results = (*ledger)->Append(std::move(calls[k]));
        std::string problem;
        if (!results.ok()) {
          problem = "reference append: " + results.status().ToString();
        } else {
          for (const ledger::AppendResult& r : *results) {
            if (r.outcome != ledger::AppendOutcome::kAppended) {
              problem = "reference append: event " + r.receipt.event_id + " was " +
                        std::string(ledger::AppendOutcomeName(r.outcome)) + ", want appended";
              break;
            }
          }
        }
        if (!problem.empty()) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (!error) error = problem;
          return;
        }
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  PhaseResult result;
  result.seconds = Since(start);
  result.cpu_seconds = ProcessCpuSeconds() - cpu_start;
  result.events = events.size();
  if (error) Die(*error);
  if ((*ledger)->size() != events.size()) {
    Die("reference ledger has " + std::to_string((*ledger)->size()) + " entries, want " +
        std::to_string(events.size()));
  }
  if (Status s = (*ledger)->Close(); !s.ok()) Die("closing the reference ledger", s);
  ledger->reset();
  return result;
}

// The first failure of any thread; once set, every thread stops.
class Failure {
 public:
  void Set(std::string what) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!what_) what_ = std::move(what);
    failed_.store(true);
  }
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  std::string what() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return what_.value_or("");
  }

 private:
  std::atomic<bool> failed_{false};
  mutable std::mutex mutex_;
  std::optional<std::string> what_;  // guarded by mutex_
};

// Checks one answer: a transport error or a status outside 2xx is a failure naming the request.
bool Answered(const httplib::Result& r, const std::string& request, Failure& failure,
              int want_status = 0) {
  if (!r) {
    failure.Set(request + ": " + httplib::to_string(r.error()));
    return false;
  }
  const bool ok = want_status != 0 ? r->status == want_status : r->status / 100 == 2;
  if (!ok) {
    failure.Set(request + ": HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 600));
    return false;
  }
  return true;
}

// True if a capture job's JSON says "success": true (without parsing 100 receipts).
bool JobSucceeded(std::string_view body) {
  const size_t key = body.find("\"success\":");
  if (key == std::string_view::npos) return false;
  size_t pos = key + 10;
  while (pos < body.size() && body[pos] == ' ') ++pos;
  return body.substr(pos, 4) == "true";
}

std::unique_ptr<httplib::Client> NewClient(int port) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", port);
  client->set_keep_alive(true);
  // The client writes headers and body separately; without TCP_NODELAY the body would wait for
  // the server's (delayed) ACK of the headers.
  client->set_tcp_nodelay(true);
  client->set_connection_timeout(10, 0);
  client->set_read_timeout(120, 0);
  client->set_write_timeout(120, 0);
  return client;
}

httplib::Headers Bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

struct RouteLatencies {
  std::vector<double> capture_ms;
  std::vector<double> trace_ms;
  std::vector<double> proof_ms;
  std::vector<double> permit_ms;
};

struct HttpResult {
  PhaseResult capture;
  RouteLatencies latencies;
  uint64_t sample_events = 0;
  uint64_t ledger_size = 0;
  uint64_t views_applied_at_end = 0;
};

// Phase 2.
HttpResult HttpCapture(const Config& config, const std::string& data_dir,
                       const std::vector<std::string>& documents) {
  api::EmbeddedOptions options;
  options.data_dir = data_dir;
  options.create_origin = "bench.traceledger/http";
  options.server.port = 0;
  // httplib keeps a worker per open keep-alive connection.
  options.server.worker_threads =
      std::max(options.server.worker_threads, config.clients + config.readers + 2);
  auto opened = api::EmbeddedServer::Open(std::move(options));
  if (!opened.ok()) Die("starting the embedded server", opened.status());
  std::unique_ptr<api::EmbeddedServer> server = std::move(opened).value();
  Status run_status;
  std::thread serve([&] { run_status = server->Run(); });
  const int port = server->port();
  std::fprintf(stderr, "  server on 127.0.0.1:%d, data %s\n", port, data_dir.c_str());

  auto tokens = api::TokenStore::Open(data_dir);
  if (!tokens.ok()) Die("opening the token store", tokens.status());
  std::map<std::string, std::string> issued;  // party -> token text
  auto token = [&](api::Role role, const std::string& party) {
    auto it = issued.find(party);
    if (it != issued.end()) return it->second;
    auto made = (*tokens)->Issue(role, party, "http_bench", std::nullopt);
    if (!made.ok()) Die("issuing a token for " + party, made.status());
    return issued[party] = made->token_text;
  };
  const std::string regulator = token(api::Role::kRegulator, kRegulator);
  const std::string enterprise = token(api::Role::kEnterprise, kParty);

  Failure failure;
  auto die_if_failed = [&] {
    if (!failure.failed()) return;
    server->Stop();
    serve.join();
    Die(failure.what());
  };

  // The demo story, each event as its submitter (as the server tests capture it).
  HttpResult result;
  {
    std::ifstream in(config.sample_events);
    if (!in) Die("cannot read " + config.sample_events + " (--sample-events)");
    auto client = NewClient(port);
    for (std::string line; std::getline(in, line) && !failure.failed();) {
      if (line.empty() || line[0] != '{') continue;
      const nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
      if (!event.is_object() || !event.contains("submitterId") ||
          !event["submitterId"].is_string()) {
        Die(config.sample_events + ": a line is not a native event with a submitterId");
      }
      const std::string party = event["submitterId"].get<std::string>();
      const api::Role role =
          party.rfind("regulator:", 0) == 0 ? api::Role::kRegulator : api::Role::kEnterprise;
      auto r = client->Post("/capture", Bearer(token(role, party)), "{\"events\":[" + line + "]}",
                            "application/json");
      if (Answered(r, "capturing the demo story (" + party + ")", failure, 202)) {
        ++result.sample_events;
      }
    }
  }
  die_if_failed();
  const auto views_deadline = Clock::now() + kMaxViewsWait;
  while (server->ViewsApplied() < server->ledger().size()) {
    if (Clock::now() > views_deadline) Die("the views did not apply the demo story in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::fprintf(stderr, "  demo story captured: %llu events, views applied\n",
               static_cast<unsigned long long>(result.sample_events));

  // The read requests; each must answer 200 before the load starts.
  std::vector<std::string> trace_paths, permit_paths;
  for (const char* lot : kTraceLots) trace_paths.push_back(std::string("/trace/") + lot + "?direction=both");
  for (const char* cylinder : kCylinders) {
    permit_paths.push_back(std::string("/cylinders/") + cylinder + "/fill-permit?station=" + kStation);
  }
  {
    auto client = NewClient(port);
    for (const auto* paths : {&trace_paths, &permit_paths}) {
      for (const std::string& path : *paths) {
        Answered(client->Get(path.c_str(), Bearer(regulator)), "GET " + path, failure, 200);
      }
    }
    Answered(client->Get("/ledger/proof/inclusion?seq=0", Bearer(regulator)),
             "GET /ledger/proof/inclusion?seq=0", failure, 200);
  }
  die_if_failed();

  // Entries every acknowledged capture made durable: any seq below is provable.
  std::atomic<uint64_t> acknowledged{server->ledger().size()};
  std::atomic<size_t> next_document{0};
  std::atomic<bool> capture_done{false};
  std::latch start_line(1);
  std::vector<RouteLatencies> per_client(config.clients), per_reader(config.readers);
  std::vector<std::thread> clients, readers;
  for (size_t c = 0; c < config.clients; ++c) {
    clients.emplace_back([&, c] {
      auto client = NewClient(port);
      const httplib::Headers auth = Bearer(enterprise);
      std::vector<double>& latencies = per_client[c].capture_ms;
      latencies.reserve(documents.size() / config.clients + 1);
      start_line.wait();
      for (size_t k = next_document.fetch_add(1); k < documents.size() && !failure.failed();
           k = next_document.fetch_add(1)) {
        const auto sent = Clock::now();
        auto r = client->Post("/capture", auth, documents[k], "application/ld+json");
        latencies.push_back(Since(sent) * 1000);
        const std::string request = "POST /capture (document " + std::to_string(k) + ")";
        if (!Answered(r, request, failure, 202)) return;
        if (!JobSucceeded(r->body)) {
          failure.Set(request + ": the job does not say \"success\": true: " +
                      r->body.substr(0, 600));
          return;
        }
        const uint64_t events_in_doc =
            std::min<uint64_t>(config.batch, config.events - k * config.batch);
        acknowledged.fetch_add(events_in_doc);
      }
    });
  }
  for (size_t t = 0; t < config.readers; ++t) {
    readers.emplace_back([&, t] {
      auto client = NewClient(port);
      const httplib::Headers auth = Bearer(regulator);
      std::mt19937_64 rng(config.seed * 1000 + t);
      RouteLatencies& mine = per_reader[t];
      start_line.wait();
      for (uint64_t i = 0; !capture_done.load() && !failure.failed(); ++i) {
        std::string path;
        std::vector<double>* latencies = nullptr;
        switch ((i + t) % 3) {
          case 0:
            path = trace_paths[rng() % trace_paths.size()];
            latencies = &mine.trace_ms;
            break;
          case 1:
            path = "/ledger/proof/inclusion?seq=" + std::to_string(rng() % acknowledged.load());
            latencies = &mine.proof_ms;
            break;
          default:
            path = permit_paths[rng() % permit_paths.size()];
            latencies = &mine.permit_ms;
            break;
        }
        const auto sent = Clock::now();
        auto r = client->Get(path.c_str(), auth);
        latencies->push_back(Since(sent) * 1000);
        if (!Answered(r, "GET " + path, failure)) return;
      }
    });
  }

  const double cpu_start = ProcessCpuSeconds();
  const auto start = Clock::now();
  start_line.count_down();
  for (std::thread& client : clients) client.join();
  result.capture.seconds = Since(start);
  result.capture.cpu_seconds = ProcessCpuSeconds() - cpu_start;
  result.capture.events = config.events;
  result.views_applied_at_end = server->ViewsApplied();
  capture_done.store(true);
  for (std::thread& reader : readers) reader.join();
  die_if_failed();

  result.ledger_size = server->ledger().size();
  if (result.ledger_size != result.sample_events + config.events) {
    server->Stop();
    serve.join();
    Die("the server's ledger has " + std::to_string(result.ledger_size) + " entries, want " +
        std::to_string(result.sample_events + config.events));
  }
  for (const auto* group : {&per_client, &per_reader}) {
    for (const RouteLatencies& part : *group) {
      auto append = [](std::vector<double>& to, const std::vector<double>& from) {
        to.insert(to.end(), from.begin(), from.end());
      };
      append(result.latencies.capture_ms, part.capture_ms);
      append(result.latencies.trace_ms, part.trace_ms);
      append(result.latencies.proof_ms, part.proof_ms);
      append(result.latencies.permit_ms, part.permit_ms);
    }
  }
  tokens->reset();
  server->Stop();
  serve.join();
  if (!run_status.ok()) Die("the embedded server stopped with an error", run_status);
  server.reset();
  return result;
}

void PrintLatency(const char* route, const std::vector<double>& ms) {
  std::printf("| %s | %zu | %.2f | %.2f | %.2f |\n", route, ms.size(), Percentile(ms, 0.5),
              Percentile(ms, 0.99), Percentile(ms, 1.0));
}

int Run(const Config& config) {
  const std::filesystem::path root =
      config.data.empty()
          ? std::filesystem::temp_directory_path() / ("http_bench_" + std::to_string(::getpid()))
          : std::filesystem::path(config.data);
  const std::filesystem::path before = root / "reference-before";
  const std::filesystem::path served = root / "server";
  const std::filesystem::path after = root / "reference-after";
  for (const auto& dir : {before, served, after}) {
    if (std::filesystem::exists(dir)) Die(dir.string() + " exists; pick another --data");
  }
  std::filesystem::create_directories(root);

  std::fprintf(stderr, "http_bench: building %llu events and their documents\n",
               static_cast<unsigned long long>(config.events));
  const std::vector<BenchEvent> events = MakeEvents(config.events, config.seed);
  const std::vector<std::string> documents = MakeDocuments(events, config.batch);
  uint64_t event_bytes = 0, document_bytes = 0;
  for (const BenchEvent& event : events) event_bytes += event.text.size();
  for (const std::string& doc : documents) document_bytes += doc.size();

  std::printf("# http_bench\n\nmachine: %s\n", ledger::testing::MachineDescription().c_str());
  std::printf("events: %llu EPCIS ObjectEvents of %.0f bytes on average, in %zu documents of "
              "%zu (%.0f bytes on average); %zu capture clients, %zu readers\n\n",
              static_cast<unsigned long long>(config.events),
              static_cast<double>(event_bytes) / static_cast<double>(events.size()),
              documents.size(), config.batch,
              static_cast<double>(document_bytes) / static_cast<double>(documents.size()),
              config.clients, config.readers);
  std::fflush(stdout);

  std::fprintf(stderr, "http_bench: reference (before)\n");
  const PhaseResult reference_before =
      ReferenceAppend(before.string(), events, config.batch, config.clients);
  if (!config.keep) std::filesystem::remove_all(before);
  std::fprintf(stderr, "  %.0f events/s\nhttp_bench: HTTP capture\n", reference_before.rate());
  const HttpResult http = HttpCapture(config, served.string(), documents);
  if (!config.keep) std::filesystem::remove_all(served);
  std::fprintf(stderr, "  %.0f events/s\nhttp_bench: reference (after)\n", http.capture.rate());
  const PhaseResult reference_after =
      ReferenceAppend(after.string(), events, config.batch, config.clients);
  if (!config.keep) std::filesystem::remove_all(after);

  const double reference_mean = (reference_before.rate() + reference_after.rate()) / 2;
  const double ratio = http.capture.rate() / reference_mean;
  std::printf("| phase | events | seconds | events/s | process CPU µs per event |\n"
              "|---|---:|---:|---:|---:|\n");
  auto row = [](const std::string& what, const PhaseResult& r) {
    std::printf("| %s | %llu | %.2f | %.0f | %.1f |\n", what.c_str(),
                static_cast<unsigned long long>(r.events), r.seconds, r.rate(),
                r.cpu_micros_per_event());
  };
  const std::string shape = std::to_string(config.clients) + " threads, calls of " +
                            std::to_string(config.batch) + " events, durable";
  row("reference (before): in-process `Ledger::Append`, " + shape, reference_before);
  row("**HTTP capture**: " + std::to_string(config.clients) + " keep-alive clients, POST /capture of " +
          std::to_string(config.batch) + "-event EPCIS documents, " +
          std::to_string(config.readers) + " readers",
      http.capture);
  row("reference (after): in-process `Ledger::Append`, " + shape, reference_after);
  std::printf("\nHTTP capture / mean reference: %.1f %% (target >= 50 %%: %s)\n", ratio * 100,
              ratio >= 0.5 ? "met" : "NOT met");
  std::printf("views applied when the capture ended: %llu of %llu entries (the views follow "
              "the ledger on their own thread in the same process)\n\n",
              static_cast<unsigned long long>(http.views_applied_at_end),
              static_cast<unsigned long long>(http.ledger_size));

  std::printf("| request, during the capture load | count | p50 ms | p99 ms | max ms |\n"
              "|---|---:|---:|---:|---:|\n");
  const std::string capture_route =
      "POST /capture (" + std::to_string(config.batch) + " events)";
  PrintLatency(capture_route.c_str(), http.latencies.capture_ms);
  PrintLatency("GET /trace/{lot}?direction=both", http.latencies.trace_ms);
  PrintLatency("GET /ledger/proof/inclusion?seq=", http.latencies.proof_ms);
  PrintLatency("GET /cylinders/{id}/fill-permit?station=", http.latencies.permit_ms);
  if (!http.latencies.permit_ms.empty()) {
    const double permit_p99 = Percentile(http.latencies.permit_ms, 0.99);
    std::printf("\nfill-permit p99 %.2f ms (target <= 5 ms: %s)\n", permit_p99,
                permit_p99 <= 5.0 ? "met" : "NOT met");
  }
  std::fflush(stdout);
  if (config.data.empty() && !config.keep) std::filesystem::remove_all(root);
  return 0;
}

}  // namespace
}  // namespace traceledger::tools

int main(int argc, char** argv) {
  using traceledger::tools::Config;
  using traceledger::tools::Flags;
  auto flags = Flags::Parse(std::vector<std::string>(argv + 1, argv + argc),
                            {"events", "clients", "batch", "readers", "data", "sample-events",
                             "seed"},
                            {"keep"});
  if (!flags.ok()) {
    std::fprintf(stderr, "http_bench: %s\n%s", flags.status().message().c_str(),
                 traceledger::tools::kUsage);
    return 2;
  }
  if (flags->Has("help")) {
    std::printf("%s", traceledger::tools::kUsage);
    return 0;
  }
  if (!flags->positional().empty()) {
    std::fprintf(stderr, "http_bench: unexpected argument %s\n%s", flags->positional()[0].c_str(),
                 traceledger::tools::kUsage);
    return 2;
  }
  Config config;
  // Reads the unsigned flag `name` into `field` if given; false (after saying why) if malformed.
  auto read_uint = [&](const char* name, auto& field) {
    auto value = flags->GetUint(name);
    if (!value.ok()) {
      std::fprintf(stderr, "http_bench: %s\n", value.status().message().c_str());
      return false;
    }
    if (value->has_value()) field = static_cast<std::remove_reference_t<decltype(field)>>(**value);
    return true;
  };
  if (!read_uint("events", config.events) || !read_uint("seed", config.seed) ||
      !read_uint("clients", config.clients) || !read_uint("batch", config.batch) ||
      !read_uint("readers", config.readers)) {
    return 2;
  }
  config.data = flags->Get("data").value_or("");
  if (auto file = flags->Get("sample-events")) config.sample_events = *file;
  config.keep = flags->Has("keep");
  if (config.events == 0 || config.clients == 0 || config.batch == 0 ||
      config.batch > traceledger::api::kDefaultMaxCaptureEvents) {
    std::fprintf(stderr, "http_bench: --events and --clients must be positive, --batch in [1, %zu]\n",
                 traceledger::api::kDefaultMaxCaptureEvents);
    return 2;
  }
  try {
    return traceledger::tools::Run(config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http_bench: %s\n", e.what());
    return 1;
  }
}
