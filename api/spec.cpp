// ModelSpec helpers and validate(): the single definition of what a runnable model is.
#include "recur/spec.hpp"

#include <cmath>
#include <string>

#include "formats/activations.hpp"
#include "formats/finite.hpp"
#include "formats/shape_str.hpp"

namespace recur {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 24;  // no layer is 16M units wide
constexpr size_t kMaxMetadataKey = 256;
constexpr size_t kMaxMetadataEntries = 4096;

// How much of a tensor validate looks at.
enum class Check {
  shapes,  // attributes and shapes only (the reader, before it streams the data)
  sizes,   // and that the data fills the shape
  finite,  // and that every value is finite
};

Status check_tensor(const Tensor& t, const std::string& what, std::vector<int64_t> expected,
                    Check check) {
  if (t.shape != expected) {
    return {Errc::invalid_model, what + " has shape " + shape_str(t.shape) + ", expected " +
                                     shape_str(expected)};
  }
  if (check == Check::shapes) return {};
  int64_t n = 1;
  for (int64_t d : expected) n *= d;  // dims already bounded by kMaxDim checks
  if (t.numel() != n) {
    return {Errc::invalid_model, what + " holds " + std::to_string(t.numel()) +
                                     " values but its shape needs " + std::to_string(n)};
  }
  if (check == Check::finite) {
    const int64_t i = first_non_finite(t.data.data(), n);
    if (i < n) {
      return {Errc::non_finite, what + " has a non-finite value at flat index " + std::to_string(i)};
    }
  }
  return {};
}

Status check_dim(int64_t v, const std::string& what) {
  if (v <= 0 || v > kMaxDim) {
    return {Errc::invalid_model, what + " is " + std::to_string(v) + ", expected 1.." +
                                     std::to_string(kMaxDim)};
  }
  return {};
}

Status validate_layer(const RecurrentLayer& layer, const std::string& where, Check check) {
  RECUR_TRY(check_dim(layer.input_size, where + " input_size"));
  RECUR_TRY(check_dim(layer.hidden_size, where + " hidden_size"));
  if (layer.proj_size < 0 || layer.proj_size > kMaxDim) {
    return {Errc::invalid_model, where + " proj_size is " + std::to_string(layer.proj_size)};
  }
  const bool lstm = layer.cell == CellType::lstm;
  if (!lstm && layer.proj_size != 0) return {Errc::invalid_model, where + " proj_size needs an lstm"};
  if (!lstm && layer.peepholes) return {Errc::invalid_model, where + " peepholes need an lstm"};
  if (!lstm && layer.input_forget) return {Errc::invalid_model, where + " input_forget needs an lstm"};
  if (layer.cell != CellType::gru && layer.linear_before_reset) {
    return {Errc::invalid_model, where + " linear_before_reset needs a gru"};
  }
  if (!(layer.clip >= 0.0f) || std::isinf(layer.clip)) {
    return {Errc::invalid_model, where + " clip must be a finite value >= 0"};
  }
  const int dirs = direction_count(layer.direction);
  const size_t acts = static_cast<size_t>(activation_count(layer.cell) * dirs);
  if (!layer.activations.empty() && layer.activations.size() != acts) {
    return {Errc::invalid_model, where + " has " + std::to_string(layer.activations.size()) +
                                     " activations, expected " + std::to_string(acts) + " or none"};
  }
  for (const Activation& a : layer.activations) {
    if (!is_known_activation(a.name)) {
      return {Errc::invalid_model, where + " uses unknown activation '" + a.name + "'"};
    }
    if (!std::isfinite(a.alpha) || !std::isfinite(a.beta)) {
      return {Errc::invalid_model, where + " activation '" + a.name + "' has non-finite alpha/beta"};
    }
  }
  if (layer.weights.size() != static_cast<size_t>(dirs)) {
    return {Errc::invalid_model, where + " has weights for " + std::to_string(layer.weights.size()) +
                                     " directions, expected " + std::to_string(dirs)};
  }
  const int64_t gh = gate_count(layer.cell) * layer.hidden_size;
  const int64_t h = layer.hidden_size;
  const int64_t hout = layer.output_size();
  for (int d = 0; d < dirs; ++d) {
    const DirectionWeights& w = layer.weights[static_cast<size_t>(d)];
    const bool reverse = d == 1 || layer.direction == Direction::reverse;
    const std::string p = where + (reverse ? " reverse " : " forward ");
    RECUR_TRY(check_tensor(w.W, p + "W", {gh, layer.input_size}, check));
    RECUR_TRY(check_tensor(w.R, p + "R", {gh, hout}, check));
    RECUR_TRY(check_tensor(w.Wb, p + "Wb", {gh}, check));
    RECUR_TRY(check_tensor(w.Rb, p + "Rb", {gh}, check));
    if (layer.peepholes) {
      RECUR_TRY(check_tensor(w.P, p + "P", {3 * h}, check));
    } else if (!w.P.empty()) {
      return {Errc::invalid_model, p + "P is present but peepholes are off"};
    }
    if (layer.proj_size > 0) {
      RECUR_TRY(check_tensor(w.Wp, p + "Wp", {hout, h}, check));
    } else if (!w.Wp.empty()) {
      return {Errc::invalid_model, p + "Wp is present but proj_size is 0"};
    }
  }
  return {};
}

}  // namespace

