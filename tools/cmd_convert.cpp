// `recur convert SRC -o OUT.recur [options]`: ONNX, PyTorch (.pt/.pth), .safetensors, Keras
// (.keras/.h5) or the seed's LSTM_v1 state_dict -> .recur. Prints the layers found and what was
// inferred, writes a staged file next to the output, self-checks it (loaded and run on a random
// input and compared with an fp64 evaluation of the SOURCE's own semantics, its gate order and
// storage), and only then renames it onto the output: a failure leaves the destination as it was.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "recur/format.hpp"
#include "recur/model.hpp"
#include "tools/command.hpp"
#include "tools/convert/contained.hpp"
#include "tools/convert/convert.hpp"

namespace recur::cli {
namespace {

struct SelfCheck {
  double max_abs = 0, max_rel = 0;
  bool ok = true;
};

// Runs `path` on x (T=7, B=2) and compares with conv.reference; |a - e| <= atol + rtol * |e|.
Result<SelfCheck> self_check(const std::string& path, const convert::Conversion& conv, double atol, double rtol) {
  auto model = Model::load(path);
  if (!model.ok()) return model.status();
  const int64_t T = 7, B = 2, I = conv.spec.input_size();
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(T * B * I));
  for (float& v : x) v = dist(rng);
  RunInput in;
  in.x = x.data();
  in.seq_len = T;
  in.batch = B;
  in.layout = conv.spec.batch_first ? Layout::batch_first : Layout::time_major;  // the reference's
  RunOptions ro;
  ro.threads = 1;
  auto out = model->run(in, ro);
  if (!out.ok()) return out.status();
  auto ref = conv.reference(std::vector<double>(x.begin(), x.end()), T, B);
  if (!ref.ok()) return ref.status();
  if (ref->size() != out->y.size())
    return Status(Errc::internal, "self-check: output sizes differ (" + std::to_string(out->y.size()) + " vs reference " +
                                      std::to_string(ref->size()) + ")");
  SelfCheck c;
  for (size_t k = 0; k < ref->size(); ++k) {
    double e = (*ref)[k], a = out->y[k], d = std::fabs(a - e);
    c.max_abs = std::max(c.max_abs, d);
    if (std::fabs(e) > 1e-6) c.max_rel = std::max(c.max_rel, d / std::fabs(e));
    if (!(d <= atol + rtol * std::fabs(e))) c.ok = false;
  }
  return c;
}

struct Opts {
  std::string src, out;
  convert::ConvertOptions conv;
  bool bidirectional = false, no_check = false;
  double atol = 1e-5, rtol = 1e-4;
};

// The whole conversion: import, summary, staged write, self-check, rename onto the destination.
// source_bytes: the source's size (0 if unknown), for progress lines on large sources.
int run_convert(Opts& o, uint64_t source_bytes) {
  if (source_bytes > (16u << 20)) o.conv.progress = [](const std::string& line) { std::fprintf(stderr, "  ... %s\n", line.c_str()); };
  auto conv = convert::convert_file(o.src, o.conv);
  if (!conv.ok()) {
    std::fprintf(stderr, "recur convert: %s\n", conv.status().to_string().c_str());
    return 1;
  }
  const ModelSpec& spec = conv->spec;
  std::printf("source: %s (%s)\n", o.src.c_str(), convert::source_format_name(conv->format));
  for (const auto& l : conv->layers) std::printf("  %s\n", l.c_str());
  for (const auto& n : conv->notes) std::printf("  note: %s\n", n.c_str());
  std::printf("summary: %zu recurrent layer(s)%s, input %lld, output %lld per %s, %lld parameters, layout %s\n",
              spec.layers.size(), spec.head ? " + dense head" : "", static_cast<long long>(spec.input_size()),
              static_cast<long long>(spec.output_size()),
              spec.head && spec.head->last_step_only ? "sequence (last step)" : "step",
              static_cast<long long>(spec.parameter_count()), spec.batch_first ? "(B, T, F)" : "(T, B, F)");
  // Staged next to the destination and renamed over it only once checked: a failed convert
  // leaves an existing destination exactly as it was.
  std::string staged = o.out + ".XXXXXX";
  const int fd = ::mkstemp(staged.data());
  if (fd < 0) {
    std::fprintf(stderr, "recur convert: io: %s: cannot create a file next to it: %s\n", o.out.c_str(), std::strerror(errno));
    return 1;
  }
  ::close(fd);
  Status w = write_model(spec, staged);
  if (!w.ok()) {
    std::remove(staged.c_str());
    std::fprintf(stderr, "recur convert: %s\n", w.to_string().c_str());
    return 1;
  }
  if (!o.no_check) {
    auto check = self_check(staged, *conv, o.atol, o.rtol);
    if (!check.ok() || !check->ok) {
      std::remove(staged.c_str());
      if (!check.ok())
        std::fprintf(stderr, "recur convert: self-check could not run: %s\n", check.status().to_string().c_str());
      else
        std::fprintf(stderr, "recur convert: self-check FAILED: max abs error %.3g, max rel error %.3g "
                             "(atol %.3g, rtol %.3g); %s not written\n",
                     check->max_abs, check->max_rel, o.atol, o.rtol, o.out.c_str());
      return 1;
    }
    std::printf("self-check: recur vs the converter's own fp64 reading of the %s source (its gate order and "
                "storage) on a random input (T=7, B=2): max abs error %.3g, max rel error %.3g — ok\n",
                convert::source_format_name(conv->format), check->max_abs, check->max_rel);
    for (const auto& u : conv->unchecked)
      std::printf("  not checked (the source does not state it): %s\n", u.c_str());
  }
  if (std::rename(staged.c_str(), o.out.c_str()) != 0) {
    std::fprintf(stderr, "recur convert: io: cannot rename the converted model onto %s: %s\n", o.out.c_str(),
                 std::strerror(errno));
    std::remove(staged.c_str());
    return 1;
  }
  std::printf("wrote %s%s\n", o.out.c_str(), o.no_check ? " (self-check skipped)" : "");
  return 0;
}

const Command kConvert{
    "convert", "Convert an ONNX, PyTorch, safetensors or Keras model into a .recur file",
    [](CLI::App& sub) -> Action {
      auto o = std::make_shared<Opts>();
      sub.add_option("source", o->src, "model file: .onnx .pt .pth .safetensors .keras .h5")->required();
      sub.add_option("-o,--output", o->out, "the .recur file to write")->required();
      sub.add_option("--arch", o->conv.arch.arch, "state_dicts: lstm | gru | rnn | lstm_v1 (default: inferred)");
      sub.add_option("--layers", o->conv.arch.layers, "state_dicts: number of stacked layers (checked)");
      sub.add_flag("--bidirectional", o->bidirectional, "state_dicts: the module is bidirectional (checked)");
      sub.add_option("--proj-size", o->conv.arch.proj_size, "state_dicts: LSTM proj_size (checked)");
      auto* arch = &o->conv.arch;
      auto* batch_first = sub.add_flag_callback(
          "--batch-first", [arch] { arch->batch_first = true; },
          "state_dicts: the module takes x as (B, T, F) (batch_first=True)");
      sub.add_flag_callback("--time-major", [arch] { arch->batch_first = false; },
                            "state_dicts: the module takes x as (T, B, F) (default for a bare nn.LSTM/GRU/RNN)")
          ->excludes(batch_first);
      sub.add_option("--nonlinearity", o->conv.arch.nonlinearity, "state_dicts, rnn: tanh | relu");
      sub.add_option("--prefix", o->conv.arch.prefix, "state_dicts: key prefix of the recurrent module, e.g. 'lstm.'");
      sub.add_option("--head", o->conv.arch.head, "state_dicts: none | linear (default: inferred)");
      sub.add_option("--head-prefix", o->conv.arch.head_prefix, "state_dicts: key prefix of the head, e.g. 'fc.'");
      sub.add_flag("--softmax", o->conv.arch.softmax, "state_dicts: softmax after the head");
      auto* last_step = sub.add_flag_callback("--last-step", [arch] { arch->last_step = true; },
                                              "state_dicts: the head reads the last step only (out[:, -1])");
      sub.add_flag_callback("--every-step", [arch] { arch->last_step = false; },
                            "state_dicts: the head is applied at every step")
          ->excludes(last_step);
      sub.add_option("--name", o->conv.name, "model name stored in the file (default: the source's stem)");
      sub.add_flag("--no-check", o->no_check, "skip the self-check");
      sub.add_option("--check-atol", o->atol, "self-check absolute tolerance (default 1e-5)");
      sub.add_option("--check-rtol", o->rtol, "self-check relative tolerance (default 1e-4)");
      return [o, &sub]() -> int {
        if (sub.count("--bidirectional")) o->conv.arch.bidirectional = o->bidirectional;
        struct stat src_stat {};
        const uint64_t bytes = ::stat(o->src.c_str(), &src_stat) == 0 ? static_cast<uint64_t>(src_stat.st_size) : 0;
        // Keras sources go through libhdf5, which a crafted file can crash: contain that.
        const auto format = convert::detect_format(o->src);
        const bool hdf5 = format.ok() && (*format == convert::SourceFormat::keras ||
                                          *format == convert::SourceFormat::keras_h5);
        if (!hdf5) return run_convert(*o, bytes);
        return convert::run_contained(o->src, convert::limits_for_source(bytes), [&] { return run_convert(*o, bytes); });
      };
    }};

}  // namespace
}  // namespace recur::cli
