// `recur run MODEL --input x.npy|x.csv [--h0 h0.npy] [--c0 c0.npy] [--lengths len.npy]
//  [--batch-first | --time-major] [--threads N] --out DIR`: runs a model over a batch of sequences and writes
// y.npy, h_n.npy, c_n.npy (float32; c_n only for models with LSTM layers) into DIR, each file
// written atomically. A .csv input is one sequence (rows = time steps, columns = features);
// its y is also written as y.csv (rows = steps, columns = outputs).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "formats/csv.hpp"
#include "formats/npy.hpp"
#include "formats/shape_str.hpp"
#include "recur/model.hpp"
#include "tools/command.hpp"

namespace recur::cli {
namespace {

struct RunArgs {
  std::string model;
  std::string input;
  std::string h0, c0, lengths;
  std::string out;
  bool batch_first = false;  // --batch-first
  bool time_major = false;   // --time-major; neither: the model's own layout
  int threads = 0;
  LoadOptions load;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Reads a float .npy of exactly `shape`; `what` names the option in messages.
Result<std::vector<float>> read_state(const std::string& path, const std::vector<int64_t>& shape,
                                      const char* what) {
  Result<npy::Array> a = npy::read(path);
  if (!a) return a.status();
  if (a->integer) {
    return Status(Errc::invalid_argument, std::string(what) + " " + path + " holds integers (" +
                                              a->descr + "), expected float32/float64");
  }
  if (a->shape != shape) {
    return Status(Errc::invalid_argument, std::string(what) + " " + path + " has shape " +
                                              shape_str(a->shape) + ", expected " + shape_str(shape));
  }
  return std::move(a->f32);
}

Status fail(const std::string& message) { return {Errc::invalid_argument, message}; }

Status run(const RunArgs& args) {
  Result<Model> model = Model::load(args.model, args.load);
  if (!model) return model.status();
  const Model& m = *model;
  const int64_t I = m.input_size();
  const bool csv_input = ends_with(args.input, ".csv");

  // x: (T, B, I), (B, T, I) with batch-first, (T, I) for one sequence, or CSV (T rows, I cols).
  RunInput in;
  std::vector<float> x;
  if (csv_input) {
    Result<csv::Matrix> c = csv::read(args.input);
    if (!c) return c.status();
    if (c->cols != I) {
      return fail("--input " + args.input + " has " + std::to_string(c->cols) +
                  " columns, the model takes " + std::to_string(I) + " features");
    }
    in.seq_len = c->rows;
    in.batch = 1;
    x = std::move(c->data);
  } else {
    Result<npy::Array> a = npy::read(args.input);
    if (!a) return a.status();
    if (a->integer) return fail("--input " + args.input + " holds integers (" + a->descr + ")");
    if (a->shape.size() == 2) {
      in.seq_len = a->shape[0];
      in.batch = 1;
    } else if (a->shape.size() == 3) {
      in.layout = args.batch_first  ? Layout::batch_first
                  : args.time_major ? Layout::time_major
                                    : Layout::model;
      const bool batch_first = args.batch_first || (!args.time_major && m.batch_first());
      in.seq_len = a->shape[batch_first ? 1 : 0];
      in.batch = a->shape[batch_first ? 0 : 1];
    } else {
      return fail("--input " + args.input + " has shape " + shape_str(a->shape) +
                  ", expected (T, B, I) time-major, (B, T, I) batch-first, or (T, I)");
    }
    if (a->shape.back() != I) {
      return fail("--input " + args.input + " has shape " + shape_str(a->shape) + ": last axis " +
                  std::to_string(a->shape.back()) + ", the model takes " + std::to_string(I) +
                  " features");
    }
    x = std::move(a->f32);
  }
  if (in.seq_len <= 0 || in.batch <= 0) return fail("--input " + args.input + " is empty");
  in.x = x.data();
  const int64_t B = in.batch, T = in.seq_len;

  // State shapes come from a one-step probe of zeros (cheap, and exactly run()'s shapes).
  std::vector<float> zeros(static_cast<size_t>(B * I), 0.0f);
  Result<RunOutput> probe = m.run(RunInput{zeros.data(), 1, B});
  if (!probe) return probe.status();

  std::vector<float> h0, c0;
  if (!args.h0.empty()) {
    Result<std::vector<float>> h = read_state(args.h0, probe->h_shape, "--h0");
    if (!h) return h.status();
    h0 = std::move(*h);
    in.h0 = h0.data();
  }
  if (!args.c0.empty()) {
    if (probe->c_shape.empty()) return fail("--c0 given but the model has no LSTM layer");
    Result<std::vector<float>> c = read_state(args.c0, probe->c_shape, "--c0");
    if (!c) return c.status();
    c0 = std::move(*c);
    in.c0 = c0.data();
  }
  std::vector<int32_t> lengths;
  if (!args.lengths.empty()) {
    Result<npy::Array> a = npy::read(args.lengths);
    if (!a) return a.status();
    if (!a->integer) return fail("--lengths " + args.lengths + " must hold integers, not " + a->descr);
    if (a->shape != std::vector<int64_t>{B}) {
      return fail("--lengths " + args.lengths + " has shape " + shape_str(a->shape) +
                  ", expected (" + std::to_string(B) + ")");
    }
    for (size_t b = 0; b < a->i64.size(); ++b) {
      const int64_t L = a->i64[b];
      if (L < 0 || L > T) {
        return fail("--lengths " + args.lengths + ": lengths[" + std::to_string(b) + "] is " +
                    std::to_string(L) + ", expected 0.." + std::to_string(T));
      }
      lengths.push_back(static_cast<int32_t>(L));
    }
    in.lengths = lengths.data();
  }

  RunOptions options;
  options.threads = args.threads;
  Result<RunOutput> out = m.run(in, options);
  if (!out) return out.status();

  std::error_code ec;
  std::filesystem::create_directories(args.out, ec);
  if (ec) return {Errc::io, "--out " + args.out + ": " + ec.message()};
  const std::string dir = args.out + "/";
  RECUR_TRY(npy::write_f32(dir + "y.npy", out->y_shape, out->y));
  RECUR_TRY(npy::write_f32(dir + "h_n.npy", out->h_shape, out->h_n));
  if (!out->c_shape.empty()) RECUR_TRY(npy::write_f32(dir + "c_n.npy", out->c_shape, out->c_n));
  if (csv_input) {
    // One sequence: y is (T, 1, O) or (1, O) -> rows = steps, columns = outputs.
    csv::Matrix y;
    y.cols = out->y_shape.back();
    y.rows = static_cast<int64_t>(out->y.size()) / y.cols;
    y.data = out->y;
    RECUR_TRY(csv::write(dir + "y.csv", y));
  }
  std::printf("y %s, h_n %s%s%s -> %s\n", shape_str(out->y_shape).c_str(),
              shape_str(out->h_shape).c_str(), out->c_shape.empty() ? "" : ", c_n ",
              out->c_shape.empty() ? "" : shape_str(out->c_shape).c_str(), args.out.c_str());
  return {};
}

const Command run_command("run", "Run a model over input sequences (.npy or .csv)", [](CLI::App& sub) {
  auto args = std::make_shared<RunArgs>();
  sub.add_option("model", args->model, "The .recur model")->required();
  sub.add_option("--input,-i", args->input,
                 "x as .npy (T, B, I) time-major / (B, T, I) batch-first / (T, I), or .csv (T rows, I columns)")
      ->required();
  sub.add_option("--h0", args->h0, "Initial hidden state .npy (L*D, B, Hout)");
  sub.add_option("--c0", args->c0, "Initial cell state .npy (L*D, B, H), LSTM models");
  sub.add_option("--lengths", args->lengths, "Sequence lengths .npy (B), integers in [0, T]");
  CLI::Option* bf =
      sub.add_flag("--batch-first", args->batch_first, "x and y are (B, T, .) (default: the model's layout)");
  sub.add_flag("--time-major", args->time_major, "x and y are (T, B, .) (default: the model's layout)")
      ->excludes(bf);
  sub.add_option("--threads", args->threads, "Threads (0 = all CPUs available)")->check(CLI::Range(0, 1024));
  sub.add_option("--out,-o", args->out, "Output directory for y.npy, h_n.npy, c_n.npy")->required();
  add_load_options(sub, args->load);
  return [args]() {
    const Status s = run(*args);
    if (!s.ok()) {
      std::fprintf(stderr, "recur run: %s\n", s.to_string().c_str());
      return 1;
    }
    return 0;
  };
});

}  // namespace
}  // namespace recur::cli
