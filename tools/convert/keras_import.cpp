// Keras -> ModelSpec. Sources: Keras 3 `.keras` (zip: config.json + model.weights.h5, weights
// at layers/<snake_class>[_k]/[cell/]vars/<i>) and legacy `.h5` (root attribute model_config,
// weights at model_weights/<layer>/<weight_names[i]>), both read with the HDF5 C API — no
// Python. Layers: LSTM (kernel (I, 4H) gates i,f,c,o; recurrent (H, 4H); one bias), GRU (z,r,h;
// reset_after=True has bias (2, 3H) = input + recurrent bias and is linear_before_reset),
// SimpleRNN, Bidirectional (merge_mode concat), Dense (+softmax), Dropout (identity at
// inference). Keras emits a go_backwards layer's outputs in processing (reversed) order, which
// recur's reverse layers do not; such layers are refused outside Bidirectional, which flips
// them back. Bidirectional with return_sequences=False (last output of each direction) is
// refused too: recur's last step is y[T-1].
#include <nlohmann/json.hpp>

#include <cstring>
#include <map>
#include <memory>

#include "tools/convert/convert.hpp"
#include "tools/convert/hdf5_file.hpp"
#include "tools/convert/source_reference.hpp"
#include "tools/convert/util.hpp"
#include "tools/convert/zip_reader.hpp"

namespace recur::convert {
namespace {

using json = nlohmann::json;
// ---- where each layer's weights live ----------------------------------------------------------
// Returns the weights of one Keras layer in Keras order: [kernel, recurrent_kernel, bias?] per
// direction (forward then backward for Bidirectional), or [kernel, bias?] for Dense.
class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual Result<std::vector<Tensor>> weights(const json& layer, const std::string& cls, const std::string& name,
                                              const std::vector<size_t>& ranks) = 0;
};

std::string snake(const std::string& cls) {
  if (cls == "SimpleRNN") return "simple_rnn";
  if (cls == "LSTM") return "lstm";
  if (cls == "GRU") return "gru";
  std::string s;
  for (size_t k = 0; k < cls.size(); ++k) {
    char c = cls[k];
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (k) s += '_';
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      s += c;
    }
  }
  return s;
}

// Keras 3 saving_lib: layers/<snake_class>, a counter suffix for repeats of the same class.
class KerasV3Weights : public WeightSource {
 public:
  explicit KerasV3Weights(std::unique_ptr<H5File> f) : f_(std::move(f)) {}
  Result<std::vector<Tensor>> weights(const json&, const std::string& cls, const std::string&,
                                      const std::vector<size_t>& ranks) override {
    std::string base = snake(cls);
    int k = used_[base]++;
    std::string group = "layers/" + base + (k ? cat("_", k) : std::string());
    std::vector<std::string> parts;
    if (cls == "Bidirectional") parts = {group + "/forward_layer/cell/vars", group + "/backward_layer/cell/vars"};
    else if (cls == "Dense") parts = {group + "/vars"};
    else parts = {group + "/cell/vars"};
    std::vector<Tensor> out;
    size_t per = ranks.size() / parts.size();
    for (size_t p = 0; p < parts.size(); ++p) {
      for (size_t i = 0; i < per; ++i) {
        std::string path = cat(parts[p], "/", i);
        auto found = f_->find(path);
        if (!found.ok()) return found.status();
        if (!*found) {
          if (i + 1 == per) {  // the bias is optional (use_bias=False)
            out.emplace_back();
            continue;
          }
        }
        auto t = f_->dataset(path, ranks[p * per + i]);
        if (!t.ok()) return t.status();
        out.push_back(std::move(*t));
      }
    }
    return out;
  }

 private:
  std::unique_ptr<H5File> f_;
  std::map<std::string, int> used_;
};

