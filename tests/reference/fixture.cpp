// Loader for golden fixture directories: case.json (nlohmann_json) + .npy files (recur::npy).
#include "tests/reference/fixture.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "formats/npy.hpp"

namespace recur::test {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

Status bad(const std::string& where, const std::string& what) {
  return {Errc::bad_metadata, where + ": " + what};
}

// A float array from dir/file with the shape it declares.
Result<npy::Array> load_array(const std::string& dir, const json& name, const std::string& where) {
  if (!name.is_string()) return bad(where, "expected a file name");
  Result<npy::Array> a = npy::read(dir + "/" + name.get<std::string>());
  if (!a.ok()) return a.status();
  return a;
}

Result<Tensor> load_tensor(const std::string& dir, const json& name, const std::string& where) {
  Result<npy::Array> a = load_array(dir, name, where);
  if (!a.ok()) return a.status();
  if (a->integer) return bad(where, "expected a float array, got " + a->descr);
  Tensor t;
  t.shape = a->shape;
  t.data = std::move(a->f32);
  return t;
}

Result<std::vector<float>> load_floats(const std::string& dir, const json& name,
                                       const std::string& where, std::vector<int64_t>* shape) {
  Result<Tensor> t = load_tensor(dir, name, where);
  if (!t.ok()) return t.status();
  if (shape) *shape = t->shape;
  return std::move(t->data);
}

Status parse_layer(const std::string& dir, const json& j, const std::string& where, RecurrentLayer& layer) {
  try {
    const std::string type = j.at("type").get<std::string>();
    if (type == "lstm") layer.cell = CellType::lstm;
    else if (type == "gru") layer.cell = CellType::gru;
    else if (type == "rnn") layer.cell = CellType::rnn;
    else return bad(where, "unknown layer type '" + type + "'");
    const std::string dir_name = j.at("direction").get<std::string>();
    if (dir_name == "forward") layer.direction = Direction::forward;
    else if (dir_name == "reverse") layer.direction = Direction::reverse;
    else if (dir_name == "bidirectional") layer.direction = Direction::bidirectional;
    else return bad(where, "unknown direction '" + dir_name + "'");
    layer.input_size = j.at("input_size").get<int64_t>();
    layer.hidden_size = j.at("hidden_size").get<int64_t>();
    layer.proj_size = j.at("proj_size").get<int64_t>();
    layer.clip = j.at("clip").get<float>();
    layer.input_forget = j.at("input_forget").get<bool>();
    layer.linear_before_reset = j.at("linear_before_reset").get<bool>();
    layer.peepholes = j.at("peepholes").get<bool>();
    for (const json& a : j.at("activations")) {
      layer.activations.push_back({a.at("name").get<std::string>(), a.at("alpha").get<float>(),
                                   a.at("beta").get<float>()});
    }
    const json& dirs = j.at("weights");
    for (size_t d = 0; d < dirs.size(); ++d) {
      const json& files = dirs[d];
      const std::string w = where + " direction " + std::to_string(d);
      DirectionWeights dw;
      Tensor* slots[] = {&dw.W, &dw.R, &dw.Wb, &dw.Rb, &dw.P, &dw.Wp};
      const char* keys[] = {"W", "R", "Wb", "Rb", "P", "Wp"};
      for (int k = 0; k < 6; ++k) {
        if (!files.contains(keys[k])) continue;
        Result<Tensor> t = load_tensor(dir, files.at(keys[k]), w + " " + keys[k]);
        if (!t.ok()) return t.status();
        *slots[k] = std::move(t.value());
      }
      layer.weights.push_back(std::move(dw));
    }
  } catch (const json::exception& e) {
    return bad(where, e.what());
  }
  return {};
}

}  // namespace

std::vector<std::string> golden_case_dirs() {
  std::vector<std::string> dirs;
  const fs::path root = fs::path(RECUR_FIXTURES_DIR) / "golden";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / "case.json")) dirs.push_back(entry.path().string());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