const char* cell_name(CellType cell) noexcept {
  switch (cell) {
    case CellType::rnn: return "rnn";
    case CellType::lstm: return "lstm";
    case CellType::gru: return "gru";
  }
  return "?";
}

const char* direction_name(Direction dir) noexcept {
  switch (dir) {
    case Direction::forward: return "forward";
    case Direction::reverse: return "reverse";
    case Direction::bidirectional: return "bidirectional";
  }
  return "?";
}

int gate_count(CellType cell) noexcept {
  switch (cell) {
    case CellType::rnn: return 1;
    case CellType::lstm: return 4;
    case CellType::gru: return 3;
  }
  return 0;
}

int activation_count(CellType cell) noexcept {
  switch (cell) {
    case CellType::rnn: return 1;
    case CellType::lstm: return 3;
    case CellType::gru: return 2;
  }
  return 0;
}

bool is_known_activation(const std::string& name) noexcept {
  Activation unused;
  return activation_with_defaults(name, unused);
}

bool activation_with_defaults(const std::string& name, Activation& out) noexcept {
  const ActivationInfo* k = find_activation(name);
  if (!k) return false;
  out = Activation{k->name, k->alpha, k->beta};
  return true;
}

Tensor make_tensor(std::vector<int64_t> shape, float fill) {
  Tensor t;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  t.shape = std::move(shape);
  t.data.assign(static_cast<size_t>(n), fill);
  return t;
}

namespace {

// W of a final-state output: the Hout its rows share (0 when they do not, or are out of range).
int64_t final_state_width(const ModelSpec& spec) {
  const FinalStateOutput& f = *spec.final_state;
  int64_t row = 0, width = 0;
  for (const RecurrentLayer& l : spec.layers) {
    for (int d = 0; d < direction_count(l.direction); ++d, ++row) {
      if (row < f.first_row || row >= f.first_row + f.rows) continue;
      if (width != 0 && width != l.output_size()) return 0;
      width = l.output_size();
    }
  }
  return f.first_row >= 0 && f.rows >= 1 && f.first_row + f.rows <= row ? width : 0;
}

// The parts around the recurrent stack: embedding, final-state output, default initial state.
Status validate_front_and_state(const ModelSpec& spec, Check check) {
  for (const auto& [key, value] : spec.metadata) {
    if (key.empty() || key.size() > kMaxMetadataKey) {
      return {Errc::invalid_model, "metadata key '" + key.substr(0, 64) + "' is empty or longer than " +
                                       std::to_string(kMaxMetadataKey) + " bytes"};
    }
  }
  if (spec.metadata.size() > kMaxMetadataEntries) {
    return {Errc::invalid_model, "metadata has " + std::to_string(spec.metadata.size()) +
                                     " entries, at most " + std::to_string(kMaxMetadataEntries)};
  }
  if (spec.embedding) {
    const Embedding& e = *spec.embedding;
    RECUR_TRY(check_dim(e.vocab_size, "embedding vocab_size"));
    if (e.dim != spec.input_size()) {
      return {Errc::invalid_model, "embedding dim is " + std::to_string(e.dim) +
                                       " but the first layer's input_size is " + std::to_string(spec.input_size())};
    }
    RECUR_TRY(check_tensor(e.table, "embedding table", {e.vocab_size, e.dim}, check));
  }
  if (spec.final_state) {
    if (spec.head) return {Errc::invalid_model, "a final-state output and a dense head exclude each other"};
    const FinalStateOutput& f = *spec.final_state;
    if (final_state_width(spec) == 0) {
      return {Errc::invalid_model, "final-state output rows " + std::to_string(f.first_row) + " + " +
                                       std::to_string(f.rows) + " are outside the " +
                                       std::to_string(spec.state_rows()) + " state rows or differ in width"};
    }
    if (f.squeeze && f.rows != 1) return {Errc::invalid_model, "final-state output squeeze needs rows = 1"};
  }
  if (!spec.initial_h.empty()) {
    RECUR_TRY(check_tensor(spec.initial_h, "initial_h", {spec.state_rows(), spec.state_width()}, check));
  }
  if (!spec.initial_c.empty()) {
    if (spec.cell_width() == 0) return {Errc::invalid_model, "initial_c needs an lstm layer"};
    RECUR_TRY(check_tensor(spec.initial_c, "initial_c", {spec.state_rows(), spec.cell_width()}, check));
  }
  return {};
}

}  // namespace

