// End-to-end tests of the service: a real server on a free loopback port (in-process), real
// HTTP clients. Every answer is checked against the runtime called directly on a separately
// loaded copy of the same .recur file: predict against Model::run (fp32 tolerance), each of 32
// concurrent streams against serial Model::step (bit for bit). Plus every class of bad request,
// the stream table's bounds and expiry, and the micro-batcher's grouping.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "batcher.hpp"
#include "json_codec.hpp"
#include "recur/format.hpp"
#include "service.hpp"
#include "stream_table.hpp"
#include "support/random_spec.hpp"

using nlohmann::json;
using recur::Model;
using recur::service::Service;
using recur::service::ServiceOptions;

namespace {

constexpr float kAbs = 1e-5f, kRel = 1e-4f;  // fp32 tolerance of the project

// Writes `spec` to a .recur file and loads it back (the way recur_serve gets its model).
Model write_and_load(const recur::ModelSpec& spec, const std::string& name) {
  const std::string path = std::string(RECUR_BINARY_DIR) + "/service_test_" + name + ".recur";
  REQUIRE(recur::write_model(spec, path).ok());
  recur::Result<Model> m = Model::load(path);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  return std::move(*m);
}

// A server on 127.0.0.1:<free port> serving its own loaded copy of `spec`; `ref` is another
// copy for computing expected answers directly.
struct TestServer {
  Model ref;
  std::unique_ptr<Service> service;
  int port = 0;

  TestServer(const recur::ModelSpec& spec, const std::string& name, ServiceOptions o = {}) {
    ref = write_and_load(spec, name);
    o.host = "127.0.0.1";
    o.port = 0;
    service = std::make_unique<Service>(write_and_load(spec, name), o);
    recur::Result<int> p = service->start();
    REQUIRE_MESSAGE(p.ok(), p.status().to_string());
    port = *p;
  }
  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);
    c->set_read_timeout(30);
    return c;
  }
};

ServiceOptions options(int64_t window_us = 300, int64_t max_batch = 64) {
  ServiceOptions o;
  o.batcher.window = std::chrono::microseconds(window_us);
  o.batcher.max_batch = max_batch;
  o.batcher.workers = 2;
  o.http_threads = 48;
  o.max_body_bytes = 64 << 10;
  return o;
}

// (B, T, I) values -> {"inputs": nested}.
json inputs_json(const std::vector<float>& x, int64_t B, int64_t T, int64_t I) {
  json seqs = json::array();
  for (int64_t b = 0; b < B; ++b) {
    json seq = json::array();
    for (int64_t t = 0; t < T; ++t) {
      json row = json::array();
      for (int64_t i = 0; i < I; ++i) row.push_back(x[static_cast<size_t>((b * T + t) * I + i)]);
      seq.push_back(row);
    }
    seqs.push_back(seq);
  }
  return json{{"inputs", seqs}};
}

// Nested JSON numbers -> flat floats (row-major).
void flatten(const json& v, std::vector<float>& out) {
  if (v.is_array()) {
    for (const json& e : v) flatten(e, out);
  } else {
    REQUIRE(v.is_number());
    out.push_back(static_cast<float>(v.get<double>()));
  }
}

bool close(float got, float want) {
  return std::fabs(got - want) <= kAbs + kRel * std::fabs(want);
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
  REQUIRE_MESSAGE(got.size() == want.size(), what);
  for (size_t i = 0; i < got.size(); ++i) {
    if (!close(got[i], want[i])) {
      FAIL_CHECK(what << "[" << i << "] is " << got[i] << ", expected " << want[i]);
      return;
    }
  }
}