// Legacy .h5: model_weights/<layer name> with attribute weight_names, in Keras order.
class LegacyH5Weights : public WeightSource {
 public:
  explicit LegacyH5Weights(H5File& f) : f_(f) {}
  Result<std::vector<Tensor>> weights(const json&, const std::string& cls, const std::string& name,
                                      const std::vector<size_t>& ranks) override {
    std::string group = "model_weights/" + name;
    auto names = f_.string_attr(group, "weight_names");
    if (!names.ok()) return names.status();
    size_t dirs = cls == "Bidirectional" ? 2 : 1;
    size_t per = ranks.size() / dirs;
    size_t have = names->size();
    bool with_bias = have == ranks.size();
    if (!with_bias && have != ranks.size() - dirs)
      return fail(Errc::invalid_model, cat(f_.label(), ": layer '", name, "' has ", have, " weights, expected ",
                                           ranks.size(), " (or ", ranks.size() - dirs, " without bias)"));
    std::vector<Tensor> out;
    size_t next = 0;
    for (size_t d = 0; d < dirs; ++d) {
      for (size_t i = 0; i < per; ++i) {
        if (i + 1 == per && !with_bias) {
          out.emplace_back();
          continue;
        }
        auto t = f_.dataset(group + "/" + (*names)[next++], ranks[d * per + i]);
        if (!t.ok()) return t.status();
        out.push_back(std::move(*t));
      }
    }
    return out;
  }

 private:
  H5File& f_;
};

// ---- config -> spec ----------------------------------------------------------------------------
Result<Activation> keras_activation(const json& cfg, const char* key, const std::string& layer, bool keras3) {
  std::string name = cfg.contains(key) && cfg[key].is_string() ? cfg[key].get<std::string>() : std::string();
  if (name.empty()) return fail(Errc::unsupported, cat("layer '", layer, "': ", key, " is not a plain activation name"));
  Activation a;
  if (name == "tanh") activation_with_defaults("Tanh", a);
  else if (name == "sigmoid") activation_with_defaults("Sigmoid", a);
  else if (name == "relu") activation_with_defaults("Relu", a);
  else if (name == "softsign") activation_with_defaults("Softsign", a);
  else if (name == "softplus") activation_with_defaults("Softplus", a);
  else if (name == "linear") activation_with_defaults("Affine", a), a.alpha = 1.0f, a.beta = 0.0f;
  else if (name == "hard_sigmoid") {
    activation_with_defaults("HardSigmoid", a);
    a.alpha = keras3 ? 1.0f / 6.0f : 0.2f;  // Keras 3: relu6(x + 3) / 6; Keras 2: 0.2 x + 0.5
    a.beta = 0.5f;
  } else {
    return fail(Errc::unsupported, cat("layer '", layer, "': activation '", name, "' is not supported"));
  }
  return a;
}

bool cfg_bool(const json& cfg, const char* key, bool dflt) {
  return cfg.contains(key) && cfg[key].is_boolean() ? cfg[key].get<bool>() : dflt;
}

class KerasBuilder {
 public:
  KerasBuilder(std::string path, const ConvertOptions& options, WeightSource& ws, bool keras3)
      : path_(std::move(path)), options_(options), ws_(ws), keras3_(keras3) {}

  Result<Conversion> build(const json& model_config) {
    if (!model_config.is_object() || !model_config.contains("class_name") || !model_config.contains("config"))
      return fail(Errc::bad_metadata, cat(path_, ": model config lacks class_name/config"));
    std::string mcls = model_config["class_name"].is_string() ? model_config["class_name"].get<std::string>() : "";
    if (mcls != "Sequential" && mcls != "Functional" && mcls != "Model")
      return fail(Errc::unsupported, cat(path_, ": model class '", mcls, "' (only Sequential and single-chain functional models)"));
    const json& cfg = model_config["config"];
    if (!cfg.is_object() || !cfg.contains("layers") || !cfg["layers"].is_array())
      return fail(Errc::bad_metadata, cat(path_, ": model config has no layer list"));
    std::string prev;
    for (const json& layer : cfg["layers"]) {
      if (!layer.is_object() || !layer.contains("class_name") || !layer["class_name"].is_string() ||
          !layer.contains("config") || !layer["config"].is_object())
        return fail(Errc::bad_metadata, cat(path_, ": a layer entry lacks class_name/config"));
      std::string lname = layer["config"].value("name", std::string("?"));
      if (mcls != "Sequential" && layer["class_name"] != "InputLayer") RECUR_TRY(check_chain(layer, prev, lname));
      prev = lname;
      Status s = add_layer(layer);
      if (!s.ok()) return s.with_context(path_);
    }
    if (conv_.spec.layers.empty()) return fail(Errc::invalid_model, cat(path_, ": no LSTM, GRU or SimpleRNN layer"));
    if (last_ && !conv_.spec.head) {
      int64_t w = conv_.spec.layers.back().output_width();
      Tensor W = make_tensor({w, w});
      for (int64_t k = 0; k < w; ++k) W.data[k * w + k] = 1.0f;
      set_head(W, make_tensor({w}), false);
      conv_.notes.push_back("identity dense head added: the last layer returns only its last step");
    }
    if (conv_.spec.head) {
      conv_.spec.head->last_step_only = last_;
      native_.head->last_step = last_;
    }
    conv_.spec.batch_first = native_.batch_first = true;  // Keras tensors are (B, T, F)
    RECUR_TRY(finish_spec(conv_.spec, path_, options_.name).with_context(path_));
    for (size_t i = 0; i < conv_.spec.layers.size(); ++i) conv_.layers.push_back(describe_layer(conv_.spec.layers[i], i));
    if (conv_.spec.head) conv_.layers.push_back(describe_head(*conv_.spec.head));
    NativeModel native = native_;
    conv_.reference = [native](const std::vector<double>& x, int64_t T, int64_t B) {
      return evaluate_native(native, x, T, B);
    };
    return std::move(conv_);
  }