bool LayerConfig::operator==(const LayerConfig& o) const {
  return cell == o.cell && direction == o.direction && input_size == o.input_size &&
         hidden_size == o.hidden_size && proj_size == o.proj_size && activations == o.activations &&
         clip == o.clip && input_forget == o.input_forget &&
         linear_before_reset == o.linear_before_reset && peepholes == o.peepholes;
}

bool RecurrentLayer::operator==(const RecurrentLayer& o) const {
  return LayerConfig::operator==(o) && weights == o.weights;
}

int64_t ModelSpec::output_size() const noexcept {
  if (head) return head->output_size;
  if (final_state) return final_state_width(*this);
  return layers.empty() ? 0 : layers.back().output_width();
}

int64_t ModelSpec::parameter_count() const noexcept {
  int64_t n = 0;
  for (const RecurrentLayer& l : layers) {
    for (const DirectionWeights& w : l.weights) {
      n += w.W.numel() + w.R.numel() + w.Wb.numel() + w.Rb.numel() + w.P.numel() + w.Wp.numel();
    }
  }
  if (head) n += head->W.numel() + head->b.numel();
  if (embedding) n += embedding->table.numel();
  return n + initial_h.numel() + initial_c.numel();
}

bool ModelSpec::operator==(const ModelSpec& o) const {
  return name == o.name && producer == o.producer && source == o.source &&
         source_hash == o.source_hash && batch_first == o.batch_first && layers == o.layers &&
         head == o.head && metadata == o.metadata && embedding == o.embedding &&
         final_state == o.final_state && initial_h == o.initial_h && initial_c == o.initial_c;
}

namespace {

Status validate_spec(const ModelSpec& spec, Check check) {
  if (spec.layers.empty()) return {Errc::invalid_model, "model has no recurrent layer"};
  int64_t width = spec.layers.front().input_size;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const RecurrentLayer& layer = spec.layers[i];
    const std::string where = "layer " + std::to_string(i) + " (" + cell_name(layer.cell) + ")";
    if (layer.input_size != width) {
      return {Errc::invalid_model, where + " input_size is " + std::to_string(layer.input_size) +
                                       " but the previous layer outputs " + std::to_string(width)};
    }
    RECUR_TRY(validate_layer(layer, where, check));
    width = layer.output_width();
  }
  if (spec.head) {
    const DenseHead& head = *spec.head;
    if (head.input_size != width) {
      return {Errc::invalid_model, "dense head input_size is " + std::to_string(head.input_size) +
                                       " but the last layer outputs " + std::to_string(width)};
    }
    RECUR_TRY(check_dim(head.output_size, "dense head output_size"));
    RECUR_TRY(check_tensor(head.W, "dense head W", {head.output_size, head.input_size}, check));
    RECUR_TRY(check_tensor(head.b, "dense head b", {head.output_size}, check));
  }
  return validate_front_and_state(spec, check);
}

}  // namespace

int64_t ModelSpec::state_rows() const noexcept {
  int64_t n = 0;
  for (const RecurrentLayer& l : layers) n += direction_count(l.direction);
  return n;
}

int64_t ModelSpec::state_width() const noexcept {
  int64_t w = 0;
  for (const RecurrentLayer& l : layers) w = std::max(w, l.output_size());
  return w;
}

int64_t ModelSpec::cell_width() const noexcept {
  int64_t w = 0;
  for (const RecurrentLayer& l : layers) {
    if (l.cell == CellType::lstm) w = std::max(w, l.hidden_size);
  }
  return w;
}

bool ModelSpec::needs_format_v2() const noexcept {
  return embedding || final_state || !initial_h.empty() || !initial_c.empty();
}

Status validate(const ModelSpec& spec, bool check_finite) {
  return validate_spec(spec, check_finite ? Check::finite : Check::sizes);
}

Status validate_shapes(const ModelSpec& spec) { return validate_spec(spec, Check::shapes); }

}  // namespace recur
