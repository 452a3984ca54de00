// `recur verify MODEL.recur --input x.npy --expect y.npy [--atol 1e-5 --rtol 1e-4]`: runs the
// model on x and compares y (and optionally h_n / c_n) elementwise with |got - want| <=
// atol + rtol * |want|. Reports the worst element (index, got, want) and how many differ;
// exits 0 when everything matches, 1 on a mismatch or error.
#include <cmath>
#include <cstdio>

#include "formats/npy.hpp"
#include "formats/shape_str.hpp"
#include "recur/model.hpp"
#include "tools/command.hpp"

namespace recur::cli {
namespace {

std::string index_str(size_t flat, const std::vector<int64_t>& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = static_cast<int64_t>(flat % static_cast<size_t>(shape[d]));
    flat /= static_cast<size_t>(shape[d]);
  }
  return shape_str(idx);
}

// Prints one comparison line; returns true when all elements are within tolerance.
bool compare(const char* what, const std::vector<float>& got, const std::vector<int64_t>& got_shape,
             const npy::Array& want, double atol, double rtol) {
  if (want.integer) {
    std::printf("%s: FAIL expected array holds integers (%s)\n", what, want.descr.c_str());
    return false;
  }
  if (want.shape != got_shape) {
    std::printf("%s: FAIL shape %s, expected %s\n", what, shape_str(got_shape).c_str(), shape_str(want.shape).c_str());
    return false;
  }
  size_t bad = 0, worst = 0;
  double worst_excess = -1, max_abs = 0;
  for (size_t k = 0; k < got.size(); ++k) {
    double g = got[k], w = want.f32[k], d = std::fabs(g - w);
    double excess = d - (atol + rtol * std::fabs(w));
    if (std::isnan(d)) excess = INFINITY;
    if (!(excess <= 0)) ++bad;
    if (excess > worst_excess) worst_excess = excess, worst = k;
    if (d > max_abs || std::isnan(d)) max_abs = std::isnan(d) ? INFINITY : d;
  }
  if (got.empty()) {
    std::printf("%s: ok (empty)\n", what);
    return true;
  }
  std::printf("%s: %s %zu of %zu elements outside tolerance; max abs error %.3g; worst at %s: got %.9g, expected %.9g\n",
              what, bad ? "FAIL" : "ok", bad, got.size(), max_abs, index_str(worst, got_shape).c_str(), got[worst],
              want.f32[worst]);
  return bad == 0;
}

const Command kVerify{
    "verify", "Run a .recur model on x.npy and compare its output with expected .npy arrays",
    [](CLI::App& sub) -> Action {
      struct Opts {
        std::string model, input, expect, expect_h, expect_c, h0, c0, lengths;
        double atol = 1e-5, rtol = 1e-4;
        int threads = 0;
        LoadOptions load;
      };
      auto o = std::make_shared<Opts>();
      sub.add_option("model", o->model, "the .recur file")->required();
      sub.add_option("--input", o->input, "x.npy, (T, B, I) or (B, T, I) for batch-first models")->required();
      sub.add_option("--expect", o->expect, "expected y.npy")->required();
      sub.add_option("--expect-h", o->expect_h, "expected h_n.npy (L*D, B, Hout)");
      sub.add_option("--expect-c", o->expect_c, "expected c_n.npy (L*D, B, H)");
      sub.add_option("--h0", o->h0, "initial h0.npy (L*D, B, Hout)");
      sub.add_option("--c0", o->c0, "initial c0.npy (L*D, B, H)");
      sub.add_option("--lengths", o->lengths, "sequence lengths .npy (B), integers");
      sub.add_option("--atol", o->atol, "absolute tolerance (default 1e-5)");
      sub.add_option("--rtol", o->rtol, "relative tolerance (default 1e-4)");
      sub.add_option("--threads", o->threads, "threads for run() (default: all available)");
      add_load_options(sub, o->load);
      return [o]() -> int {
        auto err = [](const Status& s) {
          std::fprintf(stderr, "recur verify: %s\n", s.to_string().c_str());
          return 1;
        };
        auto model = Model::load(o->model, o->load);
        if (!model.ok()) return err(model.status());
        auto x = npy::read(o->input);
        if (!x.ok()) return err(x.status());
        if (x->integer || x->shape.size() != 3 || x->shape[2] != model->input_size())
          return err(Status(Errc::invalid_argument, o->input + ": shape " + shape_str(x->shape) +
                                                        " is not a float (T, B, " + std::to_string(model->input_size()) +
                                                        ") array"));
        const bool bf = model->batch_first();
        RunInput in;  // the model's own layout
        in.x = x->f32.data();
        in.seq_len = bf ? x->shape[1] : x->shape[0];
        in.batch = bf ? x->shape[0] : x->shape[1];
        npy::Array h0, c0;
        if (!o->h0.empty()) {
          auto a = npy::read(o->h0);
          if (!a.ok()) return err(a.status());
          h0 = std::move(*a);
          in.h0 = h0.f32.data();
        }
        if (!o->c0.empty()) {
          auto a = npy::read(o->c0);
          if (!a.ok()) return err(a.status());
          c0 = std::move(*a);
          in.c0 = c0.f32.data();
        }
        std::vector<int32_t> lengths;
        if (!o->lengths.empty()) {
          auto a = npy::read(o->lengths);
          if (!a.ok()) return err(a.status());
          if (!a->integer || a->shape != std::vector<int64_t>{in.batch})
            return err(Status(Errc::invalid_argument, o->lengths + ": expected an integer array of shape (" +
                                                          std::to_string(in.batch) + ")"));
          for (int64_t v : a->i64) {
            if (v < 0 || v > in.seq_len)
              return err(Status(Errc::invalid_argument, o->lengths + ": length " + std::to_string(v) + " outside [0, T]"));
            lengths.push_back(static_cast<int32_t>(v));
          }
          in.lengths = lengths.data();
        }
        RunOptions ro;
        ro.threads = o->threads;
        auto out = model->run(in, ro);
        if (!out.ok()) return err(out.status());
        auto y = npy::read(o->expect);
        if (!y.ok()) return err(y.status());
        std::printf("model %s, input %s, atol %g, rtol %g\n", o->model.c_str(), shape_str(x->shape).c_str(), o->atol,
                    o->rtol);
        bool ok = compare("y", out->y, out->y_shape, *y, o->atol, o->rtol);
        if (!o->expect_h.empty()) {
          auto h = npy::read(o->expect_h);
          if (!h.ok()) return err(h.status());
          ok &= compare("h_n", out->h_n, out->h_shape, *h, o->atol, o->rtol);
        }
        if (!o->expect_c.empty()) {
          auto c = npy::read(o->expect_c);
          if (!c.ok()) return err(c.status());
          ok &= compare("c_n", out->c_n, out->c_shape, *c, o->atol, o->rtol);
        }
        std::printf("%s\n", ok ? "verify: ok" : "verify: MISMATCH");
        return ok ? 0 : 1;
      };
    }};

}  // namespace
}  // namespace recur::cli
