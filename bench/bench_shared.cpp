// recur_bench_shared: recur on a shared machine. Runs `step` and `run` beside a busy competitor
// (one spinning thread per available CPU, bounded in time) and reports, per case, the latency
// of 1 and 2 threads measured in alternation in the same run, and the slowdown of 2 threads
// against 1. Also the same cases on a quiet machine, for reference. Not Google Benchmark: the
// point is the distribution under interference, measured call by call.
//
//   recur_bench_shared [--seconds S] [--json FILE] [--no-quiet]
//
// The figures to read: `slowdown p50` (and p90), 2 threads against 1 in the same run, and
// `paired p50`, the median ratio of adjacent calls. Above 1.5 (p50, beside the competitor) the
// run says so on stderr and exits 1.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_common.hpp"
#include "recur/model.hpp"
#include "recur/recur.h"

namespace recur::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// One busy thread per CPU until stop() or `limit` seconds, whichever comes first: a process
// killed halfway leaves no spinning thread behind it for longer than the limit.
class Competitor {
 public:
  Competitor(int threads, double limit) {
    const Clock::time_point t0 = Clock::now();
    for (int i = 0; i < threads; ++i) {
      workers_.emplace_back([this, t0, limit] {
        volatile uint64_t sink = 0;
        while (!stop_.load(std::memory_order_relaxed) && seconds_since(t0) < limit) {
          for (int k = 0; k < 10000; ++k) sink = sink + static_cast<uint64_t>(k);
        }
      });
    }
  }
  ~Competitor() { stop(); }
  void stop() {
    stop_.store(true);
    for (std::thread& t : workers_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
};

struct Case {
  std::string name;  // "step lstm H=256 B=1"
  bool stepping;     // step() T times, else one run()
  int64_t I, H, T, B;
};

struct Latencies {
  std::vector<double> us;  // per call (a run, or T steps)
  double quantile(double q) const {
    if (us.empty()) return 0.0;
    std::vector<double> v = us;
    const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * double(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
  }
};

class Runner {
 public:
  explicit Runner(const Case& c)
      : c_(c),
        model_(Model::from_spec(one_layer_spec(CellType::lstm, c.I, c.H, 0.1f)).value()),
        x_(random_floats(static_cast<size_t>(c.T * c.B * c.I), 7, 1.0f)),
        y_(static_cast<size_t>(c.B * model_.output_size())),
        state_(model_.new_state(c.B).value()) {}

  // One measured call with `threads`, in microseconds.
  double once(int threads) {
    RunOptions o;
    o.threads = threads;
    const Clock::time_point t0 = Clock::now();
    if (c_.stepping) {
      for (int64_t t = 0; t < c_.T; ++t) {
        if (!model_.step(state_, x_.data() + t * c_.B * c_.I, y_.data(), o).ok()) std::abort();
      }
    } else {
      RunInput in{x_.data(), c_.T, c_.B};
      if (!model_.run(in, o).ok()) std::abort();
    }
    return seconds_since(t0) * 1e6;
  }

 private:
  Case c_;
  Model model_;
  std::vector<float> x_, y_;
  State state_;
};

struct Result {
  std::string name;
  bool busy;
  Latencies one, two;
  double slowdown(double q) const {
    const double a = one.quantile(q);
    return a > 0 ? two.quantile(q) / a : 0.0;
  }
  // The median of two/one over adjacent pairs of calls: each pair saw about the same machine,
  // so this holds up best when other load comes and goes.
  double paired() const {
    Latencies ratios;
    for (size_t i = 0; i < one.us.size() && i < two.us.size(); ++i) ratios.us.push_back(two.us[i] / one.us[i]);
    return ratios.quantile(0.5);
  }
};

// 1 and 2 threads alternately for `seconds` (at least 5 calls each).
Result measure(const Case& c, bool busy, double seconds) {
  Runner r(c);
  r.once(1);  // warm caches, pages, the thread pool
  r.once(2);
  Result out{c.name, busy, {}, {}};
  const Clock::time_point t0 = Clock::now();
  while (seconds_since(t0) < seconds || out.one.us.size() < 5) {
    out.one.us.push_back(r.once(1));
    out.two.us.push_back(r.once(2));
  }
  return out;
}

std::string fmt(double us) {
  char b[32];
  if (us >= 1000) {
    std::snprintf(b, sizeof b, "%.2f ms", us / 1000);
  } else {
    std::snprintf(b, sizeof b, "%.1f us", us);
  }
  return b;
}

}  // namespace
}  // namespace recur::bench

int main(int argc, char** argv) {
  using namespace recur::bench;
  double seconds = 3.0;
  const char* json = nullptr;
  bool quiet = true;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--json") && i + 1 < argc) {
      json = argv[++i];
    } else if (!std::strcmp(argv[i], "--no-quiet")) {
      quiet = false;
    } else {
      std::fprintf(stderr, "usage: recur_bench_shared [--seconds S] [--json FILE] [--no-quiet]\n");
      return 2;
    }
  }
  if (!(seconds > 0 && seconds <= 600)) {
    std::fprintf(stderr, "recur_bench_shared: --seconds wants a number in (0, 600]\n");
    return 2;
  }
  const std::vector<Case> cases = {
      {"step lstm I=64 H=256 B=1 (100 steps)", true, 64, 256, 100, 1},
      {"step lstm I=256 H=1024 B=1 (10 steps)", true, 256, 1024, 10, 1},
      {"run lstm I=64 H=256 T=100 B=8", false, 64, 256, 100, 8},
      {"run lstm I=256 H=512 T=50 B=64", false, 256, 512, 50, 64},
  };
  const int cpus = recur::available_cpus();
  std::printf("recur %s, %d CPUs available, competitor: %d busy threads; %.1f s per case and load\n",
              recur_version(), cpus, cpus, seconds);
  std::vector<Result> results;
  for (const Case& c : cases) {
    if (quiet) results.push_back(measure(c, false, seconds));
    Competitor busy(cpus, seconds * 4 + 10);
    results.push_back(measure(c, true, seconds));
  }
  std::printf("\n| case | machine | 1 thread p50 | 2 threads p50 | slowdown p50 | 1 thread p90 | 2 threads p90 | slowdown p90 | paired p50 |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  double worst = 0;
  for (const Result& r : results) {
    std::printf("| %s | %s | %s | %s | %.2fx | %s | %s | %.2fx | %.2fx |\n", r.name.c_str(),
                r.busy ? "busy" : "quiet", fmt(r.one.quantile(0.5)).c_str(),
                fmt(r.two.quantile(0.5)).c_str(), r.slowdown(0.5), fmt(r.one.quantile(0.9)).c_str(),
                fmt(r.two.quantile(0.9)).c_str(), r.slowdown(0.9), r.paired());
    if (r.busy) worst = std::max(worst, r.slowdown(0.5));
  }
  if (json) {
    std::ofstream f(json);
    f << "{\"version\": \"" << recur_version() << "\", \"cpus\": " << cpus << ", \"cases\": [";
    for (size_t i = 0; i < results.size(); ++i) {
      const Result& r = results[i];
      f << (i ? ", " : "") << "{\"case\": \"" << r.name << "\", \"busy\": " << (r.busy ? "true" : "false")
        << ", \"one_p50_us\": " << r.one.quantile(0.5) << ", \"two_p50_us\": " << r.two.quantile(0.5)
        << ", \"one_p90_us\": " << r.one.quantile(0.9) << ", \"two_p90_us\": " << r.two.quantile(0.9)
        << ", \"paired_p50\": " << r.paired() << ", \"calls\": " << r.one.us.size() << "}";
    }
    f << "]}\n";
  }
  if (worst > 1.5) {
    std::fprintf(stderr, "recur_bench_shared: 2 threads %.2fx slower than 1 beside the competitor (limit 1.5x)\n", worst);
    return 1;
  }
  return 0;
}
