// `recur convert SRC -o OUT.recur [options]`: ONNX, PyTorch (.pt/.pth), .safetensors, Keras
// (.keras/.h5) or the seed's LSTM_v1 state_dict -> .recur. Prints the layers found and what was
// inferred, writes a staged file next to the output, self-checks it (loaded and run on a random
// input and compared with an fp64 evaluation of the SOURCE's own semantics, its gate order and
// storage), and only then renames it onto the output: a failure leaves the destination as it was.
#include <cstdio>
#include <sys/stat.h>

#include "tools/command.hpp"
#include "tools/convert/contained.hpp"
#include "tools/convert/convert.hpp"
#include "tools/convert/write_checked.hpp"

namespace recur::cli {
namespace {

struct Opts {
  std::string src, out;
  convert::ConvertOptions conv;
  bool bidirectional = false;
  convert::CheckOptions check;
  std::vector<std::string> meta;  // --meta KEY=VALUE
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
  std::printf("%s", convert::conversion_summary(o.src, *conv).c_str());
  auto written = convert::write_checked(*conv, o.out, o.check, o.conv.progress);
  if (!written.ok()) {
    std::fprintf(stderr, "recur convert: %s\n", written.status().to_string().c_str());
    return 1;
  }
  std::printf("%s", written->c_str());
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
      sub.add_option("--meta", o->meta, "KEY=VALUE stored as user metadata (repeatable; over the source's own)");
      sub.add_flag("--no-check", o->check.skip, "skip the self-check");
      sub.add_option("--check-atol", o->check.atol, "self-check absolute tolerance (default 1e-5)");
      sub.add_option("--check-rtol", o->check.rtol, "self-check relative tolerance (default 1e-4)");
      return [o, &sub]() -> int {
        if (sub.count("--bidirectional")) o->conv.arch.bidirectional = o->bidirectional;
        for (const std::string& kv : o->meta) {
          const size_t eq = kv.find('=');
          if (eq == std::string::npos || eq == 0) {
            std::fprintf(stderr, "recur convert: invalid_argument: --meta '%s' is not KEY=VALUE\n", kv.c_str());
            return 2;
          }
          o->conv.metadata[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
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
