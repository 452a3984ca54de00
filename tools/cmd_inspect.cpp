// `recur inspect FILE [--json[=OUT]]`: version, layers, tensors, parameter count and file size.
#include <cstdio>

#include "formats/shape_str.hpp"
#include "recur/format.hpp"
#include "tools/command.hpp"
#include "tools/model_json.hpp"

namespace recur::cli {
namespace {

std::string activations_str(const RecurrentLayer& l) {
  std::string s;
  for (const Activation& a : l.activations) {
    if (!s.empty()) s += ",";
    s += a.name;
    if (a.alpha != 0.0f || a.beta != 0.0f) s += "(" + std::to_string(a.alpha) + "," + std::to_string(a.beta) + ")";
  }
  return s.empty() ? "default" : s;
}

void print_text(const std::string& path, const ModelFile& f) {
  const ModelSpec& spec = f.spec;
  std::printf("%s: recur format %u.%u, %llu bytes (metadata %llu, data %llu), xxh64 %016llx\n",
              path.c_str(), f.info.version_major, f.info.version_minor,
              static_cast<unsigned long long>(f.info.file_size),
              static_cast<unsigned long long>(f.info.metadata_size),
              static_cast<unsigned long long>(f.info.data_size),
              static_cast<unsigned long long>(f.info.checksum));
  if (!spec.name.empty()) std::printf("name: %s\n", spec.name.c_str());
  if (!spec.producer.empty()) std::printf("producer: %s\n", spec.producer.c_str());
  if (!spec.source.empty()) std::printf("source: %s %s\n", spec.source.c_str(), spec.source_hash.c_str());
  std::printf("layout: %s, input %lld, output %lld per step\n\nlayers:\n",
              spec.batch_first ? "batch-first (B, T, .)" : "time-major (T, B, .)",
              static_cast<long long>(spec.input_size()), static_cast<long long>(spec.output_size()));
  if (spec.embedding) {
    std::printf("  -  embedding vocab %lld dim %lld (input: token ids)\n",
                static_cast<long long>(spec.embedding->vocab_size), static_cast<long long>(spec.embedding->dim));
  }
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const RecurrentLayer& l = spec.layers[i];
    std::printf("  %zu  %-4s %-13s in %-5lld hidden %-5lld", i, cell_name(l.cell), direction_name(l.direction),
                static_cast<long long>(l.input_size), static_cast<long long>(l.hidden_size));
    if (l.proj_size) std::printf(" proj %lld", static_cast<long long>(l.proj_size));
    if (l.peepholes) std::printf(" peepholes");
    if (l.clip > 0) std::printf(" clip %g", static_cast<double>(l.clip));
    if (l.input_forget) std::printf(" input_forget");
    if (l.linear_before_reset) std::printf(" linear_before_reset");
    std::printf(" activations %s\n", activations_str(l).c_str());
  }
  if (spec.head) {
    std::printf("  %zu  dense in %lld out %lld%s%s\n", spec.layers.size(),
                static_cast<long long>(spec.head->input_size), static_cast<long long>(spec.head->output_size),
                spec.head->softmax ? " softmax" : "", spec.head->last_step_only ? " last-step-only" : "");
  }
  if (spec.final_state) {
    std::printf("  -  output: final state, h_n rows %lld..%lld%s\n", static_cast<long long>(spec.final_state->first_row),
                static_cast<long long>(spec.final_state->first_row + spec.final_state->rows - 1),
                spec.final_state->squeeze ? " (B, W)" : "");
  }
  if (!spec.initial_h.empty() || !spec.initial_c.empty()) {
    std::printf("initial state: %s%s (used when a run gives none)\n", spec.initial_h.empty() ? "" : "h",
                spec.initial_c.empty() ? "" : " c");
  }
  if (!spec.metadata.empty()) {
    std::printf("\nmetadata:\n");
    for (const auto& [key, value] : spec.metadata) std::printf("  %s = %s\n", key.c_str(), value.c_str());
  }
  std::printf("\ntensors:\n");
  for (const TensorInfo& t : f.info.tensors) {
    std::printf("  %-26s %s %-12s %10llu bytes\n", t.name.c_str(), t.dtype.c_str(), join_dims(t.shape, "x").c_str(),
                static_cast<unsigned long long>(t.size));
  }
  std::printf("\nparameters: %lld\n", static_cast<long long>(spec.parameter_count()));
}

const Command inspect_command("inspect", "Print a .recur file's version, layers and tensors", [](CLI::App& sub) {
  auto path = std::make_shared<std::string>();
  auto json_out = std::make_shared<std::string>();
  sub.add_option("file", *path, "The .recur model")->required();
  add_json_flag(sub, *json_out, "The file's description");
  return [path, json_out]() {
    Result<ModelFile> f = read_model(*path);
    if (!f.ok()) {
      std::fprintf(stderr, "recur inspect: %s\n", f.status().to_string().c_str());
      return 1;
    }
    if (json_out->empty() || !json_to_stdout(*json_out)) print_text(*path, *f);
    if (!json_out->empty() && !write_json(*json_out, model_file_json(*f), "inspect")) return 1;
    return 0;
  };
});

}  // namespace
}  // namespace recur::cli
