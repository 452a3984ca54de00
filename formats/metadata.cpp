// Metadata JSON of a .recur file: writing it from a ModelSpec and parsing it back strictly.
#include "formats/metadata.hpp"

#include <cmath>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "formats/checked.hpp"
#include "formats/layout.hpp"

namespace recur::metadata {
namespace {

using nlohmann::json;

Status bad(const std::string& message) { return {Errc::bad_metadata, message}; }

// Depth of [ and { nesting outside strings; bounds the parser's and destructor's recursion.
int max_depth(const std::string& text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

const char* const kEmbeddingTable = "embedding.table";
const char* const kInitialH = "initial.h";
const char* const kInitialC = "initial.c";

const char* role_name(int role) {
  static const char* const kRoles[] = {"W", "R", "Wb", "Rb", "P", "Wp"};
  return kRoles[role];
}

// Typed readers for one key of an object; `where` names the object in messages.
Status get_int(const json& obj, const char* key, const std::string& where, int64_t& out,
               bool required, int64_t fallback = 0) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return bad(where + " lacks key '" + key + "'");
    out = fallback;
    return {};
  }
  if (it->is_number_unsigned()) {
    if (it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return bad(where + " key '" + key + "' is out of range");
    }
    out = static_cast<int64_t>(it->get<uint64_t>());
    return {};
  }
  if (!it->is_number_integer()) return bad(where + " key '" + key + "' must be an integer");
  out = it->get<int64_t>();
  return {};
}

Status get_bool(const json& obj, const char* key, const std::string& where, bool& out) {
  auto it = obj.find(key);
  if (it == obj.end()) { out = false; return {}; }
  if (!it->is_boolean()) return bad(where + " key '" + key + "' must be true or false");
  out = it->get<bool>();
  return {};
}

Status get_float(const json& obj, const char* key, const std::string& where, float& out) {
  auto it = obj.find(key);
  if (it == obj.end()) { out = 0.0f; return {}; }
  if (!it->is_number()) return bad(where + " key '" + key + "' must be a number");
  const double v = it->get<double>();
  if (!std::isfinite(v) || std::fabs(v) > std::numeric_limits<float>::max()) {
    return bad(where + " key '" + key + "' is not a finite float");
  }
  out = static_cast<float>(v);
  return {};
}

Status get_string(const json& obj, const char* key, const std::string& where, std::string& out,
                  bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return bad(where + " lacks key '" + key + "'");
    out.clear();
    return {};
  }
  if (!it->is_string()) return bad(where + " key '" + key + "' must be a string");
  out = it->get<std::string>();
  return {};
}

Status parse_recurrent(const json& obj, const std::string& where, CellType cell,
                       RecurrentLayer& layer) {
  layer.cell = cell;
  std::string dir;
  RECUR_TRY(get_string(obj, "direction", where, dir, true));
  if (dir == "forward") layer.direction = Direction::forward;
  else if (dir == "reverse") layer.direction = Direction::reverse;
  else if (dir == "bidirectional") layer.direction = Direction::bidirectional;
  else return bad(where + " has unknown direction '" + dir + "'");
  RECUR_TRY(get_int(obj, "input_size", where, layer.input_size, true));
  RECUR_TRY(get_int(obj, "hidden_size", where, layer.hidden_size, true));
  RECUR_TRY(get_int(obj, "proj_size", where, layer.proj_size, false));
  RECUR_TRY(get_float(obj, "clip", where, layer.clip));
  RECUR_TRY(get_bool(obj, "input_forget", where, layer.input_forget));
  RECUR_TRY(get_bool(obj, "linear_before_reset", where, layer.linear_before_reset));
  RECUR_TRY(get_bool(obj, "peepholes", where, layer.peepholes));
  auto acts = obj.find("activations");
  if (acts != obj.end()) {
    if (!acts->is_array() || acts->size() > 8) {
      return bad(where + " key 'activations' must be an array of at most 8 entries");
    }
    for (size_t i = 0; i < acts->size(); ++i) {
      const json& a = (*acts)[i];
      const std::string w = where + " activation " + std::to_string(i);
      if (!a.is_object()) return bad(w + " must be an object");
      Activation act;
      RECUR_TRY(get_string(a, "name", w, act.name, true));
      RECUR_TRY(get_float(a, "alpha", w, act.alpha));
      RECUR_TRY(get_float(a, "beta", w, act.beta));
      layer.activations.push_back(std::move(act));
    }
  }
  const int dirs = direction_count(layer.direction);
  layer.weights.resize(static_cast<size_t>(dirs));
  return {};
}

