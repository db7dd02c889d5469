// File: api/server/server.h
//
// ApiServer: the HTTP/1.1 JSON API over a ledger, its views and a capture service
// (docs/formats/http-api.md lists every route, its role and its answers). Built on cpp-httplib
// (docs/decisions/0004-http-library.md).
//
//  - Every route names the Action it needs (api/auth/policy.h). A request is authenticated
//    from "Authorization: Bearer <token>" (TokenStore) or, with TLS client verification, from
//    the client certificate; no credentials is the anonymous principal. A principal without
//    the action gets 403 (401 when anonymous or the token is bad). Per-object rules (an
//    enterprise reads only its own events, the trace of lots it handled, recalls addressed to
//    it, its own timeline, fill permits for its own station) are checked in the handlers.
//  - Errors are RFC 9457 problem+json (problem.h), always naming the rule; nothing a refused
//    request carried changes state.
//  - Limits, all named in ServerOptions: worker threads, queued connections (the listener
//    stops accepting while that many wait: back-pressure into the kernel's backlog), request
//    body bytes (413 body_too_large), events per capture (413 too_many_events), read/write/
//    keep-alive timeouts, trace node and depth limits, alert rows read per page.
//
// Thread-safety: Bind/Serve/Stop may be called from different threads; Stop is idempotent.
#ifndef TRACELEDGER_API_SERVER_SERVER_H_
#define TRACELEDGER_API_SERVER_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/auth/token_store.h"
#include "api/server/alert_page.h"
#include "api/server/capture.h"
#include "api/server/metrics.h"
#include "ledger/base/status.h"
#include "ledger/ledger.h"
#include "projections/chain/trace.h"
#include "projections/view_store.h"

namespace httplib {
class Server;
}

namespace traceledger::api {

inline constexpr size_t kDefaultMaxBodyBytes = size_t{32} << 20;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (Bind() says which)
  size_t worker_threads = 8;
  size_t max_queued_connections = 256;
  size_t max_body_bytes = kDefaultMaxBodyBytes;
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds write_timeout{30};
  std::chrono::seconds keep_alive_timeout{5};
  size_t keep_alive_max_requests = 10000;
  // TLS when both are set (PEM files). With a client CA, clients must present a certificate it
  // signed; its subject's OU is the role and CN the party (a bearer token still wins).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  projections::TraceLimits trace_limits;
  // Most alert rows one GET /alerts page reads while it looks for the caller's alerts (> 0;
  // alert_page.h). A page cut by it is short and carries the cursor to go on from.
  size_t max_alert_rows_scanned = kMaxAlertRowsScannedPerPage;
  // How long a read may wait for the views to apply a given sequence (?after=SEQ).
  std::chrono::milliseconds max_view_wait{10000};
  std::function<int64_t()> clock_unix_micros;
};

struct ApiServices {
  ledger::Ledger* ledger = nullptr;
  const projections::ViewStore* views = nullptr;
  // The next sequence every view has applied (all entries below it are in every view).
  std::function<uint64_t()> views_applied;
  CaptureService* capture = nullptr;
  // Null: no tokens are accepted (anonymous and mTLS principals only).
  TokenStore* tokens = nullptr;
};

class ApiServer {
 public:
  static Result<std::unique_ptr<ApiServer>> Create(ApiServices services, ServerOptions options);
  ~ApiServer();

  // Binds the listening socket; returns the port.
  Result<int> Bind();
  // Serves until Stop(). Bind() first.
  Status Serve();
  void Stop();

  Metrics& metrics() { return metrics_; }

 private:
  ApiServer(ApiServices services, ServerOptions options);
  void InstallRoutes();

  ApiServices services_;
  ServerOptions options_;
  Metrics metrics_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> serving_{false};   // Serve() was called
  std::atomic<bool> finished_{false};  // Serve() returned or is about to
};

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_SERVER_SERVER_H_
