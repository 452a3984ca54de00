// model_file_json: the JSON that `recur inspect --json` prints (and the Python Model.info() returns).
#include "tools/model_json.hpp"

#include <cstdio>

namespace recur::cli {

nlohmann::json model_file_json(const ModelFile& f) {
  using nlohmann::json;
  const ModelSpec& spec = f.spec;
  json layers = json::array();
  if (spec.embedding) {
    layers.push_back({{"type", "embedding"}, {"vocab_size", spec.embedding->vocab_size}, {"dim", spec.embedding->dim}});
  }
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
  if (spec.final_state) {
    layers.push_back({{"type", "final_state"}, {"first_row", spec.final_state->first_row},
                      {"rows", spec.final_state->rows}, {"squeeze", spec.final_state->squeeze}});
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
          {"parameters", spec.parameter_count()}, {"metadata", spec.metadata},
          {"initial_state", !spec.initial_h.empty() || !spec.initial_c.empty()},
          {"layers", layers}, {"tensors", tensors}};
}

}  // namespace recur::cli