// POSTs a predict for x (B, T, I) [+ lengths] and checks it against ref.run (batch-major).
// Thread-safe apart from doctest's assertion macros, which doctest makes thread-safe.
void predict_and_check(httplib::Client& cli, const Model& ref, const std::vector<float>& x, int64_t B,
                       int64_t T, const std::vector<int32_t>& lengths = {}, bool return_state = false) {
  const int64_t I = ref.input_size();
  json body = inputs_json(x, B, T, I);
  if (!lengths.empty()) body["lengths"] = lengths;
  if (return_state) body["return_state"] = true;
  auto r = cli.Post("/v1/predict", body.dump(), "application/json");
  REQUIRE_MESSAGE(r, "no response: " << httplib::to_string(r.error()));
  REQUIRE_MESSAGE(r->status == 200, r->body);
  const json got = json::parse(r->body);

  recur::RunInput in;
  in.x = x.data();
  in.seq_len = T;
  in.batch = B;
  in.layout = recur::Layout::batch_first;
  in.lengths = lengths.empty() ? nullptr : lengths.data();
  recur::RunOptions one_thread;
  one_thread.threads = 1;
  recur::Result<recur::RunOutput> want = ref.run(in, one_thread);
  REQUIRE(want.ok());
  CHECK(got["shape"].get<std::vector<int64_t>>() == want->y_shape);
  std::vector<float> y;
  flatten(got["outputs"], y);
  check_close(y, want->y, "outputs");
  if (return_state) {
    std::vector<float> h;
    flatten(got["h_n"], h);
    check_close(h, want->h_n, "h_n");
    if (!want->c_n.empty()) {
      std::vector<float> c;
      flatten(got["c_n"], c);
      check_close(c, want->c_n, "c_n");
    }
  } else {
    CHECK_FALSE(got.contains("h_n"));
  }
}

// Expects `status` with a JSON body {"error": non-empty string}.
void expect_error(const httplib::Result& r, int status, const std::string& what) {
  INFO(what);
  REQUIRE_MESSAGE(r, "no response: " << httplib::to_string(r.error()));
  CHECK_MESSAGE(r->status == status, r->status << " " << r->body);
  CHECK(r->get_header_value("Content-Type") == "application/json");
  const json body = json::parse(r->body, nullptr, false);
  REQUIRE_MESSAGE(body.is_object(), r->body);
  REQUIRE(body.contains("error"));
  CHECK(body["error"].is_string());
  CHECK_FALSE(body["error"].get<std::string>().empty());
}

// Runs f on a new thread; a REQUIRE failing there (an exception) is counted, not fatal.
template <class F>
std::thread guarded(std::atomic<int>& failures, F f) {
  return std::thread([&failures, f] {
    try {
      f();
    } catch (...) {
      ++failures;
    }
  });
}

recur::test::SpecOptions lstm_options() {
  recur::test::SpecOptions o;
  o.cell = recur::CellType::lstm;
  o.input_size = 5;
  o.hidden_size = 7;
  o.num_layers = 2;
  o.head_size = 3;
  o.seed = 11;
  return o;
}

}  // namespace

TEST_CASE("predict matches Model::run: per-step head, lengths, returned state, no head, last step") {
  TestServer lstm(recur::test::random_spec(lstm_options()), "lstm", options());
  auto cli = lstm.client();
  const int64_t I = 5;
  predict_and_check(*cli, lstm.ref, recur::test::random_values(1 * 4 * I, 1), 1, 4);
  predict_and_check(*cli, lstm.ref, recur::test::random_values(3 * 6 * I, 2), 3, 6, {6, 2, 0}, true);

  recur::test::SpecOptions gru = lstm_options();
  gru.cell = recur::CellType::gru;
  gru.linear_before_reset = true;
  gru.head_last_step_only = true;  // y (B, O)
  TestServer last(recur::test::random_spec(gru), "gru_last", options());
  auto cli2 = last.client();
  predict_and_check(*cli2, last.ref, recur::test::random_values(2 * 5 * I, 3), 2, 5, {5, 3}, true);

  recur::test::SpecOptions plain = lstm_options();
  plain.cell = recur::CellType::rnn;
  plain.head_size = 0;  // y = the last layer's output (B, T, H)
  TestServer rnn(recur::test::random_spec(plain), "rnn_plain", options());
  auto cli3 = rnn.client();
  predict_and_check(*cli3, rnn.ref, recur::test::random_values(2 * 3 * I, 4), 2, 3);
}

