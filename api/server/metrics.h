// File: api/server/metrics.h
//
// The server's operating figures, rendered in the Prometheus text exposition format (0.0.4)
// for GET /metrics: requests and their latency per route, refused requests per rule, captured
// events, plus gauges the caller samples at scrape time (ledger size, projection lag).
//
// Thread-safety: every method is thread-safe; recording is lock-free except the first use of
// a (route, status) pair.
#ifndef TRACELEDGER_API_SERVER_METRICS_H_
#define TRACELEDGER_API_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace traceledger::api {

// Request latency histogram bucket bounds, in seconds.
inline constexpr std::array<double, 14> kLatencyBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

class Metrics {
 public:
  // A gauge read at scrape time, e.g. the ledger size.
  struct Gauge {
    std::string name;
    std::string help;
    std::function<double()> read;
  };

  Metrics();
  ~Metrics();

  // One answered request of `route` (the route pattern, e.g. "GET /trace/{id}").
  void ObserveRequest(std::string_view route, int status, double seconds);
  // A refused request or event, by rule (e.g. "bad_identifier", "unauthenticated").
  void CountReject(std::string_view rule, uint64_t n = 1);
  void AddGauge(Gauge gauge);
  // Counters that the caller keeps elsewhere (e.g. events captured), read at scrape time.
  void AddCounter(Gauge counter);

  // The whole exposition, text/plain; version=0.0.4.
  std::string Render() const;

 private:
  struct RouteStats {
    std::array<std::atomic<uint64_t>, kLatencyBuckets.size()> buckets{};
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_micros{0};
    std::map<int, std::unique_ptr<std::atomic<uint64_t>>> by_status;  // guarded by mutex_
  };
  RouteStats& StatsOf(std::string_view route);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<RouteStats>, std::less<>> routes_;
  std::map<std::string, uint64_t, std::less<>> rejects_;
  std::vector<Gauge> gauges_;
  std::vector<Gauge> counters_;
};

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_SERVER_METRICS_H_