  Conversion conv_;

 private:
  std::string path_;
  const ConvertOptions& options_;
  WeightSource& ws_;
  bool keras3_;
  NativeModel native_;
  bool last_ = false;       // the model's output is the last step only
  int64_t input_size_ = -1; // from the InputLayer's shape, when the config has one
  bool head_done_ = false;  // nothing but Activation(softmax)/Dropout may follow the head

  Status check_chain(const json& layer, const std::string& prev, const std::string& lname) {
    // Keras 3 functional: inbound_nodes [{"args": [{"config": {"keras_history": [prev, 0, 0]}}]}]
    const json* in = layer.contains("inbound_nodes") ? &layer["inbound_nodes"] : nullptr;
    std::string from;
    if (in && in->is_array() && in->size() == 1) {
      const json& node = (*in)[0];
      if (node.is_object() && node.contains("args") && node["args"].is_array() && node["args"].size() == 1) {
        const json& a = node["args"][0];
        if (a.is_object() && a.contains("config") && a["config"].is_object() && a["config"].contains("keras_history") &&
            a["config"]["keras_history"].is_array() && !a["config"]["keras_history"].empty() &&
            a["config"]["keras_history"][0].is_string())
          from = a["config"]["keras_history"][0];
      } else if (node.is_array() && node.size() == 1 && node[0].is_array() && !node[0].empty() && node[0][0].is_string()) {
        from = node[0][0];  // Keras 2 format [[["prev", 0, 0, {}]]]
      }
    }
    if (from.empty() || from != prev)
      return fail(Errc::unsupported, cat(path_, ": layer '", lname, "' does not take the previous layer '", prev,
                                         "' as its only input: only single-chain models are supported"));
    return Status::Ok();
  }

  void set_head(const Tensor& W, const Tensor& b, bool softmax) {
    DenseHead h;
    h.input_size = W.shape[1];
    h.output_size = W.shape[0];
    h.W = W;
    h.b = b;
    h.softmax = softmax;
    conv_.spec.head = h;
    native_.head = NativeHead{W, false, b, softmax, false};
  }

