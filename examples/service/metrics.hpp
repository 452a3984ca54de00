// Service metrics: request counts by endpoint and HTTP status, server-side latency percentiles
// per endpoint (log-spaced histogram, ~9% bucket width), and the histogram of sequences per
// Model::run call. Thread-safe; rendered as Prometheus text by GET /metrics and as JSON by
// GET /metrics.json.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace recur::service {

// The endpoints counted apart; anything else (unknown routes) is `other`.
enum class Endpoint { predict, stream_step, stream_delete, healthz, livez, readyz, metrics, other };
inline constexpr int kEndpointCount = 8;
const char* endpoint_name(Endpoint e) noexcept;

// Latencies in microseconds, bucket i holding [2^(i/8), 2^((i+1)/8)) µs; the last bucket
// (~2^29 µs ≈ 9 min) also holds everything longer.
class LatencyHistogram {
 public:
  static constexpr int kBucketsPerOctave = 8;
  static constexpr int kBuckets = 30 * kBucketsPerOctave;

  void add(double micros) noexcept;
  uint64_t count() const noexcept { return count_; }
  double sum() const noexcept { return sum_; }  // µs
  // The q-quantile (0 < q <= 1), as the geometric middle of its bucket; 0 when empty.
  double quantile(double q) const noexcept;

 private:
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  double sum_ = 0.0;
};

// The Prometheus text exposition format (0.0.4): each family's # HELP and # TYPE lines, then
// its samples, `name{labels} value`.
class PrometheusText {
 public:
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";
  // type: "counter", "gauge", "summary" or "histogram"
  void family(const std::string& name, const char* type, const char* help);
  // labels: `endpoint="predict",status="200"`, or empty
  void sample(const std::string& name, const std::string& labels, double value);
  const std::string& text() const noexcept { return text_; }

 private:
  std::string text_;
};

class Metrics {
 public:
  Metrics();

  void record_request(Endpoint e, int status);
  void record_latency(Endpoint e, std::chrono::steady_clock::duration d);
  // One Model::run call over `sequences` sequences gathered from `requests` requests.
  void record_batch(int64_t sequences, int64_t requests);

  // {"uptime_s", "requests": {endpoint: {status: n}}, "latency_us": {endpoint: {count, p50,
  //  p90, p99}}, "batches": {"runs", "requests", "sequences", "sequences_per_run": {bucket: n}}}
  nlohmann::ordered_json to_json() const;
  // The same as the families recur_uptime_seconds, recur_http_requests_total,
  // recur_http_request_duration_seconds (summary) and recur_batch_* (recur_batch_sequences a
  // histogram of sequences per run).
  void append_prometheus(PrometheusText& out) const;

 private:
  mutable std::mutex mu_;
  std::chrono::steady_clock::time_point started_;
  std::array<std::map<int, uint64_t>, kEndpointCount> status_counts_;
  std::array<LatencyHistogram, kEndpointCount> latency_;
  uint64_t runs_ = 0, batched_requests_ = 0, batched_sequences_ = 0;
  std::map<int64_t, uint64_t> sequences_per_run_;  // keyed by the bucket's upper power of two
};

}  // namespace recur::service