// "metadata": {"key": "value", ...}, strings only.
Status parse_user_metadata(const json& model, std::map<std::string, std::string>& out) {
  auto it = model.find("metadata");
  if (it == model.end()) return {};
  if (!it->is_object()) return bad("model key 'metadata' must be an object of strings");
  for (auto kv = it->begin(); kv != it->end(); ++kv) {
    if (!kv.value().is_string()) return bad("model metadata '" + kv.key() + "' must be a string");
    out[kv.key()] = kv.value().get<std::string>();
  }
  return {};
}

Status parse_head(const json& obj, const std::string& where, DenseHead& head) {
  RECUR_TRY(get_int(obj, "input_size", where, head.input_size, true));
  RECUR_TRY(get_int(obj, "output_size", where, head.output_size, true));
  RECUR_TRY(get_bool(obj, "softmax", where, head.softmax));
  RECUR_TRY(get_bool(obj, "last_step_only", where, head.last_step_only));
  return {};
}

Status parse_tensor_entry(const json& obj, size_t index, TensorInfo& t) {
  const std::string where = "tensor entry " + std::to_string(index);
  if (!obj.is_object()) return {Errc::bad_tensor, where + " must be an object"};
  Status s = get_string(obj, "name", where, t.name, true);
  if (s.ok()) s = get_string(obj, "dtype", where, t.dtype, true);
  int64_t offset = 0, size = 0;
  if (s.ok()) s = get_int(obj, "offset", where, offset, true);
  if (s.ok()) s = get_int(obj, "size", where, size, true);
  if (!s.ok()) return {Errc::bad_tensor, s.message()};
  if (t.name.empty() || t.name.size() > layout::kMaxNameLength) {
    return {Errc::bad_tensor, where + " has an empty or over-long name"};
  }
  const std::string named = "tensor '" + t.name + "'";
  if (t.dtype != "f32") {
    return {Errc::bad_tensor, named + " has dtype '" + t.dtype + "'; this version reads only f32"};
  }
  auto shape = obj.find("shape");
  if (shape == obj.end() || !shape->is_array() || shape->empty() || shape->size() > 8) {
    return {Errc::bad_tensor, named + " needs a 'shape' array of 1 to 8 dims"};
  }
  for (const json& d : *shape) {
    if (!d.is_number_integer() || d.get<int64_t>() <= 0) {
      return {Errc::bad_tensor, named + " has a dim that is not a positive integer"};
    }
    if (d.is_number_unsigned() &&
        d.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return {Errc::bad_tensor, named + " has a dim that does not fit in 64 bits"};
    }
    t.shape.push_back(d.get<int64_t>());
  }
  int64_t count = 0, bytes = 0;
  if (!checked::product(t.shape, count) || !checked::mul(count, int64_t{4}, bytes)) {
    return {Errc::bad_tensor, named + " has dims whose product overflows 64 bits"};
  }
  if (offset < 0 || size < 0) return {Errc::bad_tensor, named + " has a negative offset or size"};
  if (size != bytes) {
    return {Errc::bad_tensor, named + " has size " + std::to_string(size) + " but its shape needs " +
                                  std::to_string(bytes) + " bytes"};
  }
  if (offset % static_cast<int64_t>(layout::kAlignment) != 0) {
    return {Errc::bad_tensor, named + " offset " + std::to_string(offset) + " is not " +
                                  std::to_string(layout::kAlignment) + "-byte aligned"};
  }
  t.offset = static_cast<uint64_t>(offset);
  t.size = static_cast<uint64_t>(size);
  return {};
}

}  // namespace