  Status add_layer(const json& layer) {
    const std::string cls = layer["class_name"];
    const json& cfg = layer["config"];
    const std::string name = cfg.value("name", std::string("?"));
    if (cls == "InputLayer") {
      // Keras 3 batch_shape / Keras 2 batch_input_shape: [null, T, I]
      for (const char* key : {"batch_shape", "batch_input_shape"}) {
        if (cfg.contains(key) && cfg[key].is_array() && !cfg[key].empty() && cfg[key].back().is_number_integer())
          input_size_ = cfg[key].back().get<int64_t>();
      }
      return Status::Ok();
    }
    if (cls == "Dropout" || cls == "SpatialDropout1D" || cls == "GaussianNoise" || cls == "GaussianDropout") {
      conv_.notes.push_back(cat("layer '", name, "' (", cls, ") is the identity at inference"));
      return Status::Ok();
    }
    if (cls == "Activation") {
      std::string act = cfg.value("activation", std::string());
      if (act == "linear") return Status::Ok();
      if (act != "softmax" || !conv_.spec.head || conv_.spec.head->softmax)
        return fail(Errc::unsupported, cat("layer '", name, "': Activation('", act,
                                           "') is supported only as one softmax after the Dense head"));
      conv_.spec.head->softmax = true;
      native_.head->softmax = true;
      return Status::Ok();
    }
    if (head_done_) return fail(Errc::unsupported, cat("layer '", name, "' (", cls, ") after the Dense head"));
    if (cls == "Dense") return dense(cfg, name);
    if (cls == "LSTM" || cls == "GRU" || cls == "SimpleRNN") return recurrent(cfg, cls, name, nullptr);
    if (cls == "Bidirectional") {
      std::string merge = cfg.contains("merge_mode") && cfg["merge_mode"].is_string() ? cfg["merge_mode"].get<std::string>() : "";
      if (merge != "concat")
        return fail(Errc::unsupported, cat("layer '", name, "': Bidirectional merge_mode '", merge, "' (only concat)"));
      if (!cfg.contains("layer") || !cfg["layer"].is_object() || !cfg["layer"].contains("class_name") ||
          !cfg["layer"].contains("config"))
        return fail(Errc::bad_metadata, cat("layer '", name, "': Bidirectional without an inner layer"));
      const json& inner = cfg["layer"];
      const std::string icls = inner["class_name"].is_string() ? inner["class_name"].get<std::string>() : "";
      if (icls != "LSTM" && icls != "GRU" && icls != "SimpleRNN")
        return fail(Errc::unsupported, cat("layer '", name, "': Bidirectional over '", icls, "'"));
      // (const operator[] on a missing key is undefined behaviour in nlohmann::json: check first.)
      const json* back = &inner["config"];
      if (cfg.contains("backward_layer")) {
        const json& b = cfg["backward_layer"];
        if (!b.is_object() || !b.contains("config") || !b["config"].is_object())
          return fail(Errc::bad_metadata, cat("layer '", name, "': Bidirectional backward_layer without a config"));
        back = &b["config"];
      }
      return recurrent(inner["config"], icls, name, back);
    }
    return fail(Errc::unsupported, cat("layer '", name, "' of class '", cls, "' is not something recur can run"));
  }

  Status dense(const json& cfg, const std::string& name) {
    if (conv_.spec.layers.empty()) return fail(Errc::unsupported, cat("layer '", name, "': Dense before any recurrent layer"));
    std::string act = cfg.value("activation", std::string("linear"));
    if (act != "linear" && act != "softmax")
      return fail(Errc::unsupported, cat("layer '", name, "': Dense activation '", act, "' (only linear or softmax)"));
    auto w = ws_.weights(cfg, "Dense", name, {2, 1});
    if (!w.ok()) return w.status();
    int64_t in = conv_.spec.layers.back().output_width();
    const Tensor& kernel = (*w)[0];
    if (kernel.shape[0] != in)
      return fail(Errc::invalid_model, cat("layer '", name, "': kernel has shape ", shape_str(kernel.shape),
                                           ", expected (", in, ", units)"));
    int64_t units = kernel.shape[1];
    Tensor b = (*w)[1].empty() ? make_tensor({units}) : (*w)[1];
    RECUR_TRY(expect_shape(b, {units}, cat("layer '", name, "': bias")));
    set_head(transpose2d(kernel), b, act == "softmax");
    native_.head->W = kernel;  // the reference keeps Keras's (in, out) storage
    native_.head->transposed = true;
    head_done_ = true;
    return Status::Ok();
  }