TEST_CASE("concurrent predicts of mixed lengths are batched and each gets its own answer") {
  TestServer s(recur::test::random_spec(lstm_options()), "lstm_concurrent", options(/*window_us=*/2000, 16));
  constexpr int kThreads = 16, kRequestsEach = 4;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int k = 0; k < kThreads; ++k) {
    threads.emplace_back(guarded(failures, [&, k] {
      auto cli = s.client();
      for (int r = 0; r < kRequestsEach; ++r) {
        const int64_t B = 1 + (k + r) % 3, T = 3 + (k % 2) * 2;
        const auto x = recur::test::random_values(static_cast<size_t>(B * T * 5), 100 + k * 10 + r);
        INFO("client " << k << " request " << r);
        predict_and_check(*cli, s.ref, x, B, T);
      }
    }));
  }
  for (std::thread& t : threads) t.join();
  REQUIRE(failures.load() == 0);

  auto cli = s.client();
  auto r = cli->Get("/metrics");
  REQUIRE(r);
  const json m = json::parse(r->body);
  CHECK(m["requests"]["predict"]["200"].get<int>() == kThreads * kRequestsEach);
  CHECK(m["batches"]["requests"].get<int>() == kThreads * kRequestsEach);
  CHECK(m["batches"]["runs"].get<int>() <= kThreads * kRequestsEach);
  CHECK(m["latency_us"]["predict"]["count"].get<int>() == kThreads * kRequestsEach);
}

TEST_CASE("micro-batcher: announced requests share one run, max_batch splits, a lone request does not wait") {
  const Model model = write_and_load(recur::test::random_spec(lstm_options()), "batcher");
  recur::service::Metrics metrics;
  recur::service::BatcherOptions o;
  o.window = std::chrono::seconds(20);  // far longer than the test: waiting it out would show
  o.max_batch = 8;
  o.workers = 1;
  recur::service::MicroBatcher batcher(model, o, metrics);

  // 12 requests announced before any is submitted: the worker waits for them (no timer
  // involved), runs 8 sequences at once (max_batch), then the remaining 4.
  constexpr int kRequests = 12;
  constexpr int64_t T = 4;
  std::vector<recur::service::PredictRequest> requests(kRequests);
  std::vector<recur::service::MicroBatcher::Arrival> arrivals;
  for (int k = 0; k < kRequests; ++k) {
    requests[k].batch = 1;
    requests[k].seq_len = T;
    requests[k].x = recur::test::random_values(T * 5, 500 + k);
    arrivals.push_back(batcher.announce());
  }
  std::vector<recur::service::PredictResult> results(kRequests);
  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < kRequests; ++k) {
    threads.emplace_back([&, k] { results[k] = batcher.predict(requests[k], arrivals[k]); });
  }
  for (std::thread& t : threads) t.join();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  const json m = metrics.to_json();
  CHECK(m["batches"]["runs"].get<int>() == 2);
  CHECK(m["batches"]["sequences_per_run"]["5-8"].get<int>() == 1);
  CHECK(m["batches"]["sequences_per_run"]["3-4"].get<int>() == 1);
  for (int k = 0; k < kRequests; ++k) {
    REQUIRE(results[k].http_status == 200);
    recur::RunInput in;
    in.x = requests[k].x.data();
    in.seq_len = T;
    in.batch = 1;
    in.layout = recur::Layout::batch_first;
    auto want = model.run(in);
    REQUIRE(want.ok());
    check_close(results[k].y, want->y, "y");
  }

  // Nothing announced: a lone request runs at once despite the 20 s window.
  recur::service::PredictResult lone;
  {
    auto arrival = batcher.announce();
    lone = batcher.predict(requests[0], arrival);
  }
  CHECK(lone.http_status == 200);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  batcher.stop();
  auto arrival = batcher.announce();
  CHECK(batcher.predict(requests[0], arrival).http_status == 503);
}

