// File: api/server/metrics.cc
#include "api/server/metrics.h"

#include <cmath>
#include <cstdio>

namespace traceledger::api {
namespace {

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

// Label values escape backslash, quote and newline.
std::string Label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

Metrics::Metrics() = default;
Metrics::~Metrics() = default;

Metrics::RouteStats& Metrics::StatsOf(std::string_view route) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = routes_.find(route);
  if (it == routes_.end()) {
    it = routes_.emplace(std::string(route), std::make_unique<RouteStats>()).first;
  }
  return *it->second;
}

void Metrics::ObserveRequest(std::string_view route, int status, double seconds) {
  RouteStats& stats = StatsOf(route);
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) stats.buckets[i].fetch_add(1, std::memory_order_relaxed);
  }
  stats.count.fetch_add(1, std::memory_order_relaxed);
  stats.sum_micros.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mutex_);
  auto& counter = stats.by_status[status];
  if (!counter) counter = std::make_unique<std::atomic<uint64_t>>(0);
  counter->fetch_add(1, std::memory_order_relaxed);
}

void Metrics::CountReject(std::string_view rule, uint64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = rejects_.find(rule);
  if (it == rejects_.end()) it = rejects_.emplace(std::string(rule), 0).first;
  it->second += n;
}

void Metrics::AddGauge(Gauge gauge) {
  std::lock_guard<std::mutex> lock(mutex_);
  gauges_.push_back(std::move(gauge));
}

void Metrics::AddCounter(Gauge counter) {
  std::lock_guard<std::mutex> lock(mutex_);
  counters_.push_back(std::move(counter));
}

std::string Metrics::Render() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mutex_);
  out += "# HELP traceledger_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE traceledger_http_requests_total counter\n";
  for (const auto& [route, stats] : routes_) {
    for (const auto& [status, n] : stats->by_status) {
      out += "traceledger_http_requests_total{route=\"" + Label(route) + "\",status=\"" +
             std::to_string(status) + "\"} " + std::to_string(n->load()) + "\n";
    }
  }
  out += "# HELP traceledger_http_request_duration_seconds Time to answer a request, by route.\n";
  out += "# TYPE traceledger_http_request_duration_seconds histogram\n";
  for (const auto& [route, stats] : routes_) {
    const std::string labels = "route=\"" + Label(route) + "\"";
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      out += "traceledger_http_request_duration_seconds_bucket{" + labels + ",le=\"" +
             Number(kLatencyBuckets[i]) + "\"} " + std::to_string(stats->buckets[i].load()) + "\n";
    }
    out += "traceledger_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
           std::to_string(stats->count.load()) + "\n";
    out += "traceledger_http_request_duration_seconds_sum{" + labels + "} " +
           Number(static_cast<double>(stats->sum_micros.load()) / 1e6) + "\n";
    out += "traceledger_http_request_duration_seconds_count{" + labels + "} " +
           std::to_string(stats->count.load()) + "\n";
  }
  out += "# HELP traceledger_rejects_total Refused requests and events, by the rule broken.\n";
  out += "# TYPE traceledger_rejects_total counter\n";
  for (const auto& [rule, n] : rejects_) {
    out += "traceledger_rejects_total{rule=\"" + Label(rule) + "\"} " + std::to_string(n) + "\n";
  }
  for (const Gauge& c : counters_) {
    out += "# HELP " + c.name + " " + c.help + "\n# TYPE " + c.name + " counter\n";
    out += c.name + " " + Number(c.read()) + "\n";
  }
  for (const Gauge& g : gauges_) {
    out += "# HELP " + g.name + " " + g.help + "\n# TYPE " + g.name + " gauge\n";
    out += g.name + " " + Number(g.read()) + "\n";
  }
  return out;
}

}  // namespace traceledger::api