  // One recurrent layer; `back` is the backward layer's config for Bidirectional.
  Status recurrent(const json& cfg, const std::string& cls, const std::string& name, const json* back) {
    if (last_) return fail(Errc::unsupported, cat("layer '", name, "' follows a layer with return_sequences=False"));
    const CellType cell = cls == "LSTM" ? CellType::lstm : cls == "GRU" ? CellType::gru : CellType::rnn;
    const bool bidir = back != nullptr;
    const bool ret_seq = cfg_bool(cfg, "return_sequences", false);
    if (cfg_bool(cfg, "go_backwards", false))
      return fail(Errc::unsupported, cat("layer '", name, "': go_backwards=True outside Bidirectional (Keras returns its "
                                         "outputs in reversed time order; recur's reverse layers keep input order)"));
    if (bidir && !cfg_bool(*back, "go_backwards", true))
      return fail(Errc::unsupported, cat("layer '", name, "': the backward layer of Bidirectional does not go backwards"));
    if (bidir && !ret_seq)
      return fail(Errc::unsupported, cat("layer '", name, "': Bidirectional with return_sequences=False returns each "
                                         "direction's final output; recur's last step is y[T-1] — use return_sequences=True"));
    if (cfg_bool(cfg, "return_state", false))
      return fail(Errc::unsupported, cat("layer '", name, "': return_state=True"));
    if (cfg_bool(cfg, "stateful", false))
      conv_.notes.push_back(cat("layer '", name, "': stateful=True ignored (use State/step for streaming)"));
    if (!cfg.contains("units") || !cfg["units"].is_number_integer() || cfg["units"].get<int64_t>() <= 0)
      return fail(Errc::bad_metadata, cat("layer '", name, "': units missing or not positive"));
    const int64_t H = cfg["units"];
    const int64_t G = gate_count(cell);
    int64_t GH = 0, GH2 = 0;  // units come from the file: checked products
    if (!checked::mul(G, H, GH) || !checked::mul(GH, int64_t{2}, GH2))
      return fail(Errc::invalid_model, cat("layer '", name, "': units ", H, " is too large"));
    const int64_t I = conv_.spec.layers.empty() ? input_size_ : conv_.spec.layers.back().output_width();

    RecurrentLayer layer;
    layer.cell = cell;
    layer.direction = bidir ? Direction::bidirectional : Direction::forward;
    layer.hidden_size = H;
    bool reset_after = false;
    if (cell == CellType::gru) {
      reset_after = cfg_bool(cfg, "reset_after", true);
      layer.linear_before_reset = reset_after;
    }
    NativeLayer nl;
    nl.cell = cell;
    nl.gate_order = cell == CellType::lstm ? "ifgo" : cell == CellType::gru ? "zrn" : "h";
    nl.transposed = true;
    nl.direction = layer.direction;
    nl.hidden_size = H;
    nl.linear_before_reset = reset_after;

    std::vector<size_t> ranks = {2, 2, cell == CellType::gru && reset_after ? size_t(2) : size_t(1)};
    if (bidir) ranks.insert(ranks.end(), {ranks[0], ranks[1], ranks[2]});
    auto w = ws_.weights(cfg, bidir ? "Bidirectional" : cls, name, ranks);
    if (!w.ok()) return w.status();
    bool custom = false;
    std::vector<Activation> acts;
    for (int d = 0; d < (bidir ? 2 : 1); ++d) {
      const json& c = d ? *back : cfg;
      if (c.contains("units") && c["units"] != cfg["units"])
        return fail(Errc::invalid_model, cat("layer '", name, "': forward and backward units differ"));
      std::vector<Activation> a;
      if (cell == CellType::rnn) {
        auto act = keras_activation(c, "activation", name, keras3_);
        if (!act.ok()) return act.status();
        a = {*act};
        custom |= act->name != "Tanh";
      } else {
        auto f = keras_activation(c, "recurrent_activation", name, keras3_);
        if (!f.ok()) return f.status();
        auto g = keras_activation(c, "activation", name, keras3_);
        if (!g.ok()) return g.status();
        a = {*f, *g};
        if (cell == CellType::lstm) a.push_back(*g);
        custom |= f->name != "Sigmoid" || g->name != "Tanh";
      }
      acts.insert(acts.end(), a.begin(), a.end());

      const Tensor& kernel = (*w)[d * 3];
      const Tensor& rec = (*w)[d * 3 + 1];
      const Tensor& bias = (*w)[d * 3 + 2];
      const std::string what = cat("layer '", name, "'", bidir ? (d ? " backward" : " forward") : "");
      int64_t in = I < 0 ? kernel.shape[0] : I;
      RECUR_TRY(expect_shape(kernel, {in, GH}, what + " kernel"));
      RECUR_TRY(expect_shape(rec, {H, GH}, what + " recurrent_kernel"));
      Tensor Wb = make_tensor({GH}), Rb = make_tensor({GH});
      Tensor nWb, nRb;
      if (!bias.empty()) {
        if (cell == CellType::gru && reset_after) {
          RECUR_TRY(expect_shape(bias, {2, GH}, what + " bias"));
          Wb = slice_rows(Tensor{{GH2}, bias.data}, 0, GH);
          Rb = slice_rows(Tensor{{GH2}, bias.data}, GH, GH);
          nWb = Wb;
          nRb = Rb;
        } else {
          RECUR_TRY(expect_shape(bias, {GH}, what + " bias"));
          Wb = bias;
          nWb = bias;
        }
      }
      layer.input_size = in;
      nl.input_size = in;
      // Keras stores (in, G*H) with gates in columns; canonical is (G*H, in) with gates in rows.
      // LSTM i,f,c,o = canonical i,f,g,o and GRU z,r,h = canonical z,r,n: only the transpose.
      DirectionWeights dw;
      dw.W = transpose2d(kernel);
      dw.R = transpose2d(rec);
      dw.Wb = Wb;
      dw.Rb = Rb;
      layer.weights.push_back(dw);
      nl.dirs.push_back(NativeDirection{kernel, rec, nWb, nRb, {}, {}, {}, {}});
    }
    if (custom) layer.activations = acts;
    nl.activations = layer.activations;
    conv_.spec.layers.push_back(layer);
    native_.layers.push_back(nl);
    if (!ret_seq) last_ = true;
    if (options_.progress) options_.progress(cat("read ", cls, " layer '", name, "'"));
    return Status::Ok();
  }
};

}  // namespace

