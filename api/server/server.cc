// File: api/server/server.cc
#include "api/server/server.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "api/evidence/evidence_bundle.h"
#include "api/query/event_query.h"
#include "api/server/alert_page.h"
#include "api/server/ledger_json.h"
#include "api/server/proto_json.h"
#include "api/server/trace_json.h"
#include "projections/chain/genealogy.h"
#include "projections/chain/history.h"
#include "projections/chain/holdings.h"
#include "projections/oversight/cylinders.h"
#include "projections/oversight/enforcement.h"
#include "projections/oversight/serials.h"
#include "projections/recalls/recalls.h"

namespace traceledger::api {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr char kJson[] = "application/json";
constexpr char kProblemJson[] = "application/problem+json";
// Most items one list answer carries (alerts, timeline items, recalls).
constexpr size_t kMaxListLimit = 10000;
constexpr size_t kDefaultListLimit = 100;

int64_t SystemMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// httplib's thread pool with a bound: enqueue() blocks the listener while `max_queued`
// connections wait, so excess load waits in the kernel's accept backlog instead of memory.
class BoundedPool : public httplib::TaskQueue {
 public:
  BoundedPool(size_t threads, size_t max_queued) : max_queued_(max_queued) {
    for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
  }
  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mutex_);
    room_.wait(lock, [&] { return jobs_.size() < max_queued_ || shutdown_; });
    if (shutdown_) return;
    jobs_.push_back(std::move(fn));
    ready_.notify_one();
  }
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shutdown_ = true;
    }
    ready_.notify_all();
    room_.notify_all();
    for (auto& t : workers_) t.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
        room_.notify_one();
      }
      fn();
    }
  }
  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::condition_variable room_;
  std::deque<std::function<void()>> jobs_;
  bool shutdown_ = false;
  std::vector<std::thread> workers_;
};

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(DumpJson(body), kJson);
}

void SendProblem(httplib::Response& res, const Problem& p) {
  res.status = p.status;
  res.set_content(DumpJson(p.ToJson()), kProblemJson);
  if (p.status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"traceledger\"");
}

Problem BadParameter(std::string name, std::string detail) {
  Problem p = MakeProblem(400, rule::kBadParameter, "bad query parameter", std::move(detail));
  p.parameter = std::move(name);
  return p;
}

// An unsigned query parameter; `fallback` when absent.
std::variant<uint64_t, Problem> UintParam(const httplib::Request& req, const std::string& name,
                                          uint64_t fallback, uint64_t max) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  if (text.empty() || text.size() > 20 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return BadParameter(name, name + "=\"" + text + "\": want a non-negative decimal integer");
  }
  const unsigned long long value = std::stoull(text);
  if (value > max) {
    return BadParameter(name, name + "=" + text + ": at most " + std::to_string(max));
  }
  return static_cast<uint64_t>(value);
}

// Principal from the client certificate: OU = role, CN = party.
std::optional<Principal> CertificatePrincipal(const httplib::Request& req) {
  if (req.ssl == nullptr) return std::nullopt;
  X509* cert = SSL_get_peer_certificate(req.ssl);
  if (cert == nullptr) return std::nullopt;
  auto field = [cert](int nid) {
    char buf[512] = {0};
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), nid, buf, sizeof(buf));
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  };
  const std::string role = field(NID_organizationalUnitName);
  const std::string party = field(NID_commonName);
  X509_free(cert);
  auto parsed = ParseRole(role);
  if (!parsed.ok() || *parsed == Role::kAnonymous) return std::nullopt;
  Principal p;
  p.role = *parsed;
  p.party = party;
  return p;
}

}  // namespace

ApiServer::ApiServer(ApiServices services, ServerOptions options)
    : services_(std::move(services)), options_(std::move(options)) {
  if (!options_.clock_unix_micros) options_.clock_unix_micros = SystemMicros;
}

ApiServer::~ApiServer() { Stop(); }

