// `recur bench MODEL.recur [--batch 1,8,64] [--threads 1,2] [--seq-len 50] [--json out.json]`:
// times Model::run on random input for each batch size and thread count and prints a table of
// latency per call (median and p90 over repetitions), sequences per second and GFLOP/s (the
// recurrent layers' matrix products); --json writes the same rows. For side-by-side ratios
// against oneDNN on standard shapes, use bench/recur_bench (bench/report.sh).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "recur/model.hpp"
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

struct Options {
  std::string path, json_path;
  std::vector<int64_t> batches{1, 8, 64};
  std::vector<int> threads{1, 0};
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
  std::printf("%s: ISA %s, %s recurrent weights, %zu recurrent layer(s), %.1f MFLOP per step per sequence, T=%lld\n",
              o.path.c_str(), isa_name(model->isa()), weight_format_name(o.load.recurrent_weights),
              model->config().layers.size(), step_flops / 1e6, static_cast<long long>(o.seq_len));
  std::printf("%6s %8s %12s %12s %14s %10s\n", "batch", "threads", "median", "p90", "sequences/s", "GFLOP/s");
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
      const std::string t = threads == 0 ? "all" : std::to_string(threads);
      std::printf("%6lld %8s %10.1f us %10.1f us %14.0f %10.1f\n", static_cast<long long>(B), t.c_str(),
                  median * 1e6, p90 * 1e6, seq_per_s, gflops);
      rows.push_back({{"batch", B}, {"threads", threads}, {"seq_len", o.seq_len}, {"median_us", median * 1e6},
                      {"p90_us", p90 * 1e6}, {"sequences_per_s", seq_per_s}, {"gflops", gflops},
                      {"repetitions", seconds.size()}});
    }
  }
  if (!o.json_path.empty()) {
    nlohmann::json doc = {{"model", o.path},
                          {"isa", isa_name(model->isa())},
                          {"recurrent_weights", weight_format_name(o.load.recurrent_weights)},
                          {"rows", rows}};
    std::ofstream f(o.json_path);
    f << doc.dump(2) << "\n";
    if (!f) {
      std::fprintf(stderr, "recur bench: io: %s: cannot write\n", o.json_path.c_str());
      return 1;
    }
  }
  return 0;
}

const Command bench_command("bench", "Time Model::run over batch sizes and thread counts", [](CLI::App& sub) {
  auto o = std::make_shared<Options>();
  sub.add_option("model", o->path, "The .recur model")->required();
  sub.add_option("--batch", o->batches, "Batch sizes")->delimiter(',');
  sub.add_option("--threads", o->threads, "Thread counts (0 = all CPUs available)")->delimiter(',');
  sub.add_option("--seq-len", o->seq_len, "Time steps per sequence");
  sub.add_option("--min-time", o->min_seconds, "Seconds to spend per row (at least 3 runs)");
  sub.add_option("--json", o->json_path, "Also write the rows as JSON");
  add_load_options(sub, o->load);
  return [o]() { return bench(*o); };
});

}  // namespace
}  // namespace recur::cli