static Result<Conversion> convert_keras_unguarded(const std::string& path, const ConvertOptions& options) {
  RECUR_TRY(check_regular_file(path));
  unsigned char magic[8] = {0};
  {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return fail(Errc::io, cat(path, ": cannot open"));
    size_t got = std::fread(magic, 1, sizeof magic, f);
    std::fclose(f);
    if (got < 4) return fail(Errc::truncated, cat(path, ": file is too short"));
  }
  if (std::memcmp(magic, "PK\x03\x04", 4) == 0) {
    auto zip = ZipReader::open(path);
    if (!zip.ok()) return zip.status();
    auto cfg_bytes = zip->read("config.json", 8ull << 20, Errc::bad_metadata);
    if (!cfg_bytes.ok()) return cfg_bytes.status();
    json cfg = json::parse(cfg_bytes->begin(), cfg_bytes->end(), nullptr, false);
    if (cfg.is_discarded()) return fail(Errc::bad_metadata, cat(path, ": config.json is not valid JSON"));
    auto h5 = zip->read("model.weights.h5", kMaxSourceBytes, Errc::bad_metadata);
    if (!h5.ok()) return h5.status();
    auto file = H5File::open(path, path + ":model.weights.h5", &*h5);
    if (!file.ok()) return file.status();
    KerasV3Weights ws(std::move(*file));
    KerasBuilder builder(path, options, ws, /*keras3=*/true);
    auto r = builder.build(cfg);
    if (r.ok()) r->format = SourceFormat::keras;
    return r;
  }
  if (std::memcmp(magic, "\x89HDF\r\n\x1a\n", 8) != 0)
    return fail(Errc::bad_magic, cat(path, ": neither a .keras zip nor an HDF5 file"));
  auto file = H5File::open(path, path);
  if (!file.ok()) return file.status();
  auto mc = (*file)->string_attr("/", "model_config");
  if (!mc.ok()) return mc.status().code() == Errc::bad_metadata
                           ? fail(Errc::bad_metadata, cat(path, ": no model_config attribute (weights-only .h5 files "
                                                          "carry no architecture)"))
                           : mc.status();
  if (mc->size() != 1) return fail(Errc::bad_metadata, cat(path, ": model_config is not one string"));
  json cfg = json::parse((*mc)[0], nullptr, false);
  if (cfg.is_discarded()) return fail(Errc::bad_metadata, cat(path, ": model_config is not valid JSON"));
  bool keras3 = true;
  if (auto v = (*file)->string_attr("/", "keras_version"); v.ok() && !v->empty()) keras3 = (*v)[0].rfind("3", 0) == 0;
  LegacyH5Weights ws(**file);
  KerasBuilder builder(path, options, ws, keras3);
  auto r = builder.build(cfg);
  if (r.ok()) r->format = SourceFormat::keras_h5;
  return r;
}

Result<Conversion> convert_keras(const std::string& path, const ConvertOptions& options) {
  return guarded(path, [&] { return convert_keras_unguarded(path, options); });
}

}  // namespace recur::convert