void for_each_tensor(const ModelSpec& spec,
                     const std::function<void(const std::string&, const Tensor&)>& fn) {
  for_each_tensor_slot(const_cast<ModelSpec&>(spec),
                       [&](const std::string& name, Tensor& t) { if (!t.empty()) fn(name, t); });
}

void for_each_tensor_slot(ModelSpec& spec,
                          const std::function<void(const std::string&, Tensor&)>& fn) {
  if (spec.embedding) fn(kEmbeddingTable, spec.embedding->table);
  for (size_t l = 0; l < spec.layers.size(); ++l) {
    RecurrentLayer& layer = spec.layers[l];
    for (size_t d = 0; d < layer.weights.size(); ++d) {
      DirectionWeights& w = layer.weights[d];
      Tensor* slots[] = {&w.W, &w.R, &w.Wb, &w.Rb, &w.P, &w.Wp};
      const bool needed[] = {true, true, true, true, layer.peepholes, layer.proj_size > 0};
      for (int r = 0; r < 6; ++r) {
        const bool reverse = d == 1 || layer.direction == Direction::reverse;
        if (needed[r]) fn(layout::layer_tensor_name(l, reverse, role_name(r)), *slots[r]);
      }
    }
  }
  if (spec.head) {
    fn(layout::head_tensor_name("W"), spec.head->W);
    fn(layout::head_tensor_name("b"), spec.head->b);
  }
  // Present when the spec has them (parse() gives their slots a placeholder shape).
  if (!spec.initial_h.empty()) fn(kInitialH, spec.initial_h);
  if (!spec.initial_c.empty()) fn(kInitialC, spec.initial_c);
}

std::string to_json(const ModelSpec& spec, const std::vector<TensorInfo>& tensors) {
  json layers = json::array();
  if (spec.embedding) {
    layers.push_back({{"type", "embedding"}, {"vocab_size", spec.embedding->vocab_size},
                      {"dim", spec.embedding->dim}});
  }
  for (const RecurrentLayer& l : spec.layers) {
    json acts = json::array();
    for (const Activation& a : l.activations) acts.push_back({{"name", a.name}, {"alpha", a.alpha}, {"beta", a.beta}});
    layers.push_back({{"type", cell_name(l.cell)},
                      {"direction", direction_name(l.direction)},
                      {"input_size", l.input_size},
                      {"hidden_size", l.hidden_size},
                      {"proj_size", l.proj_size},
                      {"clip", l.clip},
                      {"input_forget", l.input_forget},
                      {"linear_before_reset", l.linear_before_reset},
                      {"peepholes", l.peepholes},
                      {"activations", acts}});
  }
  if (spec.head) {
    layers.push_back({{"type", "dense"},
                      {"input_size", spec.head->input_size},
                      {"output_size", spec.head->output_size},
                      {"softmax", spec.head->softmax},
                      {"last_step_only", spec.head->last_step_only}});
  }
  if (spec.final_state) {
    layers.push_back({{"type", "final_state"}, {"first_row", spec.final_state->first_row},
                      {"rows", spec.final_state->rows}, {"squeeze", spec.final_state->squeeze}});
  }
  json table = json::array();
  for (const TensorInfo& t : tensors) {
    table.push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape},
                     {"offset", t.offset}, {"size", t.size}});
  }
  json doc = {{"model", {{"name", spec.name},
                         {"producer", spec.producer},
                         {"source", spec.source},
                         {"source_xxh64", spec.source_hash},
                         {"batch_first", spec.batch_first}}},
              {"layers", layers},
              {"tensors", table}};
  if (!spec.metadata.empty()) doc["model"]["metadata"] = spec.metadata;
  if (!spec.initial_h.empty()) doc["model"]["initial_h"] = true;
  if (!spec.initial_c.empty()) doc["model"]["initial_c"] = true;
  return doc.dump(1, ' ', false, json::error_handler_t::replace);
}

