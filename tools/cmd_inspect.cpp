// `recur inspect FILE [--json]`: version, layers, tensors, parameter count and file size.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "formats/shape_str.hpp"
#include "recur/format.hpp"
#include "tools/command.hpp"

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

nlohmann::json to_json(const ModelFile& f) {
  using nlohmann::json;
  const ModelSpec& spec = f.spec;
  json layers = json::array();
  for (const RecurrentLayer& l : spec.layers) {
    json acts = json::array();
    for (const Activation& a : l.activations) acts.push_back({{"name", a.name}, {"alpha", a.alpha}, {"beta", a.beta}});
    layers.push_back({{"type", cell_name(l.cell)}, {"direction", direction_name(l.direction)},
                      {"input_size", l.input_size}, {"hidden_size", l.hidden_size},
                      {"proj_size", l.proj_size}, {"output_width", l.output_width()},
                      {"clip", l.clip}, {"input_forget", l.input_forget},
                      {"linear_before_reset", l.linear_before_reset}, {"peepholes", l.peepholes},
                      {"activations", acts}});
  }
  if (spec.head) {
    layers.push_back({{"type", "dense"}, {"input_size", spec.head->input_size},
                      {"output_size", spec.head->output_size}, {"softmax", spec.head->softmax},
                      {"last_step_only", spec.head->last_step_only}});
  }
  json tensors = json::array();
  for (const TensorInfo& t : f.info.tensors) {
    tensors.push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}, {"bytes", t.size},
                       {"offset", t.offset}});
  }
  char checksum[17];
  std::snprintf(checksum, sizeof checksum, "%016llx", static_cast<unsigned long long>(f.info.checksum));
  return {{"format_version", std::to_string(f.info.version_major) + "." + std::to_string(f.info.version_minor)},
          {"file_size", f.info.file_size}, {"metadata_size", f.info.metadata_size},
          {"data_size", f.info.data_size}, {"checksum_xxh64", checksum},
          {"name", spec.name}, {"producer", spec.producer}, {"source", spec.source},
          {"source_xxh64", spec.source_hash}, {"batch_first", spec.batch_first},
          {"input_size", spec.input_size()}, {"output_size", spec.output_size()},
          {"parameters", spec.parameter_count()}, {"layers", layers}, {"tensors", tensors}};
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
  std::printf("\ntensors:\n");
  for (const TensorInfo& t : f.info.tensors) {
    std::printf("  %-26s %s %-12s %10llu bytes\n", t.name.c_str(), t.dtype.c_str(), join_dims(t.shape, "x").c_str(),
                static_cast<unsigned long long>(t.size));
  }
  std::printf("\nparameters: %lld\n", static_cast<long long>(spec.parameter_count()));
}

const Command inspect_command("inspect", "Print a .recur file's version, layers and tensors", [](CLI::App& sub) {
  auto path = std::make_shared<std::string>();
  auto json_out = std::make_shared<bool>(false);
  sub.add_option("file", *path, "The .recur model")->required();
  sub.add_flag("--json", *json_out, "Print as JSON");
  return [path, json_out]() {
    Result<ModelFile> f = read_model(*path);
    if (!f.ok()) {
      std::fprintf(stderr, "recur inspect: %s\n", f.status().to_string().c_str());
      return 1;
    }
    if (*json_out) std::printf("%s\n", to_json(*f).dump(2).c_str());
    else print_text(*path, *f);
    return 0;
  };
});

}  // namespace
}  // namespace recur::cli
