// Shared by the service's test files: a real server on a free loopback port serving a copy of
// a model, an HTTP client for it, and the checks every test uses.
#pragma once

#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "recur/format.hpp"
#include "service.hpp"
#include "support/random_spec.hpp"

namespace service_test {

using nlohmann::json;
using recur::Model;
using recur::service::Service;
using recur::service::ServiceOptions;


inline constexpr float kAbs = 1e-5f, kRel = 1e-4f;  // fp32 tolerance of the project

// Writes `spec` to a .recur file and loads it back (the way recur_serve gets its model).
inline Model write_and_load(const recur::ModelSpec& spec, const std::string& name) {
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
    o.http.host = "127.0.0.1";
    o.http.port = 0;
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

inline ServiceOptions options(int64_t window_us = 300, int64_t max_batch = 64) {
  ServiceOptions o;
  o.batcher.window = std::chrono::microseconds(window_us);
  o.batcher.max_batch = max_batch;
  o.batcher.workers = 2;
  o.http.handler_threads = 48;
  o.http.max_body_bytes = 64 << 10;
  return o;
}

// (B, T, I) values -> {"inputs": nested}.
inline json inputs_json(const std::vector<float>& x, int64_t B, int64_t T, int64_t I) {
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
inline void flatten(const json& v, std::vector<float>& out) {
  if (v.is_array()) {
    for (const json& e : v) flatten(e, out);
  } else {
    REQUIRE(v.is_number());
    out.push_back(static_cast<float>(v.get<double>()));
  }
}

inline bool close(float got, float want) {
  return std::fabs(got - want) <= kAbs + kRel * std::fabs(want);
}

inline void check_close(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
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
inline void predict_and_check(httplib::Client& cli, const Model& ref, const std::vector<float>& x, int64_t B,
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
inline void expect_error(const httplib::Result& r, int status, const std::string& what) {
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

inline recur::test::SpecOptions lstm_options() {
  recur::test::SpecOptions o;
  o.cell = recur::CellType::lstm;
  o.input_size = 5;
  o.hidden_size = 7;
  o.num_layers = 2;
  o.head_size = 3;
  o.seed = 11;
  return o;
}

}  // namespace service_test
