// recur_loadgen: a closed-loop load generator for recur_serve, loopback only. For each client
// count, C threads each keep one keep-alive connection to 127.0.0.1:PORT and send the next
// request as soon as the previous answer arrives, until --requests answers or --max-seconds
// have passed. Prints requests/s and client-side p50/p99 latency per client count.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kLoopback = "127.0.0.1";  // the only address this tool ever contacts

std::string random_floats(std::mt19937& rng, int64_t n) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::ostringstream s;
  s << '[';
  for (int64_t i = 0; i < n; ++i) s << (i ? "," : "") << dist(rng);
  s << ']';
  return s.str();
}

// {"inputs": (B, T, I) random values}
std::string predict_body(std::mt19937& rng, int64_t B, int64_t T, int64_t I) {
  std::string body = "{\"inputs\":[";
  for (int64_t b = 0; b < B; ++b) {
    body += b ? ",[" : "[";
    for (int64_t t = 0; t < T; ++t) body += (t ? "," : "") + random_floats(rng, I);
    body += ']';
  }
  return body + "]}";
}

struct Level {
  int clients = 0;
  int64_t ok = 0, errors = 0;
  double seconds = 0, p50_us = 0, p99_us = 0;
};

std::unique_ptr<httplib::Client> connect(int port) {
  auto c = std::make_unique<httplib::Client>(kLoopback, port);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  c->set_connection_timeout(5);
  c->set_read_timeout(30);
  c->set_write_timeout(30);
  return c;
}

Level run_level(int port, int clients, const std::string& mode, int64_t requests, double max_seconds,
                int64_t B, int64_t T, int64_t I) {
  std::vector<std::unique_ptr<httplib::Client>> conns;
  std::vector<std::vector<std::string>> bodies(static_cast<size_t>(clients));
  std::mt19937 rng(1234);
  constexpr int kBodiesPerClient = 4;
  for (int c = 0; c < clients; ++c) {
    conns.push_back(connect(port));
    for (int k = 0; k < kBodiesPerClient; ++k) {
      bodies[static_cast<size_t>(c)].push_back(
          mode == "predict" ? predict_body(rng, B, T, I) : "{\"x\":" + random_floats(rng, I) + "}");
    }
  }
  auto path_for = [&](int c) {
    return mode == "predict" ? std::string("/v1/predict")
                             : "/v1/streams/loadgen-" + std::to_string(c) + "/step";
  };
  // Warm-up: open every connection (one request each, not counted).
  for (int c = 0; c < clients; ++c) {
    auto r = conns[static_cast<size_t>(c)]->Post(path_for(c), bodies[static_cast<size_t>(c)][0], "application/json");
    if (!r || r->status != 200) {
      std::fprintf(stderr, "recur_loadgen: warm-up request failed (%s)\n",
                   r ? (std::to_string(r->status) + " " + r->body).c_str() : httplib::to_string(r.error()).c_str());
      std::exit(1);
    }
  }

  std::atomic<int64_t> issued{0};
  std::vector<std::vector<double>> latencies(static_cast<size_t>(clients));
  std::vector<int64_t> errors(static_cast<size_t>(clients), 0);
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(max_seconds));
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client& conn = *conns[static_cast<size_t>(c)];
      const std::string path = path_for(c);
      auto& lat = latencies[static_cast<size_t>(c)];
      for (int64_t k = 0; issued.fetch_add(1) < requests && Clock::now() < deadline; ++k) {
        const std::string& body = bodies[static_cast<size_t>(c)][static_cast<size_t>(k % kBodiesPerClient)];
        const Clock::time_point t0 = Clock::now();
        auto r = conn.Post(path, body, "application/json");
        const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
        if (r && r->status == 200) {
          lat.push_back(us);
        } else {
          ++errors[static_cast<size_t>(c)];
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (mode == "stream") {
    for (int c = 0; c < clients; ++c) conns[static_cast<size_t>(c)]->Delete(path_for(c).substr(0, path_for(c).size() - 5));
  }

  std::vector<double> all;
  Level level;
  level.clients = clients;
  level.seconds = seconds;
  for (int c = 0; c < clients; ++c) {
    all.insert(all.end(), latencies[static_cast<size_t>(c)].begin(), latencies[static_cast<size_t>(c)].end());
    level.errors += errors[static_cast<size_t>(c)];
  }
  level.ok = static_cast<int64_t>(all.size());
  std::sort(all.begin(), all.end());
  auto pct = [&](double q) {
    if (all.empty()) return 0.0;
    const size_t i = std::min(all.size() - 1, static_cast<size_t>(q * static_cast<double>(all.size())));
    return all[i];
  };
  level.p50_us = pct(0.50);
  level.p99_us = pct(0.99);
  return level;
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoi(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"recur_loadgen: closed-loop load on a recur_serve at 127.0.0.1 (loopback only)"};
  int port = 0;
  std::string clients_list = "1,8,64";
  std::string mode = "predict";
  int64_t requests = 2000, batch = 1, seq_len = 30;
  double max_seconds = 10.0;
  std::string label;
  app.add_option("--port", port, "the server's port on 127.0.0.1")->required()->check(CLI::Range(1, 65535));
  app.add_option("--clients", clients_list, "comma-separated concurrent client counts");
  app.add_option("--mode", mode, "predict (whole sequences) or stream (one step per request)")
      ->check(CLI::IsMember({"predict", "stream"}));
  app.add_option("--requests", requests, "requests per client count (upper bound)")
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}));
  app.add_option("--max-seconds", max_seconds, "time limit per client count")->check(CLI::Range(0.1, 600.0));
  app.add_option("--batch", batch, "sequences per predict request (B)")->check(CLI::Range(int64_t{1}, int64_t{4096}));
  app.add_option("--seq-len", seq_len, "steps per sequence (T)")->check(CLI::Range(int64_t{1}, int64_t{100000}));
  app.add_option("--label", label, "a name for this run in the table (e.g. batching on)");
  CLI11_PARSE(app, argc, argv);

  std::vector<int> levels;
  try {
    levels = parse_list(clients_list);
  } catch (const std::exception&) {
    std::fprintf(stderr, "recur_loadgen: --clients must be integers like 1,8,64\n");
    return 2;
  }
  for (int c : levels) {
    if (c < 1 || c > 1024) {
      std::fprintf(stderr, "recur_loadgen: client counts must be in 1..1024\n");
      return 2;
    }
  }

  // The model's input size from /healthz.
  auto probe = connect(port);
  auto health = probe->Get("/healthz");
  if (!health || health->status != 200) {
    std::fprintf(stderr, "recur_loadgen: no recur_serve answering on %s:%d\n", kLoopback, port);
    return 1;
  }
  const auto info = nlohmann::json::parse(health->body, nullptr, false);
  if (info.is_discarded() || !info.contains("model")) {
    std::fprintf(stderr, "recur_loadgen: /healthz did not return the model description\n");
    return 1;
  }
  const int64_t I = info["model"].value("input_size", int64_t{0});

  std::printf("| %s | clients | requests | errors | req/s | p50 (us) | p99 (us) |\n", label.empty() ? "run" : "run");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (int clients : levels) {
    const Level l = run_level(port, clients, mode, requests, max_seconds, batch, seq_len, I);
    std::printf("| %s | %d | %lld | %lld | %.0f | %.0f | %.0f |\n", label.empty() ? mode.c_str() : label.c_str(),
                l.clients, static_cast<long long>(l.ok), static_cast<long long>(l.errors),
                static_cast<double>(l.ok) / l.seconds, l.p50_us, l.p99_us);
    std::fflush(stdout);
  }
  return 0;
}
