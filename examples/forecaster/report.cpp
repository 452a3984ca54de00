// The example's last step: compares the forecaster's 1998 predictions (y.npy from `recur run`)
// with what happened and with naive baselines, then measures the per-forecast latency of the
// same model through the C++ API (one 30-day window, batch 1, one thread, as a service would).
//   forecast_report MODEL.recur EXAMPLE_DIR PREDICTIONS.npy
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/npy.hpp"
#include "recur/model.hpp"

namespace {

struct Normalization {
  std::vector<std::string> names;
  std::vector<double> mean, std;
};

bool load_normalization(const std::string& path, Normalization& n) {
  std::ifstream in(path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("mean") || !j.contains("std") || !j.contains("indices")) return false;
  n.names = j["indices"].get<std::vector<std::string>>();
  n.mean = j["mean"].get<std::vector<double>>();
  n.std = j["std"].get<std::vector<double>>();
  return n.names.size() == n.mean.size() && n.mean.size() == n.std.size();
}

recur::npy::Array must_read(const std::string& path) {
  recur::Result<recur::npy::Array> a = recur::npy::read(path);
  if (!a.ok()) {
    std::fprintf(stderr, "forecast_report: %s\n", a.status().to_string().c_str());
    std::exit(1);
  }
  return std::move(a).value();
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s MODEL.recur EXAMPLE_DIR PREDICTIONS.npy\n", argv[0]);
    return 2;
  }
  const std::string model_path = argv[1], dir = argv[2];
  Normalization norm;
  if (!load_normalization(dir + "/normalization.json", norm)) {
    std::fprintf(stderr, "forecast_report: cannot read %s/normalization.json\n", dir.c_str());
    return 1;
  }
  const recur::npy::Array x = must_read(dir + "/test_1998.npy");       // (N, 30, K) standardized
  const recur::npy::Array actual = must_read(dir + "/actual_1998.npy"); // (N, K) standardized
  const recur::npy::Array pred = must_read(argv[3]);                    // (N, K) standardized
  const size_t K = norm.names.size();
  if (actual.shape.size() != 2 || pred.shape != actual.shape || static_cast<size_t>(actual.shape[1]) != K ||
      x.shape.size() != 3 || x.shape[0] != actual.shape[0]) {
    std::fprintf(stderr, "forecast_report: inconsistent shapes\n");
    return 1;
  }
  const size_t N = static_cast<size_t>(actual.shape[0]);
  auto real = [&](const std::vector<float>& z, size_t i, size_t k) {  // log-return
    return z[i * K + k] * norm.std[k] + norm.mean[k];
  };

  std::printf("\nLast 8 of the 1998 forecasts (# = trading day of 1998): next-day log-return, predicted vs actual, in %%\n");
  std::printf("%-6s", "#");
  for (const std::string& n : norm.names) std::printf("  %7s pred / actual", n.c_str());
  std::printf("\n");
  for (size_t i = N - 8; i < N; ++i) {
    std::printf("%-6zu", i + 1);
    for (size_t k = 0; k < K; ++k) std::printf("  %+7.3f / %+7.3f     ", 100 * real(pred.f32, i, k), 100 * real(actual.f32, i, k));
    std::printf("\n");
  }

  // RMSE of the model and of two naive forecasts: zero return (random walk) and the training mean.
  std::vector<double> se_model(K), se_zero(K), se_mean(K);
  size_t hits = 0;
  for (size_t i = 0; i < N; ++i) {
    for (size_t k = 0; k < K; ++k) {
      const double a = real(actual.f32, i, k), p = real(pred.f32, i, k);
      se_model[k] += (p - a) * (p - a);
      se_zero[k] += a * a;
      se_mean[k] += (norm.mean[k] - a) * (norm.mean[k] - a);
      hits += (p > 0) == (a > 0);
    }
  }
  auto rmse = [&](const std::vector<double>& se, size_t k) { return std::sqrt(se[k] / static_cast<double>(N)); };
  auto overall = [&](const std::vector<double>& se) {
    double s = 0;
    for (double v : se) s += v;
    return std::sqrt(s / static_cast<double>(N * K));
  };
  std::printf("\n1998 test period, %zu forecasts per index: RMSE of the daily log-return\n", N);
  std::printf("%-28s", "forecast");
  for (const std::string& n : norm.names) std::printf(" %9s", n.c_str());
  std::printf(" %9s\n", "overall");
  const struct { const char* name; const std::vector<double>* se; } rows[] = {
      {"LSTM (recur)", &se_model}, {"zero return (random walk)", &se_zero}, {"training-mean return", &se_mean}};
  for (const auto& row : rows) {
    std::printf("%-28s", row.name);
    for (size_t k = 0; k < K; ++k) std::printf(" %9.5f", rmse(*row.se, k));
    std::printf(" %9.5f\n", overall(*row.se));
  }
  std::printf("LSTM direction right on %.1f%% of forecasts. Daily returns are close to unpredictable:\n"
              "the model's edge over the naive forecasts is small and not statistically significant.\n",
              100.0 * static_cast<double>(hits) / static_cast<double>(N * K));

  // Latency of one forecast (one 30-day window) through the API, single thread.
  recur::Result<recur::Model> model = recur::Model::load(model_path);
  if (!model.ok()) {
    std::fprintf(stderr, "forecast_report: %s\n", model.status().to_string().c_str());
    return 1;
  }
  const int64_t T = x.shape[1], I = x.shape[2];
  recur::RunOptions one_thread;
  one_thread.threads = 1;
  std::vector<double> run_us;
  for (int rep = 0; rep < 3; ++rep) {
    for (size_t i = 0; i < N; ++i) {
      recur::RunInput in;
      in.x = x.f32.data() + i * static_cast<size_t>(T * I);
      in.seq_len = T;
      in.batch = 1;
      in.layout = recur::Layout::batch_first;
      const auto t0 = std::chrono::steady_clock::now();
      recur::Result<recur::RunOutput> out = model->run(in, one_thread);
      const auto t1 = std::chrono::steady_clock::now();
      if (!out.ok()) {
        std::fprintf(stderr, "forecast_report: %s\n", out.status().to_string().c_str());
        return 1;
      }
      run_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
  }
  std::printf("\nlatency per forecast (30 steps x 2 LSTM layers H=64 + head, batch 1, 1 thread, ISA %s):\n"
              "  p50 %.1f us   p99 %.1f us   over %zu runs\n",
              recur::isa_name(model->isa()), percentile(run_us, 0.5), percentile(run_us, 0.99), run_us.size());
  return 0;
}