Result<std::unique_ptr<ApiServer>> ApiServer::Create(ApiServices services,
                                                     ServerOptions options) {
  if (services.ledger == nullptr || services.views == nullptr || services.capture == nullptr ||
      !services.views_applied) {
    return Status::InvalidArgument("api server: ledger, views, views_applied and capture are required");
  }
  if (options.worker_threads == 0 || options.max_queued_connections == 0 ||
      options.max_body_bytes == 0) {
    return Status::InvalidArgument(
        "api server: worker_threads, max_queued_connections and max_body_bytes must be > 0");
  }
  if (options.max_alert_rows_scanned == 0 ||
      options.max_alert_rows_scanned > kMaxAlertRowsScannedPerPage) {
    return Status::InvalidArgument("api server: max_alert_rows_scanned got " +
                                   std::to_string(options.max_alert_rows_scanned) +
                                   ", want 1 to " + std::to_string(kMaxAlertRowsScannedPerPage));
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return Status::InvalidArgument("api server: TLS needs both a certificate and a key file");
  }
  if (!options.tls_client_ca_file.empty() && options.tls_cert_file.empty()) {
    return Status::InvalidArgument("api server: a client CA needs TLS (certificate and key)");
  }
  std::unique_ptr<ApiServer> server(new ApiServer(std::move(services), std::move(options)));
  const ServerOptions& o = server->options_;
  if (!o.tls_cert_file.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(
        o.tls_cert_file.c_str(), o.tls_key_file.c_str(),
        o.tls_client_ca_file.empty() ? nullptr : o.tls_client_ca_file.c_str());
    if (!tls->is_valid()) {
      return Status::InvalidArgument("api server: cannot load TLS certificate " +
                                     o.tls_cert_file + " / key " + o.tls_key_file +
                                     (o.tls_client_ca_file.empty() ? "" : " / client CA " + o.tls_client_ca_file));
    }
    server->http_ = std::move(tls);
  } else {
    server->http_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& http = *server->http_;
  const size_t threads = o.worker_threads;
  const size_t queued = o.max_queued_connections;
  http.new_task_queue = [threads, queued] { return new BoundedPool(threads, queued); };
  // Answers go out as headers then body in two send()s; without TCP_NODELAY the body waits
  // under Nagle's algorithm for the client's delayed ACK (~40 ms per request, measured in
  // docs/BENCHMARKS.md "HTTP API").
  http.set_tcp_nodelay(true);
  http.set_payload_max_length(o.max_body_bytes);
  http.set_read_timeout(o.read_timeout);
  http.set_write_timeout(o.write_timeout);
  http.set_keep_alive_timeout(o.keep_alive_timeout.count());
  http.set_keep_alive_max_count(o.keep_alive_max_requests);
  server->InstallRoutes();

  ledger::Ledger* ledger = server->services_.ledger;
  auto applied = server->services_.views_applied;
  CaptureService* capture = server->services_.capture;
  server->metrics_.AddGauge({"traceledger_ledger_entries", "Committed ledger entries.",
                             [ledger] { return static_cast<double>(ledger->size()); }});
  server->metrics_.AddGauge(
      {"traceledger_projection_lag_entries", "Entries the slowest view has not applied yet.",
       [ledger, applied] {
         const uint64_t head = ledger->size();
         const uint64_t done = applied();
         return static_cast<double>(head > done ? head - done : 0);
       }});
  server->metrics_.AddCounter({"traceledger_capture_events_total",
                               "Events appended through POST /capture (duplicates excluded).",
                               [capture] { return static_cast<double>(capture->events_captured()); }});
  server->metrics_.AddCounter({"traceledger_capture_refused_total",
                               "Captures refused whole (bad, forbidden or conflicting events).",
                               [capture] { return static_cast<double>(capture->captures_refused()); }});
  return server;
}

Result<int> ApiServer::Bind() {
  int port = options_.port;
  if (port == 0) {
    port = http_->bind_to_any_port(options_.host);
    if (port < 0) return Status::Unavailable("api server: cannot bind " + options_.host);
  } else if (!http_->bind_to_port(options_.host, port)) {
    return Status::Unavailable("api server: cannot listen on " + options_.host + ":" +
                               std::to_string(port) + " (in use, or not an address here)");
  }
  return port;
}

Status ApiServer::Serve() {
  serving_.store(true);
  if (stop_requested_.load()) {
    finished_.store(true);
    return Status::Ok();
  }
  const bool ok = http_->listen_after_bind();
  finished_.store(true);
  if (!ok && !stop_requested_.load()) {
    return Status::Unavailable("api server: the listener stopped with an error");
  }
  return Status::Ok();
}

void ApiServer::Stop() {
  if (!http_) return;
  stop_requested_.store(true);
  // httplib's stop() does nothing before the listener runs: if Serve() is between its check
  // and the start of listen_after_bind(), wait for the listener to come up (or end).
  while (serving_.load() && !finished_.load() && !http_->is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  http_->stop();
}

void ApiServer::InstallRoutes() {
  httplib::Server& http = *http_;
  using Handler = std::function<void(const httplib::Request&, httplib::Response&, const Principal&)>;

  // Every route: authenticate, check the action, run, count, time. Handlers never throw
  // through httplib: anything thrown becomes a 500 problem.
  auto wrap = [this](std::string route, Action action, Handler handler) {
    return [this, route = std::move(route), action, handler = std::move(handler)](
               const httplib::Request& req, httplib::Response& res) {
      const auto start = Clock::now();
      Principal principal;
      bool authenticated = true;
      if (req.has_header("Authorization")) {
        const std::string header = req.get_header_value("Authorization");
        constexpr std::string_view kBearer = "Bearer ";
        if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) {
          SendProblem(res, MakeProblem(401, rule::kUnauthenticated, "not authenticated",
                                       "the Authorization header must be \"Bearer <token>\""));
          authenticated = false;
        } else if (services_.tokens == nullptr) {
          SendProblem(res, MakeProblem(401, rule::kUnauthenticated, "not authenticated",
                                       "this server accepts no bearer tokens"));
          authenticated = false;
        } else {
          auto p = services_.tokens->Authenticate(std::string_view(header).substr(kBearer.size()));
          if (!p.ok()) {
            SendProblem(res, MakeProblem(401, rule::kUnauthenticated, "not authenticated",
                                         p.status().message()));
            authenticated = false;
          } else {
            principal = std::move(p).value();
          }
        }
      } else if (auto cert = CertificatePrincipal(req)) {
        principal = std::move(*cert);
      }
      if (authenticated && !Allows(principal.role, action)) {
        if (principal.role == Role::kAnonymous) {
          SendProblem(res, MakeProblem(401, rule::kUnauthenticated, "not authenticated",
                                       std::string(route) + " needs a bearer token"));
        } else {
          SendProblem(res, MakeProblem(403, rule::kForbidden, "forbidden",
                                       "role " + std::string(RoleName(principal.role)) +
                                           " may not " + std::string(ActionName(action))));
        }
        authenticated = false;
      }
      if (authenticated) {
        try {
          handler(req, res, principal);
        } catch (const std::exception& e) {
          SendProblem(res, MakeProblem(500, rule::kInternal, "internal error", e.what()));
        }
      }
      if (res.status >= 400) {
        if (res.get_header_value("Content-Type") == kProblemJson) {
          json body = json::parse(res.body, nullptr, false);
          if (body.is_object() && body.contains("rule") && body["rule"].is_string()) {
            metrics_.CountReject(body["rule"].get<std::string>());
          }
        }
      }
      metrics_.ObserveRequest(route, res.status,
                              std::chrono::duration<double>(Clock::now() - start).count());
    };
  };

  // Errors httplib answers itself (no route, body over the limit, bad request line).
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 413) {
      SendProblem(res, MakeProblem(413, rule::kBodyTooLarge, "request body too large",
                                   "at most " + std::to_string(options_.max_body_bytes) +
                                       " bytes per request (max_body_bytes)"));
    } else if (res.status == 404) {
      SendProblem(res, MakeProblem(404, rule::kNotFound, "no such route",
                                   "see docs/formats/http-api.md for the routes"));
    } else {
      SendProblem(res, MakeProblem(res.status, "http_" + std::to_string(res.status),
                                   "request refused", "HTTP " + std::to_string(res.status)));
    }
    metrics_.CountReject(res.status == 413 ? rule::kBodyTooLarge : "http_" + std::to_string(res.status));
    return httplib::Server::HandlerResponse::Handled;
  }));

  ledger::Ledger& ledger = *services_.ledger;
  const projections::ViewStore& views = *services_.views;

  // Waits (bounded) until the views have applied every entry below `seq`; false on timeout.
  auto wait_for_views = [this](uint64_t seq) {
    const auto deadline = Clock::now() + options_.max_view_wait;
    while (services_.views_applied() < seq) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
  };
  // "?after=SEQ": read-your-writes for view routes (a capture's receipt says the seq).
  auto views_ready = [this, wait_for_views](const httplib::Request& req, httplib::Response& res) {
    auto after = UintParam(req, "after", 0, std::numeric_limits<uint64_t>::max());
    if (auto* p = std::get_if<Problem>(&after)) {
      SendProblem(res, *p);
      return false;
    }
    const uint64_t seq = std::get<uint64_t>(after);
    if (seq == 0) return true;
    if (seq > services_.ledger->size()) {
      SendProblem(res, BadParameter("after", "after=" + std::to_string(seq) +
                                                 " is past the ledger's size " +
                                                 std::to_string(services_.ledger->size())));
      return false;
    }
    if (!wait_for_views(seq)) {
      SendProblem(res, MakeProblem(503, "views_behind", "views are catching up",
                                   "the views have not applied entry " + std::to_string(seq - 1) +
                                       " yet; retry"));
      res.set_header("Retry-After", "1");
      return false;
    }
    return true;
  };

  // ---- health and metrics ---------------------------------------------------------------
  http.Get("/healthz", wrap("GET /healthz", Action::kHealth,
                            [this](const httplib::Request&, httplib::Response& res, const Principal&) {
                              const uint64_t head = services_.ledger->size();
                              const uint64_t applied = services_.views_applied();
                              SendJson(res, 200,
                                       {{"status", "ok"},
                                        {"ledger_size", head},
                                        {"views_applied", applied},
                                        {"projection_lag", head > applied ? head - applied : 0}});
                            }));
  http.Get("/metrics", wrap("GET /metrics", Action::kMetrics,
                            [this](const httplib::Request&, httplib::Response& res, const Principal&) {
                              res.status = 200;
                              res.set_content(metrics_.Render(), "text/plain; version=0.0.4");
                            }));

  // ---- capture ---------------------------------------------------------------------------
  http.Post("/capture", wrap("POST /capture", Action::kCapture,
                             [this](const httplib::Request& req, httplib::Response& res,
                                    const Principal& who) {
                               const std::string type = req.get_header_value("Content-Type");
                               if (!type.empty() && type.find("json") == std::string::npos) {
                                 SendProblem(res, MakeProblem(415, rule::kUnsupportedMediaType,
                                                              "unsupported media type",
                                                              "Content-Type is \"" + type +
                                                                  "\"; want application/json or application/ld+json"));
                                 return;
                               }
                               Submitter submitter{who.party, who.role};
                               auto answer = services_.capture->Capture(submitter, req.body);
                               if (auto* p = std::get_if<Problem>(&answer)) {
                                 SendProblem(res, *p);
                                 return;
                               }
                               auto& ok = std::get<CaptureAnswer>(answer);
                               res.set_header("Location", "/capture/" + ok.job["captureID"].get<std::string>());
                               SendJson(res, ok.http_status, ok.job);
                             }));
  http.Get(R"(/capture/(.+))", wrap("GET /capture/{id}", Action::kReadEvents,
                                    [this](const httplib::Request& req, httplib::Response& res,
                                           const Principal& who) {
                                      auto job = services_.capture->Job(req.matches[1].str());
                                      if (!job.ok()) return SendProblem(res, ProblemFromStatus(job.status()));
                                      // Another party's job is answered as missing: its id says nothing.
                                      if (!job->has_value() ||
                                          (who.role != Role::kRegulator &&
                                           (**job)["submitter"] != who.party)) {
                                        return SendProblem(res, MakeProblem(404, rule::kNotFound, "no such capture job",
                                                                            "capture " + req.matches[1].str()));
                                      }
                                      SendJson(res, 200, **job);
                                    }));

  // ---- EPCIS query -------------------------------------------------------------------------
  http.Get("/events", wrap("GET /events", Action::kReadEvents,
                           [this, &views, views_ready](const httplib::Request& req,
                                                       httplib::Response& res, const Principal& who) {
                             std::vector<std::pair<std::string, std::string>> params;
                             for (const auto& [k, v] : req.params) {
                               if (k != "after") params.emplace_back(k, v);
                             }
                             if (!views_ready(req, res)) return;
                             auto parsed = ParseEventQuery(params);
                             if (auto* e = std::get_if<QueryError>(&parsed)) {
                               Problem p = MakeProblem(400, e->rule, "bad query parameter", e->detail);
                               p.parameter = e->parameter;
                               return SendProblem(res, p);
                             }
                             QueryScope scope;
                             if (who.role == Role::kEnterprise) scope.only_submitter = who.party;
                             const projections::ViewReader history = views.Reader(projections::kHistoryView);
                             QueryOptions query_options;
                             query_options.now_unix_micros = options_.clock_unix_micros();
                             auto page = RunEventQuery(*services_.ledger, &history,
                                                       std::get<EventQuery>(parsed), scope, query_options);
                             if (!page.ok()) return SendProblem(res, ProblemFromStatus(page.status()));
                             if (page->next_page_token) {
                               res.set_header("Link", "</events?nextPageToken=" + *page->next_page_token +
                                                          ">; rel=\"next\"");
                             }
                             res.status = 200;
                             res.set_content(page->document.dump(-1, ' ', false,
                                                                 nlohmann::ordered_json::error_handler_t::replace),
                                             kJson);
                           }));

  // ---- trace -----------------------------------------------------------------------------
  http.Get(R"(/trace/(.+))", wrap("GET /trace/{id}", Action::kTrace,
                                  [this, &views, views_ready](const httplib::Request& req,
                                                              httplib::Response& res, const Principal& who) {
                                    const std::string id = req.matches[1].str();
                                    auto direction = projections::ParseTraceDirection(
                                        req.has_param("direction") ? req.get_param_value("direction") : "both");
                                    if (!direction.ok()) {
                                      return SendProblem(res, BadParameter("direction", direction.status().message()));
                                    }
                                    projections::TraceLimits limits = options_.trace_limits;
                                    auto depth = UintParam(req, "max_depth", limits.max_depth, limits.max_depth);
                                    auto nodes = UintParam(req, "max_nodes", limits.max_nodes, limits.max_nodes);
                                    for (auto* v : {&depth, &nodes}) {
                                      if (auto* p = std::get_if<Problem>(v)) return SendProblem(res, *p);
                                    }
                                    limits.max_depth = static_cast<uint32_t>(std::get<uint64_t>(depth));
                                    limits.max_nodes = std::get<uint64_t>(nodes);
                                    if (limits.max_nodes == 0) {
                                      return SendProblem(res, BadParameter("max_nodes", "max_nodes must be at least 1"));
                                    }
                                    if (!views_ready(req, res)) return;
                                    if (who.role == Role::kEnterprise) {
                                      // An enterprise traces only lots it handled: it holds some
                                      // of it (one row: asked first), or it submitted an event
                                      // naming the object (the history, up to that event).
                                      auto held = views.Reader(projections::kGenealogyView)
                                                      .Get(projections::HolderKey(id, who.party));
                                      if (!held.ok()) return SendProblem(res, ProblemFromStatus(held.status()));
                                      bool handled = held->has_value();
                                      if (!handled) {
                                        auto submitted = projections::SubmittedEventNaming(
                                            views.Reader(projections::kHistoryView), id, who.party);
                                        if (!submitted.ok()) {
                                          return SendProblem(res, ProblemFromStatus(submitted.status()));
                                        }
                                        handled = *submitted;
                                      }
                                      if (!handled) {
                                        return SendProblem(res, MakeProblem(403, rule::kForbidden, "forbidden",
                                                                            "an enterprise may trace only objects it handled; " +
                                                                                who.party + " never named or held " + id));
                                      }
                                    }
                                    auto trace = projections::Trace(views.Reader(projections::kGenealogyView), id,
                                                                    *direction, limits);
                                    if (!trace.ok()) return SendProblem(res, ProblemFromStatus(trace.status()));
                                    // Written directly: a large answer through ProtoJson took
                                    // far longer than the trace (api/server/trace_json.h).
                                    res.status = 200;
                                    res.set_content(TraceJson(*trace, projections::TraceDirectionName(*direction),
                                                              services_.views_applied()),
                                                    kJson);
                                  }));

  // ---- recalls ---------------------------------------------------------------------------
  auto recall_json = [this, &views](std::string_view id) -> Result<std::optional<json>> {
    auto recall = projections::RecallCaseOf(views.Reader(projections::kRecallsView), id);
    if (!recall.ok()) return recall.status();
    if (!recall->has_value()) return std::optional<json>();
    json out = ProtoJson(projections::ProgressOf(**recall));
    auto checkpoint = services_.ledger->LatestCheckpoint();
    if (checkpoint.ok()) out["latest_checkpoint"] = *checkpoint;
    return std::optional<json>(std::move(out));
  };
  http.Post("/recalls", wrap("POST /recalls", Action::kOpenRecall,
                             [this, recall_json, wait_for_views](const httplib::Request& req,
                                                                 httplib::Response& res, const Principal& who) {
                               // The body is one native JSON recall event; it is captured like
                               // any other event, then answered with the case once the views
                               // have applied it.
                               json event = json::parse(req.body, nullptr, false);
                               if (!event.is_object() || !event.contains("recall") || !event["recall"].is_object()) {
                                 return SendProblem(res, MakeProblem(400, rule::kBadDocument, "not a recall event",
                                                                     "want a native JSON event with a \"recall\" body "
                                                                     "(docs/formats/events.md)", "/recall"));
                               }
                               Submitter submitter{who.party, who.role};
                               const std::string batch = "{\"events\":[" + req.body + "]}";
                               auto answer = services_.capture->Capture(submitter, batch);
                               if (auto* p = std::get_if<Problem>(&answer)) {
                                 Problem q = *p;
                                 for (auto& e : q.errors) {
                                   if (e.pointer.rfind("/events/0", 0) == 0) e.pointer.erase(0, 9);
                                 }
                                 if (q.pointer.rfind("/events/0", 0) == 0) q.pointer.erase(0, 9);
                                 return SendProblem(res, q);
                               }
                               auto& ok = std::get<CaptureAnswer>(answer);
                               const json& receipt = ok.job["receipts"][0];
                               const uint64_t seq = receipt["seq"].get<uint64_t>();
                               // The id as captured (lowerCamelCase or the proto name; the
                               // capture validated it is a non-empty string).
                               const json& body = event["recall"];
                               const std::string id =
                                   body.contains("recallId") && body["recallId"].is_string()
                                       ? body["recallId"].get<std::string>()
                                       : body.value("recall_id", json("")).is_string()
                                             ? body.value("recall_id", json("")).get<std::string>()
                                             : std::string();
                               json out = {{"receipt", receipt}, {"captureID", ok.job["captureID"]}};
                               if (wait_for_views(seq + 1)) {
                                 auto recall = recall_json(id);
                                 if (recall.ok() && recall->has_value()) out["case"] = **recall;
                               }
                               res.set_header("Location", "/recalls/" + id);
                               SendJson(res, ok.http_status == 202 ? 201 : ok.http_status, out);
                             }));
  http.Get(R"(/recalls/(.+))", wrap("GET /recalls/{id}", Action::kReadRecalls,
                                    [recall_json, views_ready](const httplib::Request& req,
                                                               httplib::Response& res, const Principal& who) {
                                      if (!views_ready(req, res)) return;
                                      const std::string id = req.matches[1].str();
                                      auto recall = recall_json(id);
                                      if (!recall.ok()) return SendProblem(res, ProblemFromStatus(recall.status()));
                                      bool visible = recall->has_value();
                                      if (visible && who.role == Role::kEnterprise) {
                                        // Recalls addressed to the enterprise: it is a holder in scope.
                                        visible = false;
                                        for (const auto& h : (**recall)["recall"]["holders"]) {
                                          visible |= h.value("party", "") == who.party;
                                        }
                                      }
                                      if (!visible) {
                                        return SendProblem(res, MakeProblem(404, rule::kNotFound, "no such recall",
                                                                            "recall " + id));
                                      }
                                      SendJson(res, 200, **recall);
                                    }));
  http.Get("/recalls", wrap("GET /recalls", Action::kReadRecalls,
                            [&views, views_ready](const httplib::Request& req, httplib::Response& res,
                                                  const Principal& who) {
                              if (!views_ready(req, res)) return;
                              std::string party = who.party;
                              if (who.role == Role::kRegulator && req.has_param("party")) {
                                party = req.get_param_value("party");
                              }
                              if (party.empty()) {
                                return SendProblem(res, BadParameter("party", "name the party whose recalls to list"));
                              }
                              auto ids = projections::RecallsAddressedTo(views.Reader(projections::kRecallsView),
                                                                         party, kMaxListLimit);
                              if (!ids.ok()) return SendProblem(res, ProblemFromStatus(ids.status()));
                              SendJson(res, 200, {{"party", party}, {"recalls", *ids}});
                            }));

  // ---- alerts, timelines, cylinders ------------------------------------------------------
  http.Get("/alerts", wrap("GET /alerts", Action::kReadAlerts,
                           [this, &views, views_ready](const httplib::Request& req,
                                                       httplib::Response& res, const Principal& who) {
                             if (!views_ready(req, res)) return;
                             constexpr uint64_t kAny = std::numeric_limits<uint64_t>::max();
                             auto since = UintParam(req, "since", 0, kAny);
                             auto limit = UintParam(req, "limit", kDefaultListLimit, kMaxListLimit);
                             // A previous page's nextAlertIndex, per kind: where to go on.
                             auto serial_from = UintParam(req, "serial_from", 0, kAny);
                             auto cylinder_from = UintParam(req, "cylinder_from", 0, kAny);
                             for (auto* v : {&since, &limit, &serial_from, &cylinder_from}) {
                               if (auto* p = std::get_if<Problem>(v)) return SendProblem(res, *p);
                             }
                             const std::string kind = req.has_param("kind") ? req.get_param_value("kind") : "all";
                             if (kind != "all" && kind != "serial" && kind != "cylinder") {
                               return SendProblem(res, BadParameter("kind", "kind=\"" + kind +
                                                                                 "\": want serial, cylinder or all"));
                             }
                             for (const char* other : {"serial", "cylinder"}) {
                               const std::string name = std::string(other) + "_from";
                               if (kind != "all" && kind != other && req.has_param(name)) {
                                 const std::string detail =
                                     name + " is a cursor for kind=" + other + " or all, not kind=" + kind;
                                 return SendProblem(res, BadParameter(name, detail));
                               }
                             }
                             json out = {{"since", std::get<uint64_t>(since)}};
                             // An enterprise sees the alerts about itself: the party whose event
                             // raised a serial alert, the station of a cylinder alert. It is
                             // filtered while the page is read, so that the page fills up with
                             // them (FilterAlertPage), never after.
                             const bool everyone = who.role != Role::kEnterprise;
                             const uint64_t n = std::get<uint64_t>(limit);
                             // One alert page (SerialAlertPage or CylinderAlertPage) into `out`,
                             // from `start` (an empty page: where to begin).
                             auto add = [&](const char* name, const auto& start, const auto& read_from,
                                            const auto& keep) {
                               if (!start.ok()) {
                                 SendProblem(res, ProblemFromStatus(start.status()));
                                 return false;
                               }
                               auto page = FilterAlertPage(*start, n, options_.max_alert_rows_scanned,
                                                           read_from, keep);
                               if (!page.ok()) {
                                 SendProblem(res, ProblemFromStatus(page.status()));
                                 return false;
                               }
                               out[name] = ProtoJson(*page);
                               return true;
                             };
                             if (kind != "cylinder") {
                               const projections::ViewReader reader = views.Reader(projections::kSerialsViewName);
                               auto read_from = [&reader](uint64_t index, size_t rows) {
                                 return projections::SerialAlertsFrom(reader, index, rows);
                               };
                               auto keep = [&](const v1::SerialAlert& a) {
                                 return everyone || a.party() == who.party;
                               };
                               const auto start =
                                   req.has_param("serial_from")
                                       ? read_from(std::get<uint64_t>(serial_from), 0)
                                       : projections::SerialAlerts(reader, std::get<uint64_t>(since), 0);
                               if (!add("serial", start, read_from, keep)) return;
                             }
                             if (kind != "serial") {
                               const projections::ViewReader reader = views.Reader(projections::kCylindersViewName);
                               auto read_from = [&reader](uint64_t index, size_t rows) {
                                 return projections::CylinderAlertsFrom(reader, index, rows);
                               };
                               auto keep = [&](const v1::CylinderAlert& a) {
                                 return everyone || a.station_id() == who.party;
                               };
                               const auto start =
                                   req.has_param("cylinder_from")
                                       ? read_from(std::get<uint64_t>(cylinder_from), 0)
                                       : projections::CylinderAlerts(reader, std::get<uint64_t>(since), 0);
                               if (!add("cylinder", start, read_from, keep)) return;
                             }
                             SendJson(res, 200, out);
                           }));
  http.Get(R"(/enterprises/(.+)/timeline)",
           wrap("GET /enterprises/{id}/timeline", Action::kReadTimeline,
                [&views, views_ready](const httplib::Request& req, httplib::Response& res,
                                      const Principal& who) {
                  const std::string id = req.matches[1].str();
                  if (who.role == Role::kEnterprise && id != who.party) {
                    return SendProblem(res, MakeProblem(403, rule::kForbidden, "forbidden",
                                                        "an enterprise reads only its own timeline (" +
                                                            who.party + ")"));
                  }
                  auto limit = UintParam(req, "limit", projections::kMaxTimelineItems, projections::kMaxTimelineItems);
                  if (auto* p = std::get_if<Problem>(&limit)) return SendProblem(res, *p);
                  if (!views_ready(req, res)) return;
                  const projections::ViewReader reader = views.Reader(projections::kEnforcementViewName);
                  auto timeline = projections::Timeline(reader, id, std::get<uint64_t>(limit));
                  if (!timeline.ok()) return SendProblem(res, ProblemFromStatus(timeline.status()));
                  auto credit = projections::Credit(reader, id);
                  if (!credit.ok()) return SendProblem(res, ProblemFromStatus(credit.status()));
                  SendJson(res, 200, {{"enterprise", id}, {"timeline", ProtoJson(*timeline)},
                                      {"credit", ProtoJson(*credit)}});
                }));
  http.Get(R"(/cylinders/(.+)/fill-permit)",
           wrap("GET /cylinders/{id}/fill-permit", Action::kFillPermit,
                [this, &views, views_ready](const httplib::Request& req, httplib::Response& res,
                                            const Principal& who) {
                  const std::string cylinder = req.matches[1].str();
                  if (!req.has_param("station") || req.get_param_value("station").empty()) {
                    return SendProblem(res, BadParameter("station", "name the filling station: ?station=ID"));
                  }
                  const std::string station = req.get_param_value("station");
                  if (who.role == Role::kEnterprise && station != who.party) {
                    return SendProblem(res, MakeProblem(403, rule::kForbidden, "forbidden",
                                                        "a station asks only for itself (" + who.party + ")"));
                  }
                  if (!views_ready(req, res)) return;
                  auto permit = projections::FillPermitFor(views.Reader(projections::kCylindersViewName),
                                                           cylinder, station, options_.clock_unix_micros());
                  if (!permit.ok()) return SendProblem(res, ProblemFromStatus(permit.status()));
                  json out = ProtoJson(*permit);
                  out["cylinder"] = cylinder;
                  out["station"] = station;
                  out["views_applied"] = services_.views_applied();
                  SendJson(res, 200, out);
                }));

  // ---- ledger ----------------------------------------------------------------------------
  http.Get("/ledger/checkpoint", wrap("GET /ledger/checkpoint", Action::kReadCheckpoint,
                                      [&ledger](const httplib::Request&, httplib::Response& res, const Principal&) {
                                        auto note = ledger.LatestCheckpoint();
                                        if (!note.ok()) return SendProblem(res, ProblemFromStatus(note.status()));
                                        res.status = 200;
                                        res.set_content(*note, "text/plain; charset=utf-8");
                                      }));
  http.Get("/ledger/key", wrap("GET /ledger/key", Action::kReadCheckpoint,
                               [&ledger](const httplib::Request&, httplib::Response& res, const Principal&) {
                                 res.status = 200;
                                 res.set_content(ledger.verifier().VerifierKeyText() + "\n",
                                                 "text/plain; charset=utf-8");
                               }));
  http.Get(R"(/ledger/entries/(\d+))", wrap("GET /ledger/entries/{seq}", Action::kReadLedgerEntries,
                                            [&ledger](const httplib::Request& req, httplib::Response& res,
                                                      const Principal&) {
                                              const std::string text = req.matches[1].str();
                                              if (text.size() > 19) {
                                                return SendProblem(res, BadParameter("seq", "seq " + text + " is too large"));
                                              }
                                              const uint64_t n = std::stoull(text);
                                              if (n >= ledger.size()) {
                                                return SendProblem(res, MakeProblem(404, rule::kNotFound, "no such entry",
                                                                                    "entry " + text + ": the ledger has " +
                                                                                        std::to_string(ledger.size()) + " entries"));
                                              }
                                              auto entry = EntryJson(ledger, n);
                                              if (!entry.ok()) return SendProblem(res, ProblemFromStatus(entry.status()));
                                              SendJson(res, 200, *entry);
                                            }));
  http.Get("/ledger/proof/inclusion", wrap("GET /ledger/proof/inclusion", Action::kReadProofs,
                                           [&ledger](const httplib::Request& req, httplib::Response& res,
                                                     const Principal&) {
                                             if (!req.has_param("seq")) {
                                               return SendProblem(res, BadParameter("seq", "seq is required"));
                                             }
                                             const uint64_t max = std::numeric_limits<uint64_t>::max();
                                             auto seq = UintParam(req, "seq", 0, max);
                                             auto size = UintParam(req, "size", ledger.size(), max);
                                             for (auto* v : {&seq, &size}) {
                                               if (auto* p = std::get_if<Problem>(v)) return SendProblem(res, *p);
                                             }
                                             auto proof = InclusionProofJson(ledger, std::get<uint64_t>(seq), std::get<uint64_t>(size));
                                             if (!proof.ok()) {
                                               return SendProblem(res, BadParameter(req.has_param("size") ? "size" : "seq",
                                                                                    proof.status().message()));
                                             }
                                             SendJson(res, 200, *proof);
                                           }));
  http.Get("/ledger/proof/consistency", wrap("GET /ledger/proof/consistency", Action::kReadProofs,
                                             [&ledger](const httplib::Request& req, httplib::Response& res,
                                                       const Principal&) {
                                               if (!req.has_param("from")) {
                                                 return SendProblem(res, BadParameter("from", "from is required"));
                                               }
                                               const uint64_t max = std::numeric_limits<uint64_t>::max();
                                               auto from = UintParam(req, "from", 0, max);
                                               auto to = UintParam(req, "to", ledger.size(), max);
                                               for (auto* v : {&from, &to}) {
                                                 if (auto* p = std::get_if<Problem>(v)) return SendProblem(res, *p);
                                               }
                                               auto proof = ConsistencyProofJson(ledger, std::get<uint64_t>(from), std::get<uint64_t>(to));
                                               if (!proof.ok()) {
                                                 return SendProblem(res, BadParameter("to", proof.status().message()));
                                               }
                                               SendJson(res, 200, *proof);
                                             }));

  // ---- evidence --------------------------------------------------------------------------
  http.Post("/evidence", wrap("POST /evidence", Action::kEvidence,
                              [&ledger, &views, views_ready](const httplib::Request& req,
                                                             httplib::Response& res, const Principal&) {
                                // A recall's bundle is read from the recalls view: after=SEQ
                                // waits for it, as on every view route.
                                if (!views_ready(req, res)) return;
                                json body = json::parse(req.body, nullptr, false);
                                if (!body.is_object()) {
                                  return SendProblem(res, MakeProblem(400, rule::kBadJson, "the body is not a JSON object",
                                                                      "want {\"eventIds\": [...]} or {\"recallId\": \"...\"}"));
                                }
                                std::vector<uint64_t> sequences;
                                std::string title;
                                if (body.contains("eventIds")) {
                                  const json& ids = body["eventIds"];
                                  if (!ids.is_array() || ids.empty()) {
                                    return SendProblem(res, MakeProblem(400, rule::kBadDocument, "bad eventIds",
                                                                        "eventIds must be a non-empty array of strings", "/eventIds"));
                                  }
                                  if (ids.size() > kMaxBundleEntries) {
                                    return SendProblem(res, MakeProblem(413, rule::kTooManyEvents, "too many events",
                                                                        std::to_string(ids.size()) + " ids; at most " +
                                                                            std::to_string(kMaxBundleEntries) + " per bundle",
                                                                        "/eventIds"));
                                  }
                                  std::vector<std::string> list;
                                  for (size_t i = 0; i < ids.size(); ++i) {
                                    if (!ids[i].is_string()) {
                                      return SendProblem(res, MakeProblem(400, rule::kBadDocument, "bad eventIds",
                                                                          "want a string", "/eventIds/" + std::to_string(i)));
                                    }
                                    list.push_back(ids[i].get<std::string>());
                                  }
                                  auto seqs = SequencesOfEvents(ledger, list);
                                  if (!seqs.ok()) return SendProblem(res, ProblemFromStatus(seqs.status()));
                                  sequences = std::move(seqs).value();
                                  title = body.value("title", "");
                                } else if (body.contains("recallId") && body["recallId"].is_string()) {
                                  const std::string id = body["recallId"].get<std::string>();
                                  auto recall = projections::RecallCaseOf(views.Reader(projections::kRecallsView), id);
                                  if (!recall.ok()) return SendProblem(res, ProblemFromStatus(recall.status()));
                                  if (!recall->has_value()) {
                                    return SendProblem(res, MakeProblem(404, rule::kNotFound, "no such recall",
                                                                        "recall " + id, "/recallId"));
                                  }
                                  // The opening event and every removal confirmation of the case.
                                  sequences.push_back((*recall)->opened_sequence());
                                  for (const auto& h : (*recall)->holders()) {
                                    for (uint64_t s : h.removal_sequences()) sequences.push_back(s);
                                  }
                                  if ((*recall)->closed_sequence() != 0) sequences.push_back((*recall)->closed_sequence());
                                  title = "recall " + id;
                                } else {
                                  return SendProblem(res, MakeProblem(400, rule::kBadDocument, "nothing to bundle",
                                                                      "want {\"eventIds\": [...]} or {\"recallId\": \"...\"}"));
                                }
                                auto bundle = BuildEvidenceBundle(ledger, std::move(sequences), title);
                                if (!bundle.ok()) return SendProblem(res, ProblemFromStatus(bundle.status()));
                                res.status = 200;
                                res.set_header("Content-Disposition", "attachment; filename=\"evidence.tlproof\"");
                                res.set_content(*bundle, "text/plain; charset=utf-8");
                              }));
}

}  // namespace traceledger::api
