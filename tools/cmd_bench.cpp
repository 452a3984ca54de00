// `recur bench MODEL.recur [--batch 1,8,64] [--threads 1,2] [--seq-len 50] [--json[=OUT]]`:
// times Model::run on random input for each batch size and thread count and prints a table of
// latency per call (median and p90 over repetitions), sequences per second and GFLOP/s (the
// recurrent layers' matrix products); --json writes the same rows, with the thread count each
// resolved to, the CPU and recur's version. For side-by-side ratios
// against oneDNN on standard shapes, use bench/recur_bench (bench/report.sh).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "recur/model.hpp"
#include "recur/recur.h"
#include "tools/command.hpp"

namespace recur::cli {
namespace {

// Multiply-adds x 2 of one sequence step over all recurrent layers and the head.
double flops_per_step(const ModelConfig& spec) {
  double f = 0;
  for (const LayerConfig& l : spec.layers) {
    const double gh = static_cast<double>(gate_count(l.cell) * l.hidden_size);
    double per_dir = 2.0 * gh * static_cast<double>(l.input_size + l.output_size());
    if (l.proj_size > 0) per_dir += 2.0 * static_cast<double>(l.proj_size * l.hidden_size);
    f += per_dir * direction_count(l.direction);
  }
  if (spec.head) f += 2.0 * static_cast<double>(spec.head->input_size * spec.head->output_size);
  return f;
}

// "model name" of /proc/cpuinfo's first processor ("" when unreadable).
std::string cpu_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
  }
  return "";
}

// 1 and every available CPU (just 1 on a one-CPU machine).
std::vector<int> default_threads() {
  const int n = available_cpus();
  return n > 1 ? std::vector<int>{1, n} : std::vector<int>{1};
}

struct Options {
  std::string path, json_path;
  std::vector<int64_t> batches{1, 8, 64};
  std::vector<int> threads = default_threads();
  int64_t seq_len = 50;
  double min_seconds = 0.5;  // per row
  LoadOptions load;
};

int bench(const Options& o) {
  Result<Model> model = Model::load(o.path, o.load);
  if (!model.ok()) {
    std::fprintf(stderr, "recur bench: %s\n", model.status().to_string().c_str());
    return 1;
  }
  if (o.seq_len <= 0 || o.seq_len > 100000) {
    std::fprintf(stderr, "recur bench: invalid_argument: --seq-len %lld is outside 1..100000\n",
                 static_cast<long long>(o.seq_len));
    return 1;
  }
  const double step_flops = flops_per_step(model->config());
  std::fprintf(json_to_stdout(o.json_path) ? stderr : stdout, "%s: ISA %s, precision %s, %s recurrent weights, %zu recurrent layer(s), %.1f MFLOP per step per sequence, T=%lld\n",
              o.path.c_str(), isa_name(model->isa()), precision_name(o.load.precision), weight_format_name(o.load.recurrent_weights),
              model->config().layers.size(), step_flops / 1e6, static_cast<long long>(o.seq_len));
  // With the JSON on stdout, the table goes to stderr.
  FILE* text = json_to_stdout(o.json_path) ? stderr : stdout;
  std::fprintf(text, "%6s %8s %12s %12s %14s %10s\n", "batch", "threads", "median", "p90", "sequences/s", "GFLOP/s");
  nlohmann::json rows = nlohmann::json::array();
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t B : o.batches) {
    if (B <= 0 || B > 65536) {
      std::fprintf(stderr, "recur bench: invalid_argument: batch %lld is outside 1..65536\n", static_cast<long long>(B));
      return 1;
    }
    std::vector<float> x(static_cast<size_t>(o.seq_len * B * model->input_size()));
    for (float& v : x) v = dist(rng);
    for (int threads : o.threads) {
      RunInput in;
      in.x = x.data();
      in.seq_len = o.seq_len;
      in.batch = B;
      RunOptions ro;
      ro.threads = threads;
      std::vector<double> seconds;
      const auto start = std::chrono::steady_clock::now();
      for (int rep = 0; rep < 3 || (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
                                    o.min_seconds && rep < 100000); ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        Result<RunOutput> out = model->run(in, ro);
        const auto t1 = std::chrono::steady_clock::now();
        if (!out.ok()) {
          std::fprintf(stderr, "recur bench: %s\n", out.status().to_string().c_str());
          return 1;
        }
        if (rep > 0) seconds.push_back(std::chrono::duration<double>(t1 - t0).count());  // first is warm-up
      }
      std::sort(seconds.begin(), seconds.end());
      const double median = seconds[seconds.size() / 2], p90 = seconds[seconds.size() * 9 / 10];
      const double gflops = step_flops * static_cast<double>(o.seq_len * B) / median / 1e9;
      const double seq_per_s = static_cast<double>(B) / median;
      const int resolved = resolved_threads(ro);
      std::fprintf(text, "%6lld %8d %10.1f us %10.1f us %14.0f %10.1f\n", static_cast<long long>(B), resolved,
                   median * 1e6, p90 * 1e6, seq_per_s, gflops);
      rows.push_back({{"batch", B}, {"threads", threads}, {"threads_resolved", resolved}, {"seq_len", o.seq_len},
                      {"median_us", median * 1e6},
                      {"p90_us", p90 * 1e6}, {"sequences_per_s", seq_per_s}, {"gflops", gflops},
                      {"repetitions", seconds.size()}});
    }
  }
  if (!o.json_path.empty()) {
    nlohmann::json doc = {{"model", o.path},
                          {"recur_version", recur_version()},
                          {"cpu", cpu_name()},
                          {"cpus_available", available_cpus()},
                          {"isa", isa_name(model->isa())},
                          {"recurrent_weights", weight_format_name(o.load.recurrent_weights)},
                          {"precision", precision_name(o.load.precision)},
                          {"rows", rows}};
    if (!write_json(o.json_path, doc, "bench")) return 1;
  }
  return 0;
}

const Command bench_command("bench", "Time Model::run over batch sizes and thread counts", [](CLI::App& sub) {
  auto o = std::make_shared<Options>();
  sub.add_option("model", o->path, "The .recur model")->required();
  sub.add_option("--batch", o->batches, "Batch sizes")->delimiter(',');
  sub.add_option("--threads", o->threads,
                 "Thread counts (default: 1 and the CPUs available; 0 = RECUR_NUM_THREADS, else "
                 "OMP_NUM_THREADS, else 1)")
      ->delimiter(',')
      ->check(CLI::Range(0, 1024));
  sub.add_option("--seq-len", o->seq_len, "Time steps per sequence");
  sub.add_option("--min-time", o->min_seconds, "Seconds to spend per row (at least 3 runs)");
  add_json_flag(sub, o->json_path, "The rows, thread counts, CPU and version");
  add_load_options(sub, o->load);
  return [o]() { return bench(*o); };
});

}  // namespace
}  // namespace recur::cli