Status parse(const std::string& text, ModelSpec& spec, std::vector<TensorInfo>& tensors) {
  if (max_depth(text) > layout::kMaxJsonDepth) {
    return bad("metadata nests deeper than " + std::to_string(layout::kMaxJsonDepth) + " levels");
  }
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad("metadata is not valid JSON");
  if (!doc.is_object()) return bad("metadata must be a JSON object");

  auto model = doc.find("model");
  if (model == doc.end() || !model->is_object()) return bad("metadata lacks the 'model' object");
  RECUR_TRY(get_string(*model, "name", "model", spec.name, false));
  RECUR_TRY(get_string(*model, "producer", "model", spec.producer, false));
  RECUR_TRY(get_string(*model, "source", "model", spec.source, false));
  RECUR_TRY(get_string(*model, "source_xxh64", "model", spec.source_hash, false));
  RECUR_TRY(get_bool(*model, "batch_first", "model", spec.batch_first));
  RECUR_TRY(parse_user_metadata(*model, spec.metadata));
  bool initial_h = false, initial_c = false;
  RECUR_TRY(get_bool(*model, "initial_h", "model", initial_h));
  RECUR_TRY(get_bool(*model, "initial_c", "model", initial_c));
  if (initial_h) spec.initial_h.shape = {0};  // a slot for the tensor; the file gives the shape
  if (initial_c) spec.initial_c.shape = {0};

  auto layers = doc.find("layers");
  if (layers == doc.end() || !layers->is_array()) return bad("metadata lacks the 'layers' array");
  if (layers->size() > layout::kMaxLayers) return bad("metadata lists too many layers");
  for (size_t i = 0; i < layers->size(); ++i) {
    const json& obj = (*layers)[i];
    const std::string where = "layer " + std::to_string(i);
    if (!obj.is_object()) return bad(where + " must be an object");
    std::string type;
    RECUR_TRY(get_string(obj, "type", where, type, true));
    if (spec.head || spec.final_state) return bad(where + " follows the output layer, which must be last");
    if (type == "dense") {
      spec.head.emplace();
      RECUR_TRY(parse_head(obj, where + " (dense)", *spec.head));
      continue;
    }
    if (type == "embedding") {
      if (i != 0) return bad(where + " is an embedding, which must be the first layer");
      spec.embedding.emplace();
      RECUR_TRY(get_int(obj, "vocab_size", where, spec.embedding->vocab_size, true));
      RECUR_TRY(get_int(obj, "dim", where, spec.embedding->dim, true));
      continue;
    }
    if (type == "final_state") {
      spec.final_state.emplace();
      RECUR_TRY(get_int(obj, "first_row", where, spec.final_state->first_row, true));
      RECUR_TRY(get_int(obj, "rows", where, spec.final_state->rows, true));
      RECUR_TRY(get_bool(obj, "squeeze", where, spec.final_state->squeeze));
      continue;
    }
    CellType cell;
    if (type == "lstm") cell = CellType::lstm;
    else if (type == "gru") cell = CellType::gru;
    else if (type == "rnn") cell = CellType::rnn;
    else return bad(where + " has unknown type '" + type + "'");
    RecurrentLayer layer;
    RECUR_TRY(parse_recurrent(obj, where + " (" + type + ")", cell, layer));
    spec.layers.push_back(std::move(layer));
  }

  auto table = doc.find("tensors");
  if (table == doc.end() || !table->is_array()) return bad("metadata lacks the 'tensors' array");
  if (table->size() > layout::kMaxTensors) return bad("metadata lists too many tensors");
  std::set<std::string> names;
  for (size_t i = 0; i < table->size(); ++i) {
    TensorInfo t;
    RECUR_TRY(parse_tensor_entry((*table)[i], i, t));
    if (!names.insert(t.name).second) return {Errc::bad_tensor, "tensor '" + t.name + "' is listed twice"};
    tensors.push_back(std::move(t));
  }
  return {};
}

}  // namespace recur::metadata
