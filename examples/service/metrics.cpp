// Counters and histograms behind GET /metrics.
#include "metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace recur::service {

namespace {
constexpr int64_t kMaxHistogramBucket = 65536;  // recur_serve's largest --max-batch
}  // namespace

const char* endpoint_name(Endpoint e) noexcept {
  switch (e) {
    case Endpoint::predict: return "predict";
    case Endpoint::stream_step: return "stream_step";
    case Endpoint::stream_delete: return "stream_delete";
    case Endpoint::healthz: return "healthz";
    case Endpoint::livez: return "livez";
    case Endpoint::readyz: return "readyz";
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
  sum_ += micros;
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

void PrometheusText::family(const std::string& name, const char* type, const char* help) {
  text_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void PrometheusText::sample(const std::string& name, const std::string& labels, double value) {
  text_ += name;
  if (!labels.empty()) text_ += "{" + labels + "}";
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);  // shortest form: integers stay integers
  text_ += ' ';
  text_.append(buf, r.ptr);
  text_ += '\n';
}

void Metrics::append_prometheus(PrometheusText& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out.family("recur_uptime_seconds", "gauge", "Seconds since the service started.");
  out.sample("recur_uptime_seconds", "",
             std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());

  out.family("recur_http_requests_total", "counter",
             "Responses by endpoint and HTTP status (499: the client hung up first).");
  for (int i = 0; i < kEndpointCount; ++i) {
    const std::string endpoint = std::string("endpoint=\"") + endpoint_name(static_cast<Endpoint>(i)) + "\"";
    for (const auto& [status, n] : status_counts_[static_cast<size_t>(i)]) {
      out.sample("recur_http_requests_total", endpoint + ",status=\"" + std::to_string(status) + "\"",
                 static_cast<double>(n));
    }
  }

  const std::string duration = "recur_http_request_duration_seconds";
  out.family(duration, "summary", "Server-side latency, from the request read whole to its answer ready.");
  for (int i = 0; i < kEndpointCount; ++i) {
    const LatencyHistogram& h = latency_[static_cast<size_t>(i)];
    if (h.count() == 0) continue;
    const std::string endpoint = std::string("endpoint=\"") + endpoint_name(static_cast<Endpoint>(i)) + "\"";
    for (const double q : {0.5, 0.9, 0.99}) {
      char quantile[16];
      const auto r = std::to_chars(quantile, quantile + sizeof quantile, q);
      out.sample(duration, endpoint + ",quantile=\"" + std::string(quantile, r.ptr) + "\"", h.quantile(q) * 1e-6);
    }
    out.sample(duration + "_sum", endpoint, h.sum() * 1e-6);
    out.sample(duration + "_count", endpoint, static_cast<double>(h.count()));
  }

  out.family("recur_batch_runs_total", "counter", "Model::run calls for predicts.");
  out.sample("recur_batch_runs_total", "", static_cast<double>(runs_));
  out.family("recur_batch_requests_total", "counter", "Predict requests run, summed over the runs.");
  out.sample("recur_batch_requests_total", "", static_cast<double>(batched_requests_));
  out.family("recur_batch_sequences", "histogram", "Sequences per Model::run call.");
  // The same buckets at every scrape: powers of two up to kMaxHistogramBucket, then +Inf.
  for (int64_t le = 1; le <= kMaxHistogramBucket; le *= 2) {
    uint64_t at_most = 0;
    for (auto it = sequences_per_run_.begin(); it != sequences_per_run_.end() && it->first <= le; ++it) {
      at_most += it->second;
    }
    out.sample("recur_batch_sequences_bucket", "le=\"" + std::to_string(le) + "\"", static_cast<double>(at_most));
  }
  out.sample("recur_batch_sequences_bucket", "le=\"+Inf\"", static_cast<double>(runs_));
  out.sample("recur_batch_sequences_sum", "", static_cast<double>(batched_sequences_));
  out.sample("recur_batch_sequences_count", "", static_cast<double>(runs_));
}

}  // namespace recur::service
