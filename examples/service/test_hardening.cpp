// The service against hostile and careless clients, each test the attack that once hurt it:
// chunked bodies past the limit and oversized headers, bodies that would have built a JSON
// tree hundreds of times their size, requests asking for unbounded work or answers, clients
// that hang up while queued, connections dripping a byte at a time, SIGTERM with a dripping
// client; and what operators expect (Prometheus /metrics, /livez, /readyz, an access log,
// 405 with Allow). Loopback only; every wait is bounded.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "batcher.hpp"
#include "json_codec.hpp"
#include "test_support.hpp"

extern char** environ;

using namespace service_test;
using Clock = std::chrono::steady_clock;

// Bytes allocated through operator new while `tracking` is on: now and at the peak.
namespace {
std::atomic<bool> tracking{false};
std::atomic<int64_t> live_bytes{0}, peak_bytes{0};
constexpr size_t kHeader = alignof(std::max_align_t);  // keeps the caller's block aligned

void* counted_alloc(size_t n) {
  void* p = std::malloc(n + kHeader);
  if (!p) return nullptr;
  *static_cast<size_t*>(p) = n;
  if (tracking.load(std::memory_order_relaxed)) {
    const int64_t now = live_bytes += static_cast<int64_t>(n);
    int64_t peak = peak_bytes.load();
    while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
    }
  }
  return static_cast<char*>(p) + kHeader;
}
void counted_free(void* q) noexcept {
  if (!q) return;
  void* p = static_cast<char*>(q) - kHeader;
  if (tracking.load(std::memory_order_relaxed)) live_bytes -= static_cast<int64_t>(*static_cast<size_t*>(p));
  std::free(p);
}
}  // namespace

void* operator new(size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, size_t) noexcept { counted_free(p); }
void operator delete[](void* p, size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }

namespace {

// The most bytes `f` had allocated at once, beyond what was live when it started.
template <class F>
int64_t peak_allocation(F f) {
  live_bytes = 0;
  peak_bytes = 0;
  tracking = true;
  f();
  tracking = false;
  return peak_bytes.load();
}

// A raw TCP connection to 127.0.0.1, for what an HTTP client library would not send.
class Raw {
 public:
  explicit Raw(int port, int receive_timeout_s = 10) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{receive_timeout_s, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Raw() { close(); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;

  bool connected() const { return connected_; }
  bool send(const std::string& s) {
    for (size_t off = 0; off < s.size();) {
      const ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Everything until the server closes (or the receive timeout).
  std::string read_all() {
    std::string out;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Whether the server has closed the connection within `ms` (reading what it sent).
  bool closed_within(int ms) {
    const auto until = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        char buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN)) return true;
        if (n > 0) received_.append(buf, static_cast<size_t>(n));
      }
    }
    return false;
  }
  const std::string& received() const { return received_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string received_;
};

// The status code of a raw response ("HTTP/1.1 413 ..."), or 0.
int status_of(const std::string& response) {
  if (response.compare(0, 5, "HTTP/") != 0 || response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

// "POST /v1/predict" with `body` sent in chunks of `chunk` bytes (Transfer-Encoding: chunked).
std::string chunked_predict(const std::string& body, size_t chunk) {
  char size[32];
  std::string out = "POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  for (size_t off = 0; off < body.size(); off += chunk) {
    const size_t n = std::min(chunk, body.size() - off);
    std::snprintf(size, sizeof size, "%zx\r\n", n);
    out += size + body.substr(off, n) + "\r\n";
  }
  return out + "0\r\n\r\n";
}

std::string predict_text(const std::vector<float>& x, int64_t B, int64_t T, int64_t I, bool return_state = false) {
  json body = inputs_json(x, B, T, I);
  if (return_state) body["return_state"] = true;
  return body.dump();
}

json metrics_json(const TestServer& s) {
  auto r = s.client()->Get("/metrics.json");
  REQUIRE(r);
  return json::parse(r->body);
}

}  // namespace

TEST_CASE("request bodies and headers are bounded: chunked bodies, header bytes and fields (defect 8)") {
  TestServer s(recur::test::random_spec(lstm_options()), "hard_bodies", options());  // 64 KiB bodies
  const std::string good = predict_text(recur::test::random_values(2 * 3 * 5, 5), 2, 3, 5);
  {
    Raw c(s.port);
    REQUIRE(c.send(chunked_predict(good, 7)));
    const std::string r = c.read_all();
    CHECK_MESSAGE(status_of(r) == 200, r);
  }
  {
    // Valid JSON, 100 KiB of it whitespace: the limit counts the decoded body, chunked or not.
    std::string padded = good;
    padded.insert(1, std::string(100 << 10, ' '));
    Raw c(s.port);
    c.send(chunked_predict(padded, 4096));
    const std::string r = c.read_all();
    CHECK_MESSAGE(status_of(r) == 413, r.substr(0, 200));
    CHECK(r.find("the body is larger than the limit of 65536 bytes") != std::string::npos);
  }
  auto header_request = [&](const std::string& fields) {
    Raw c(s.port);
    c.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields + "\r\n");
    return c.read_all();
  };
  std::string many;
  for (int i = 0; i < 150; ++i) many += "X-F" + std::to_string(i) + ": v\r\n";
  const std::string r1 = header_request(many);
  CHECK_MESSAGE(status_of(r1) == 431, r1.substr(0, 200));
  CHECK(r1.find("more than 100 header fields") != std::string::npos);
  std::string lines;
  for (int i = 0; i < 2000; ++i) lines += "X-Line-" + std::to_string(i) + ": some value\r\n";
  const std::string r2 = header_request(lines);
  CHECK_MESSAGE(status_of(r2) == 431, r2.substr(0, 200));
  const std::string r3 = header_request("X-Big: " + std::string(20 << 10, 'a') + "\r\n");
  CHECK_MESSAGE(status_of(r3) == 431, r3.substr(0, 200));

  const json m = metrics_json(s);
  CHECK(m["requests"]["predict"]["413"].get<int>() == 1);
  CHECK(m["requests"]["healthz"]["431"].get<int>() == 3);
  predict_and_check(*s.client(), s.ref, recur::test::random_values(1 * 2 * 5, 6), 1, 2);
}

TEST_CASE("parsing takes a small multiple of the body, never a JSON tree (defect 8)") {
  constexpr size_t kBody = 1u << 20;  // the ratio is what counts (the default limit is 4 MiB)
  struct Case {
    const char* what;
    std::string body;
    int64_t input_size;
    bool ok;
  };
  std::vector<Case> cases;
  cases.push_back({"a body of '['", std::string(kBody, '['), 5, false});
  cases.push_back({"inputs nested a million deep", "{\"inputs\":" + std::string(kBody, '['), 5, false});
  std::string rows = "{\"inputs\":[[[0]";
  while (rows.size() < kBody) rows += ",[0]";
  cases.push_back({"250,000 one-value rows", rows + "]]}", 1, true});
  std::string wide = "{\"inputs\":[[[0";
  int64_t n = 1;
  for (; wide.size() < kBody; ++n) wide += ",0";
  cases.push_back({"one row of 500,000 values", wide + "]]]}", n, true});
  std::string ragged = "{\"inputs\":[[[0,0,0,0,0]]";
  while (ragged.size() < kBody) ragged += ",[]";
  cases.push_back({"250,000 empty sequences", ragged + "]}", 5, false});
  for (const Case& c : cases) {
    INFO(c.what);
    recur::service::PredictRequest out;
    recur::Status status;
    const int64_t peak = peak_allocation([&] { status = recur::service::parse_predict(c.body, c.input_size, out); });
    CHECK_MESSAGE(status.ok() == c.ok, status.to_string());
    // The floats (4 bytes per 2 body bytes at most) while their vector grows, the lexer's token.
    CHECK_MESSAGE(peak <= static_cast<int64_t>(4 * c.body.size()), peak << " bytes for a body of " << c.body.size());
  }
}

TEST_CASE("a predict is bounded in work and answer size: 422 naming the limit (defect 9)") {
  ServiceOptions o = options();
  o.max_work = 5000;               // width 28 (4 gates x H=7): B*T up to 178
  o.max_response_bytes = 20000;    // 18 bytes per value: ~1100 values
  TestServer s(recur::test::random_spec(lstm_options()), "hard_work", o);
  auto cli = s.client();
  auto post = [&](int64_t B, int64_t T, bool state) {
    return cli->Post("/v1/predict", predict_text(recur::test::random_values(B * T * 5, 7), B, T, 5, state),
                     "application/json");
  };
  predict_and_check(*cli, s.ref, recur::test::random_values(10 * 10 * 5, 8), 10, 10);
  auto too_much = post(20, 10, false);
  expect_error(too_much, 422, "B*T*width 5600");
  CHECK(too_much->body.find("--max-work") != std::string::npos);
  // 150 sequences: y is 450 values, the state 150 * 2 layers * (7 + 7) = 4200 more.
  CHECK(post(150, 1, false)->status == 200);
  auto big_answer = post(150, 1, true);
  expect_error(big_answer, 422, "answer with the state");
  CHECK(big_answer->body.find("--max-response-mib") != std::string::npos);
}

TEST_CASE("work for a client that hung up is dropped, not run (defect 9)") {
  // The batcher: a request whose client is gone is taken out of the queue unrun.
  const Model model = write_and_load(recur::test::random_spec(lstm_options()), "hard_cancel");
  recur::service::Metrics metrics;
  recur::service::BatcherOptions bo;
  bo.workers = 1;
  recur::service::MicroBatcher batcher(model, bo, metrics);
  recur::service::PredictRequest request;
  request.batch = 1;
  request.seq_len = 3;
  request.x = recur::test::random_values(3 * 5, 9);
  std::atomic<bool> gone{true};
  {
    auto arrival = batcher.announce();
    CHECK(batcher.predict(request, arrival, &gone).http_status == recur::service::kClientClosed);
  }
  CHECK(metrics.to_json()["batches"]["runs"].get<int>() == 0);
  gone = false;
  {
    auto arrival = batcher.announce();
    CHECK(batcher.predict(request, arrival, &gone).http_status == 200);
  }
  CHECK(metrics.to_json()["batches"]["runs"].get<int>() == 1);

  // End to end: one handler thread busy with a long predict; the next one's client hangs up
  // while it waits, so it is never run.
  recur::test::SpecOptions big = lstm_options();
  big.input_size = 4;
  big.hidden_size = 256;
  big.num_layers = 1;
  big.head_size = 1;  // a small answer: the work is in the layer
  ServiceOptions o = options();
  o.batching = false;
  o.http.handler_threads = 1;
  o.http.max_body_bytes = 4 << 20;
  TestServer s(recur::test::random_spec(big), "hard_hangup", o);
  constexpr int64_t B = 16, T = 1000;  // ~8.5 GFLOP: far longer than the hang-up takes to see
  const std::string body = predict_text(recur::test::random_values(B * T * 4, 10), B, T, 4);
  const std::string request_text = "POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                   "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  Raw first(s.port, 60), second(s.port);
  REQUIRE(first.send(request_text));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // first holds the handler thread
  REQUIRE(second.send(request_text));
  second.close();
  const std::string answer = first.read_all();
  CHECK(status_of(answer) == 200);
  json m;
  for (int i = 0; i < 100; ++i) {  // the drop is counted when the handler gets to it
    m = metrics_json(s);
    if (m["requests"]["predict"].contains("499")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(m["requests"]["predict"]["499"].get<int>() == 1);
  CHECK(m["batches"]["runs"].get<int>() == 1);
}

TEST_CASE("slow clients hold no thread: probes and predicts are answered while 128 connections drip (defect 10)") {
  ServiceOptions o = options();
  o.http.handler_threads = 2;
  o.http.read_timeout = std::chrono::milliseconds(1500);
  TestServer s(recur::test::random_spec(lstm_options()), "hard_drip", o);
  constexpr int kDrippers = 128;
  std::vector<std::unique_ptr<Raw>> drippers;
  for (int i = 0; i < kDrippers; ++i) {
    drippers.push_back(std::make_unique<Raw>(s.port));
    REQUIRE(drippers.back()->connected());
    drippers.back()->send("POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
  }
  std::atomic<bool> dripping{true};
  std::thread drip([&] {
    while (dripping) {
      for (auto& d : drippers) d->send("a");
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  {
    auto cli = s.client();
    cli->set_read_timeout(2);
    const auto t0 = Clock::now();
    auto h = cli->Get("/healthz");
    REQUIRE_MESSAGE(h, "no answer to /healthz during the drip: " << httplib::to_string(h.error()));
    CHECK(h->status == 200);
    CHECK(cli->Get("/livez")->status == 200);
    predict_and_check(*cli, s.ref, recur::test::random_values(1 * 3 * 5, 11), 1, 3);
    CHECK(Clock::now() - t0 < std::chrono::seconds(1));
  }
  // Past the read timeout every dripper gets 408 and is closed, still dripping.
  int answered = 0;
  for (auto& d : drippers) {
    if (d->closed_within(3000) && status_of(d->received()) == 408) ++answered;
  }
  dripping = false;
  drip.join();
  CHECK(answered == kDrippers);
  const json m = metrics_json(s);
  CHECK(m["connections"]["timed_out"].get<int>() >= kDrippers);
  CHECK(m["requests"]["predict"]["408"].get<int>() == kDrippers);
}

TEST_CASE("connections beyond --max-connections get 503 and are closed; the limit frees as they go (defect 10)") {
  ServiceOptions o = options();
  o.http.max_connections = 8;
  TestServer s(recur::test::random_spec(lstm_options()), "hard_conns", o);
  std::vector<std::unique_ptr<Raw>> idle;
  for (int i = 0; i < 8; ++i) idle.push_back(std::make_unique<Raw>(s.port));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // all 8 accepted
  Raw extra(s.port);
  const std::string r = extra.read_all();
  CHECK_MESSAGE(status_of(r) == 503, r);
  CHECK(r.find("too many connections") != std::string::npos);
  idle.clear();
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {  // the server sees the closes within milliseconds
    Raw probe(s.port, 2);
    probe.send("GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    served = status_of(probe.read_all()) == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(served);
  CHECK(metrics_json(s)["connections"]["rejected"].get<int>() >= 1);
}

TEST_CASE("draining: /readyz turns 503, requests are still served, stop() with a dripping client is prompt (defect 11)") {
  TestServer s(recur::test::random_spec(lstm_options()), "hard_drain", options());
  auto cli = s.client();
  CHECK(cli->Get("/readyz")->status == 200);
  Raw dripper(s.port);
  dripper.send("POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a");
  s.service->drain();
  auto fresh = s.client();
  expect_error(fresh->Get("/readyz"), 503, "readyz while draining");
  CHECK(fresh->Get("/livez")->status == 200);
  CHECK_FALSE(json::parse(fresh->Get("/healthz")->body)["ready"].get<bool>());
  predict_and_check(*fresh, s.ref, recur::test::random_values(1 * 2 * 5, 12), 1, 2);
  const auto t0 = Clock::now();
  s.service->stop(std::chrono::seconds(10));
  CHECK(Clock::now() - t0 < std::chrono::seconds(2));
  CHECK(dripper.closed_within(1000));
}

TEST_CASE("recur_serve exits promptly on SIGTERM with a dripping client (defect 11)") {
  const std::string model = std::string(RECUR_BINARY_DIR) + "/service_test_sigterm.recur";
  REQUIRE(recur::write_model(recur::test::random_spec(lstm_options()), model).ok());
  int out[2];
  REQUIRE(::pipe(out) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> args = {RECUR_SERVE, model, "--port", "0", "--drain-timeout-s", "10", "--threads", "1"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, RECUR_SERVE, &actions, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);

  // "recur_serve: MODEL on http://127.0.0.1:PORT (...)"
  std::string line;
  for (char c; line.find('\n') == std::string::npos;) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 20000) <= 0 || ::read(out[0], &c, 1) != 1) break;
    line += c;
  }
  const size_t at = line.find("http://127.0.0.1:");
  int port = at == std::string::npos ? 0 : std::atoi(line.c_str() + at + 17);
  int status = -1;
  Clock::duration took{};
  if (port > 0) {
    Raw dripper(port);
    REQUIRE(dripper.connected());
    dripper.send("POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto t0 = Clock::now();
    ::kill(pid, SIGTERM);
    while (Clock::now() - t0 < std::chrono::seconds(8) && ::waitpid(pid, &status, WNOHANG) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    took = Clock::now() - t0;
  }
  if (::waitpid(pid, &status, WNOHANG) == 0) {  // never leave it running
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    status = -1;
  }
  ::close(out[0]);
  REQUIRE_MESSAGE(port > 0, "no port in recur_serve's first line: " << line);
  CHECK_MESSAGE(took < std::chrono::seconds(3), "SIGTERM took " << std::chrono::duration<double>(took).count() << " s");
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("operators: Prometheus /metrics, /livez, /readyz, an access-log line per request, 405 with Allow") {
  std::mutex log_mu;
  std::vector<std::string> log;
  ServiceOptions o = options();
  o.access_log = [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(log_mu);
    log.push_back(line);
  };
  TestServer s(recur::test::random_spec(lstm_options()), "hard_ops", o);
  auto cli = s.client();
  predict_and_check(*cli, s.ref, recur::test::random_values(2 * 3 * 5, 13), 2, 3);
  CHECK(cli->Get("/livez")->status == 200);
  CHECK(json::parse(cli->Get("/readyz")->body)["status"] == "ready");

  struct Wrong {
    const char* method;
    const char* path;
    const char* allow;
  };
  const std::vector<Wrong> wrong = {
      {"GET", "/v1/predict", "POST"},  {"PUT", "/v1/predict", "POST"},   {"DELETE", "/v1/predict", "POST"},
      {"POST", "/healthz", "GET"},     {"POST", "/livez", "GET"},        {"DELETE", "/readyz", "GET"},
      {"POST", "/metrics", "GET"},     {"PUT", "/metrics.json", "GET"},  {"GET", "/v1/streams/a/step", "POST"},
      {"GET", "/v1/streams/a", "DELETE"}, {"POST", "/v1/streams/a", "DELETE"},
  };
  for (const Wrong& w : wrong) {
    INFO(w.method << " " << w.path);
    httplib::Request req;
    req.method = w.method;
    req.path = w.path;
    auto r = cli->send(req);
    expect_error(r, 405, std::string(w.method) + " " + w.path);
    CHECK(r->get_header_value("Allow") == w.allow);
  }

  auto r = cli->Get("/metrics");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  // Every line a # HELP, a # TYPE or a sample of a family whose TYPE came before.
  const std::regex sample(R"re(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-z_]+="[^"\\]*",?)*\})? (-?[0-9.e+-]+|\+Inf|NaN))re");
  std::vector<std::string> typed;
  std::map<std::string, double> values;  // name{labels} -> value
  std::istringstream lines(r->body);
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      typed.push_back(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    std::smatch m;
    REQUIRE(std::regex_match(line, m, sample));
    const std::string name = m[1];
    bool known = false;
    for (const std::string& t : typed) {
      known = known || name == t || name == t + "_sum" || name == t + "_count" || name == t + "_bucket";
    }
    CHECK(known);
    values[line.substr(0, line.rfind(' '))] = std::stod(m[4]);
  }
  CHECK(values[R"(recur_http_requests_total{endpoint="predict",status="200"})"] == 1);
  CHECK(values[R"(recur_http_requests_total{endpoint="other",status="405"})"] == static_cast<double>(wrong.size()));
  CHECK(values[R"(recur_http_request_duration_seconds_count{endpoint="predict"})"] == 1);
  CHECK(values[R"(recur_batch_sequences_bucket{le="1"})"] == 0);
  CHECK(values[R"(recur_batch_sequences_bucket{le="2"})"] == 1);
  CHECK(values[R"(recur_batch_sequences_bucket{le="+Inf"})"] == 1);
  CHECK(values["recur_batch_sequences_count"] == 1);
  CHECK(values["recur_batch_sequences_sum"] == 2);
  CHECK(values["recur_ready"] == 1);
  CHECK(values["recur_http_connections_open"] >= 1);

  // One line per answered request (this /metrics one included), in a fixed format.
  std::lock_guard<std::mutex> lock(log_mu);
  CHECK(log.size() == 4 + wrong.size());
  const std::regex format(
      R"re(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1:\d+ "[A-Z]+ [^ "]+ HTTP/1\.[01]" \d{3} \d+ \d+us)re");
  for (const std::string& line : log) CHECK_MESSAGE(std::regex_match(line, format), line);
  REQUIRE_FALSE(log.empty());
  CHECK(log.front().find("\"POST /v1/predict HTTP/1.1\" 200 ") != std::string::npos);
}