Result<GoldenCase> load_golden_case(const std::string& dir) {
  const std::string path = dir + "/case.json";
  std::ifstream f(path);
  if (!f) return Status(Errc::io, path + ": cannot open");
  json j;
  try {
    j = json::parse(f);
  } catch (const json::exception& e) {
    return bad(path, e.what());
  }
  GoldenCase c;
  try {
    c.name = j.at("name").get<std::string>();
    c.source = j.at("source").get<std::string>();
    c.description = j.at("description").get<std::string>();
    c.spec.name = c.name;
    c.spec.producer = "make_golden.py";
    c.spec.source = c.source;
    c.spec.batch_first = j.at("batch_first").get<bool>();
    const json& layers = j.at("layers");
    for (size_t l = 0; l < layers.size(); ++l) {
      RecurrentLayer layer;
      RECUR_TRY(parse_layer(dir, layers[l], path + " layer " + std::to_string(l), layer));
      c.spec.layers.push_back(std::move(layer));
    }
    const json& head = j.at("head");
    if (!head.is_null()) {
      DenseHead h;
      h.input_size = head.at("input_size").get<int64_t>();
      h.output_size = head.at("output_size").get<int64_t>();
      h.softmax = head.at("softmax").get<bool>();
      h.last_step_only = head.at("last_step_only").get<bool>();
      Result<Tensor> W = load_tensor(dir, head.at("W"), path + " head W");
      if (!W.ok()) return W.status();
      Result<Tensor> b = load_tensor(dir, head.at("b"), path + " head b");
      if (!b.ok()) return b.status();
      h.W = std::move(W.value());
      h.b = std::move(b.value());
      c.spec.head = std::move(h);
    }

    const json& inputs = j.at("inputs");
    std::vector<int64_t> x_shape;
    Result<std::vector<float>> x = load_floats(dir, inputs.at("x"), path + " x", &x_shape);
    if (!x.ok()) return x.status();
    if (x_shape.size() != 3) return bad(path, "x must be 3-D");
    c.input.x = std::move(x.value());
    c.input.batch_first = c.spec.batch_first;
    c.input.seq_len = c.spec.batch_first ? x_shape[1] : x_shape[0];
    c.input.batch = c.spec.batch_first ? x_shape[0] : x_shape[1];
    if (inputs.contains("h0")) {
      Result<std::vector<float>> h0 = load_floats(dir, inputs.at("h0"), path + " h0", nullptr);
      if (!h0.ok()) return h0.status();
      c.input.h0 = std::move(h0.value());
    }
    if (inputs.contains("c0")) {
      Result<std::vector<float>> c0 = load_floats(dir, inputs.at("c0"), path + " c0", nullptr);
      if (!c0.ok()) return c0.status();
      c.input.c0 = std::move(c0.value());
    }
    if (inputs.contains("lengths")) {
      Result<npy::Array> len = load_array(dir, inputs.at("lengths"), path + " lengths");
      if (!len.ok()) return len.status();
      if (!len->integer) return bad(path, "lengths must be an integer array");
      for (int64_t v : len->i64) c.input.lengths.push_back(static_cast<int32_t>(v));
    }

    const json& expected = j.at("expected");
    Result<std::vector<float>> y = load_floats(dir, expected.at("y"), path + " y", &c.y_shape);
    if (!y.ok()) return y.status();
    c.y = std::move(y.value());
    Result<std::vector<float>> h_n = load_floats(dir, expected.at("h_n"), path + " h_n", &c.h_shape);
    if (!h_n.ok()) return h_n.status();
    c.h_n = std::move(h_n.value());
    if (expected.contains("c_n")) {
      Result<std::vector<float>> c_n = load_floats(dir, expected.at("c_n"), path + " c_n", &c.c_shape);
      if (!c_n.ok()) return c_n.status();
      c.c_n = std::move(c_n.value());
    }
  } catch (const json::exception& e) {
    return bad(path, e.what());
  }
  Status valid = validate(c.spec);
  if (!valid.ok()) return valid.with_context(path);
  return c;
}

}  // namespace recur::test