TEST_CASE("32 concurrent streams match serial Model::step bit for bit") {
  TestServer s(recur::test::random_spec(lstm_options()), "lstm_streams", options());
  constexpr int kStreams = 32, kSteps = 12;
  constexpr int64_t I = 5, O = 3;
  // Expected outputs, computed serially with one State per stream.
  std::vector<std::vector<float>> xs(kStreams), want(kStreams);
  for (int k = 0; k < kStreams; ++k) {
    xs[k] = recur::test::random_values(kSteps * I, 1000 + k);
    recur::Result<recur::State> st = s.ref.new_state(1);
    REQUIRE(st.ok());
    want[k].resize(kSteps * O);
    for (int t = 0; t < kSteps; ++t) REQUIRE(s.ref.step(*st, xs[k].data() + t * I, want[k].data() + t * O).ok());
  }

  std::atomic<int> mismatches{0}, failures{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < kStreams; ++k) {
    threads.emplace_back(guarded(failures, [&, k] {
      auto cli = s.client();
      const std::string path = "/v1/streams/stream-" + std::to_string(k) + "/step";
      for (int t = 0; t < kSteps; ++t) {
        json body;
        body["x"] = std::vector<float>(xs[k].begin() + t * I, xs[k].begin() + (t + 1) * I);
        auto r = cli->Post(path, body.dump(), "application/json");
        REQUIRE(r);
        REQUIRE_MESSAGE(r->status == 200, r->body);
        const json got = json::parse(r->body);
        CHECK(got["step"].get<int>() == t + 1);
        std::vector<float> y;
        flatten(got["y"], y);
        REQUIRE(y.size() == static_cast<size_t>(O));
        if (std::memcmp(y.data(), want[k].data() + t * O, sizeof(float) * O) != 0) ++mismatches;
      }
    }));
  }
  for (std::thread& t : threads) t.join();
  REQUIRE(failures.load() == 0);
  CHECK(mismatches.load() == 0);

  auto cli = s.client();
  auto m = json::parse(cli->Get("/metrics")->body);
  CHECK(m["streams"]["active"].get<int>() == kStreams);
  CHECK(m["requests"]["stream_step"]["200"].get<int>() == kStreams * kSteps);
  for (int k = 0; k < kStreams; ++k) {
    auto r = cli->Delete("/v1/streams/stream-" + std::to_string(k));
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  expect_error(cli->Delete("/v1/streams/stream-0"), 404, "deleted twice");
  // A deleted id starts over from a zero state.
  json body;
  body["x"] = std::vector<float>(xs[0].begin(), xs[0].begin() + I);
  auto r = cli->Post("/v1/streams/stream-0/step", body.dump(), "application/json");
  REQUIRE(r);
  const json got = json::parse(r->body);
  CHECK(got["step"].get<int>() == 1);
  std::vector<float> y;
  flatten(got["y"], y);
  CHECK(std::memcmp(y.data(), want[0].data(), sizeof(float) * O) == 0);
  m = json::parse(cli->Get("/metrics")->body);
  CHECK(m["streams"]["active"].get<int>() == 1);
  CHECK(m["streams"]["deleted"].get<int>() == kStreams);
}

TEST_CASE("the stream table is bounded (429, never evicting a live stream) and expires idle streams") {
  ServiceOptions o = options();
  o.max_streams = 2;
  TestServer s(recur::test::random_spec(lstm_options()), "lstm_bounded", o);
  auto cli = s.client();
  const std::string x = R"({"x": [0.1, 0.2, 0.3, 0.4, 0.5]})";
  CHECK(cli->Post("/v1/streams/a/step", x, "application/json")->status == 200);
  CHECK(cli->Post("/v1/streams/b/step", x, "application/json")->status == 200);
  expect_error(cli->Post("/v1/streams/c/step", x, "application/json"), 429, "table full");
  auto again = cli->Post("/v1/streams/a/step", x, "application/json");  // a is still there
  CHECK(json::parse(again->body)["step"].get<int>() == 2);
  CHECK(cli->Delete("/v1/streams/a")->status == 200);
  CHECK(cli->Post("/v1/streams/c/step", x, "application/json")->status == 200);

  // Expiry, with the clock given explicitly.
  using recur::service::StreamTable;
  StreamTable table(2, std::chrono::seconds(10));
  auto make = [&] { return s.ref.new_state(1); };
  const auto t0 = StreamTable::Clock::time_point{} + std::chrono::hours(1);
  CHECK(table.acquire("a", t0, make).outcome == StreamTable::Outcome::created);
  CHECK(table.acquire("b", t0 + std::chrono::seconds(5), make).outcome == StreamTable::Outcome::created);
  CHECK(table.acquire("c", t0 + std::chrono::seconds(9), make).outcome == StreamTable::Outcome::full);
  CHECK(table.acquire("a", t0 + std::chrono::seconds(9), make).outcome == StreamTable::Outcome::found);
  // At 16 s, b (last used at 5 s) is idle for 11 s > 10 s: dropped, which makes room for c.
  CHECK(table.acquire("c", t0 + std::chrono::seconds(16), make).outcome == StreamTable::Outcome::created);
  CHECK(table.counts().expired == 1);
  CHECK(table.acquire("b", t0 + std::chrono::seconds(16), make).outcome == StreamTable::Outcome::full);
  CHECK(table.expire(t0 + std::chrono::seconds(100)) == 2);
  CHECK(table.counts().active == 0);
  CHECK_FALSE(table.erase("a"));
}

TEST_CASE("streaming a bidirectional model is refused with 409; predict still works") {
  recur::test::SpecOptions o = lstm_options();
  o.direction = recur::Direction::bidirectional;
  TestServer s(recur::test::random_spec(o), "bidi", options());
  auto cli = s.client();
  expect_error(cli->Post("/v1/streams/a/step", R"({"x": [1, 2, 3, 4, 5]})", "application/json"), 409,
               "bidirectional stream");
  predict_and_check(*cli, s.ref, recur::test::random_values(2 * 3 * 5, 9), 2, 3, {3, 1});
  auto h = json::parse(cli->Get("/healthz")->body);
  CHECK(h["model"]["streamable"].get<bool>() == false);
}

TEST_CASE("bad requests get a 4xx with a JSON message and the server keeps serving") {
  TestServer s(recur::test::random_spec(lstm_options()), "lstm_bad", options());
  auto cli = s.client();
  auto post = [&](const std::string& path, const std::string& body, const char* type = "application/json") {
    return cli->Post(path, body, type);
  };
  const std::string row = "[0.1,0.2,0.3,0.4,0.5]";
  const std::string good_inputs = "[[" + row + "," + row + "]]";  // B=1, T=2, I=5

  std::string ragged_many = "{\"inputs\": [[" + row;
  for (int t = 1; t < 1000; ++t) ragged_many += "," + row;
  ragged_many += "]";
  for (int b = 0; b < 5000; ++b) ragged_many += ",[]";
  ragged_many += "]}";

  struct Case {
    const char* what;
    std::string body;
    int status;
  };
  const std::vector<Case> predict_cases = {
      {"malformed JSON", R"({"inputs": [[[1, 2)", 400},
      {"empty body", "", 400},
      {"not an object", "[1, 2, 3]", 400},
      {"missing inputs", "{}", 400},
      {"unknown key", R"({"inputs": )" + good_inputs + R"(, "input": 1})", 400},
      {"inputs not an array", R"({"inputs": 3})", 400},
      {"no sequences", R"({"inputs": []})", 400},
      {"no steps", R"({"inputs": [[]]})", 400},
      {"rank 2 (a sequence of numbers)", R"({"inputs": [[1, 2, 3, 4, 5]]})", 400},
      {"rank 1", R"({"inputs": [1, 2, 3, 4, 5]})", 400},
      {"rank 4", R"({"inputs": [[[[1, 2, 3, 4, 5]]]]})", 400},
      {"wrong input size", R"({"inputs": [[[1, 2, 3, 4]]]})", 400},
      {"ragged sequence lengths", "{\"inputs\": [[" + row + "," + row + "], [" + row + "]]}", 400},
      {"ragged: a long first sequence, then many empty ones", ragged_many, 400},
      {"string NaN", R"({"inputs": [[[1, 2, "NaN", 4, 5]]]})", 400},
      {"string Infinity", R"({"inputs": [[[1, 2, "Infinity", 4, 5]]]})", 400},
      {"bare NaN literal", R"({"inputs": [[[1, 2, NaN, 4, 5]]]})", 400},
      {"1e999 (inf as a double)", R"({"inputs": [[[1, 2, 1e999, 4, 5]]]})", 400},
      {"-1e999", R"({"inputs": [[[1, 2, -1e999, 4, 5]]]})", 400},
      {"1e39 (inf as a float)", R"({"inputs": [[[1, 2, 1e39, 4, 5]]]})", 400},
      {"boolean value", R"({"inputs": [[[1, 2, true, 4, 5]]]})", 400},
      {"null value", R"({"inputs": [[[1, 2, null, 4, 5]]]})", 400},
      {"lengths count", R"({"inputs": )" + good_inputs + R"(, "lengths": [2, 2]})", 400},
      {"lengths above T", R"({"inputs": )" + good_inputs + R"(, "lengths": [3]})", 400},
      {"negative length", R"({"inputs": )" + good_inputs + R"(, "lengths": [-1]})", 400},
      {"fractional length", R"({"inputs": )" + good_inputs + R"(, "lengths": [1.5]})", 400},
      {"huge length", R"({"inputs": )" + good_inputs + R"(, "lengths": [99999999999999999999]})", 400},
      {"lengths not an array", R"({"inputs": )" + good_inputs + R"(, "lengths": 2})", 400},
      {"return_state not a boolean", R"({"inputs": )" + good_inputs + R"(, "return_state": 1})", 400},
      {"invalid UTF-8", "{\"inputs\": \"\xff\xfe\"}", 400},
      {"deep nesting", std::string(20000, '[') + std::string(20000, ']'), 400},
      {"deep nesting inside inputs", "{\"inputs\": " + std::string(20000, '[') + std::string(20000, ']') + "}", 400},
  };
  for (const Case& c : predict_cases) expect_error(post("/v1/predict", c.body), c.status, c.what);
  expect_error(post("/v1/predict", "{\"inputs\": " + good_inputs + "}", "text/plain"), 415, "text/plain");
  expect_error(post("/v1/predict", "{\"inputs\": " + good_inputs + "}", "application/x-www-form-urlencoded"), 415,
               "form content type");
  expect_error(post("/v1/predict", std::string(100 << 10, ' '), "application/json"), 413, "oversized body");
  expect_error(cli->Get("/v1/predict"), 405, "GET predict");
  expect_error(cli->Get("/v1/nothing-here"), 404, "unknown route");
  expect_error(cli->Delete("/v1/predict"), 404, "DELETE predict");

  const std::vector<Case> step_cases = {
      {"malformed JSON", R"({"x": [1, 2)", 400},
      {"missing x", "{}", 400},
      {"unknown key", R"({"x": [1, 2, 3, 4, 5], "y": 1})", 400},
      {"x too short", R"({"x": [1, 2, 3, 4]})", 400},
      {"x too long", R"({"x": [1, 2, 3, 4, 5, 6]})", 400},
      {"x nested", R"({"x": [[1, 2, 3, 4, 5]]})", 400},
      {"x string NaN", R"({"x": [1, 2, "NaN", 4, 5]})", 400},
      {"x 1e999", R"({"x": [1, 2, 1e999, 4, 5]})", 400},
  };
  for (const Case& c : step_cases) expect_error(post("/v1/streams/s1/step", c.body), c.status, c.what);
  expect_error(post("/v1/streams/s1/step", R"({"x": [1, 2, 3, 4, 5]})", "text/plain"), 415, "step text/plain");
  expect_error(post("/v1/streams/" + std::string(200, 'a') + "/step", R"({"x": [1, 2, 3, 4, 5]})"), 400,
               "stream id too long");
  expect_error(post("/v1/streams/a%20b/step", R"({"x": [1, 2, 3, 4, 5]})"), 400, "stream id with a space");
  expect_error(cli->Delete("/v1/streams/never-made"), 404, "unknown stream");
  expect_error(cli->Get("/v1/streams/s1/step"), 405, "GET step");

  // None of the bad steps created a stream; the server still serves good requests.
  auto m = json::parse(cli->Get("/metrics")->body);
  CHECK(m["streams"]["active"].get<int>() == 0);
  CHECK(m["requests"]["predict"]["400"].get<size_t>() == predict_cases.size());
  CHECK(m["requests"]["predict"]["415"].get<int>() == 2);
  CHECK(m["requests"]["predict"]["413"].get<int>() == 1);
  CHECK(m["requests"]["other"]["404"].get<int>() == 2);
  auto h = cli->Get("/healthz");
  REQUIRE(h);
  CHECK(h->status == 200);
  predict_and_check(*cli, s.ref, recur::test::random_values(1 * 2 * 5, 77), 1, 2);
}

TEST_CASE("healthz describes the model; metrics are JSON with counts, percentiles and batches") {
  TestServer s(recur::test::random_spec(lstm_options()), "lstm_health", options());
  auto cli = s.client();
  auto h = cli->Get("/healthz");
  REQUIRE(h);
  CHECK(h->status == 200);
  const json health = json::parse(h->body);
  CHECK(health["status"] == "ok");
  CHECK(health["model"]["input_size"].get<int>() == 5);
  CHECK(health["model"]["output_size"].get<int>() == 3);
  CHECK(health["model"]["streamable"].get<bool>());

  for (int k = 0; k < 3; ++k) predict_and_check(*cli, s.ref, recur::test::random_values(2 * 3 * 5, 40 + k), 2, 3);
  auto r = cli->Get("/metrics");
  REQUIRE(r);
  CHECK(r->status == 200);
  const json m = json::parse(r->body);
  CHECK(m["requests"]["healthz"]["200"].get<int>() == 1);
  CHECK(m["requests"]["predict"]["200"].get<int>() == 3);
  const json& lat = m["latency_us"]["predict"];
  CHECK(lat["count"].get<int>() == 3);
  CHECK(lat["p50"].get<double>() > 0.0);
  CHECK(lat["p50"].get<double>() <= lat["p90"].get<double>());
  CHECK(lat["p90"].get<double>() <= lat["p99"].get<double>());
  CHECK(m["batches"]["sequences"].get<int>() == 6);
  CHECK(m["batches"]["sequences_per_run"]["2"].get<int>() == 3);
  CHECK(m["batching"]["enabled"].get<bool>());
  CHECK(m["streams"]["active"].get<int>() == 0);
}

TEST_CASE("without batching, predicts run on their request threads and still match") {
  ServiceOptions o = options();
  o.batching = false;
  TestServer s(recur::test::random_spec(lstm_options()), "lstm_nobatch", o);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int k = 0; k < 8; ++k) {
    threads.emplace_back(guarded(failures, [&, k] {
      auto cli = s.client();
      predict_and_check(*cli, s.ref, recur::test::random_values(2 * 4 * 5, 300 + k), 2, 4, {4, 1});
    }));
  }
  for (std::thread& t : threads) t.join();
  REQUIRE(failures.load() == 0);
  auto m = json::parse(s.client()->Get("/metrics")->body);
  CHECK(m["batches"]["runs"].get<int>() == 8);
  CHECK_FALSE(m["batching"]["enabled"].get<bool>());
}

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a server closing a connection must not end the test
  doctest::Context context(argc, argv);
  return context.run();
}
