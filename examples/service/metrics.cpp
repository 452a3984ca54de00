// Counters and histograms behind GET /metrics.
#include "metrics.hpp"

#include <algorithm>
#include <cmath>

namespace recur::service {

const char* endpoint_name(Endpoint e) noexcept {
  switch (e) {
    case Endpoint::predict: return "predict";
    case Endpoint::stream_step: return "stream_step";
    case Endpoint::stream_delete: return "stream_delete";
    case Endpoint::healthz: return "healthz";
    case Endpoint::metrics: return "metrics";
    case Endpoint::other: return "other";
  }
  return "other";
}

void LatencyHistogram::add(double micros) noexcept {
  int i = 0;
  if (micros > 1.0) i = static_cast<int>(std::log2(micros) * kBucketsPerOctave);
  i = std::clamp(i, 0, kBuckets - 1);
  ++buckets_[static_cast<size_t>(i)];
  ++count_;
}

double LatencyHistogram::quantile(double q) const noexcept {
  if (count_ == 0) return 0.0;
  // The smallest bucket whose cumulative count reaches ceil(q * count).
  const auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[static_cast<size_t>(i)];
    if (seen >= std::max<uint64_t>(rank, 1)) {
      return std::exp2((i + 0.5) / kBucketsPerOctave);
    }
  }
  return std::exp2(static_cast<double>(kBuckets) / kBucketsPerOctave);
}

Metrics::Metrics() : started_(std::chrono::steady_clock::now()) {}

void Metrics::record_request(Endpoint e, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++status_counts_[static_cast<size_t>(e)][status];
}

void Metrics::record_latency(Endpoint e, std::chrono::steady_clock::duration d) {
  const double micros = std::chrono::duration<double, std::micro>(d).count();
  std::lock_guard<std::mutex> lock(mu_);
  latency_[static_cast<size_t>(e)].add(micros);
}

void Metrics::record_batch(int64_t sequences, int64_t requests) {
  int64_t bucket = 1;  // 1, 2, 4, 8, ...: the bucket holds (bucket/2, bucket]
  while (bucket < sequences) bucket *= 2;
  std::lock_guard<std::mutex> lock(mu_);
  ++runs_;
  batched_requests_ += static_cast<uint64_t>(requests);
  batched_sequences_ += static_cast<uint64_t>(sequences);
  ++sequences_per_run_[bucket];
}

nlohmann::ordered_json Metrics::to_json() const {
  using json = nlohmann::ordered_json;
  std::lock_guard<std::mutex> lock(mu_);
  json out;
  out["uptime_s"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  json requests = json::object();
  json latency = json::object();
  for (int i = 0; i < kEndpointCount; ++i) {
    const char* name = endpoint_name(static_cast<Endpoint>(i));
    const auto& counts = status_counts_[static_cast<size_t>(i)];
    if (!counts.empty()) {
      json by_status = json::object();
      for (const auto& [status, n] : counts) by_status[std::to_string(status)] = n;
      requests[name] = by_status;
    }
    const LatencyHistogram& h = latency_[static_cast<size_t>(i)];
    if (h.count() > 0) {
      latency[name] = {{"count", h.count()},
                       {"p50", h.quantile(0.50)},
                       {"p90", h.quantile(0.90)},
                       {"p99", h.quantile(0.99)}};
    }
  }
  out["requests"] = requests;
  out["latency_us"] = latency;
  json hist = json::object();
  for (const auto& [bucket, n] : sequences_per_run_) {
    const int64_t low = bucket / 2 + 1;
    hist[low == bucket ? std::to_string(bucket)
                       : std::to_string(low) + "-" + std::to_string(bucket)] = n;
  }
  out["batches"] = {{"runs", runs_},
                    {"requests", batched_requests_},
                    {"sequences", batched_sequences_},
                    {"sequences_per_run", hist}};
  return out;
}

}  // namespace recur::service
