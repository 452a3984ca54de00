// Parsing and validating request bodies; writing float arrays as JSON text.
#include "json_codec.hpp"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

namespace recur::service {

namespace {

using nlohmann::json;

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::binary: return "binary";
    case json::value_t::discarded: return "discarded";
    default: return "a number";
  }
}

Status bad(const std::string& message) { return {Errc::invalid_argument, message}; }

// A parsed body that must be a JSON object with only the keys in `allowed`.
Status parse_object(const std::string& body, std::initializer_list<const char*> allowed,
                    json& out) {
  try {
    out = json::parse(body);
  } catch (const json::exception& e) {
    return bad(std::string("malformed JSON: ") + e.what());
  }
  if (!out.is_object()) return bad(std::string("the body is ") + type_name(out) + ", expected a JSON object");
  for (const auto& item : out.items()) {
    bool known = false;
    for (const char* key : allowed) known = known || item.key() == key;
    if (!known) {
      std::string list;
      for (const char* key : allowed) list += std::string(list.empty() ? "" : ", ") + "\"" + key + "\"";
      return bad("unknown key \"" + item.key() + "\" (expected " + list + ")");
    }
  }
  return {};
}

// `row` must be an array of exactly n numbers, each a finite fp32; appended to `out`.
Status read_row(const json& row, int64_t n, const std::string& name, std::vector<float>& out) {
  if (!row.is_array()) return bad(name + " is " + type_name(row) + ", expected an array of " + std::to_string(n) + " numbers");
  if (static_cast<int64_t>(row.size()) != n) {
    return bad(name + " has " + std::to_string(row.size()) + " values, expected " +
               std::to_string(n) + " (the model's input size)");
  }
  for (size_t i = 0; i < row.size(); ++i) {
    const json& v = row[i];
    if (!v.is_number()) {
      return bad(name + "[" + std::to_string(i) + "] is " + type_name(v) + ", expected a number");
    }
    const auto f = static_cast<float>(v.get<double>());
    if (!std::isfinite(f)) {
      return {Errc::non_finite, name + "[" + std::to_string(i) + "] is not a finite fp32 value"};
    }
    out.push_back(f);
  }
  return {};
}

}  // namespace

Status parse_predict(const std::string& body, int64_t input_size, PredictRequest& out) {
  json doc;
  RECUR_TRY(parse_object(body, {"inputs", "lengths", "return_state"}, doc));
  if (!doc.contains("inputs")) return bad("missing key \"inputs\" (B sequences of T steps of I values)");
  const json& inputs = doc["inputs"];
  if (!inputs.is_array() || inputs.empty()) {
    return bad("\"inputs\" must be a non-empty array of sequences, shape (B, T, I)");
  }
  const int64_t B = static_cast<int64_t>(inputs.size());
  int64_t T = 0;
  out = PredictRequest{};
  for (int64_t b = 0; b < B; ++b) {
    const json& seq = inputs[static_cast<size_t>(b)];
    const std::string name = "inputs[" + std::to_string(b) + "]";
    if (!seq.is_array()) return bad(name + " is " + type_name(seq) + ", expected an array of steps (T, I)");
    if (b == 0) {
      T = static_cast<int64_t>(seq.size());
      if (T == 0) return bad("inputs[0] has no steps, expected T >= 1");
      // Every value takes at least 2 bytes of the body ("0,"): a bound on what a valid body
      // holds that does not trust B or T (a ragged body could claim B*T*I far beyond it).
      const size_t most = body.size() / 2 + 1;
      const auto claimed = static_cast<double>(B) * static_cast<double>(T) * static_cast<double>(input_size);
      out.x.reserve(claimed < static_cast<double>(most) ? static_cast<size_t>(claimed) : most);
    } else if (static_cast<int64_t>(seq.size()) != T) {
      return bad(name + " has " + std::to_string(seq.size()) + " steps, expected " +
                 std::to_string(T) + " like inputs[0] (pad and pass \"lengths\")");
    }
    for (int64_t t = 0; t < T; ++t) {
      RECUR_TRY(read_row(seq[static_cast<size_t>(t)], input_size,
                         name + "[" + std::to_string(t) + "]", out.x));
    }
  }
  out.batch = B;
  out.seq_len = T;
  if (doc.contains("lengths")) {
    const json& lengths = doc["lengths"];
    if (!lengths.is_array() || static_cast<int64_t>(lengths.size()) != B) {
      return bad("\"lengths\" must be an array of " + std::to_string(B) + " integers (one per sequence)");
    }
    for (int64_t b = 0; b < B; ++b) {
      const json& v = lengths[static_cast<size_t>(b)];
      const std::string name = "lengths[" + std::to_string(b) + "]";
      if (!v.is_number_integer()) return bad(name + " is " + type_name(v) + ", expected an integer");
      // Integers that do not fit int64 arrive as unsigned or float; both are out of range here.
      if (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(T)
                                 : (v.get<int64_t>() < 0 || v.get<int64_t>() > T)) {
        return bad(name + " is " + v.dump() + ", expected 0.." + std::to_string(T));
      }
      out.lengths.push_back(static_cast<int32_t>(v.get<int64_t>()));
    }
  }
  if (doc.contains("return_state")) {
    const json& v = doc["return_state"];
    if (!v.is_boolean()) return bad(std::string("\"return_state\" is ") + type_name(v) + ", expected true or false");
    out.return_state = v.get<bool>();
  }
  return {};
}

Status parse_step(const std::string& body, int64_t input_size, std::vector<float>& x) {
  json doc;
  RECUR_TRY(parse_object(body, {"x"}, doc));
  if (!doc.contains("x")) return bad("missing key \"x\" (one observation of " + std::to_string(input_size) + " values)");
  x.clear();
  x.reserve(static_cast<size_t>(input_size));
  return read_row(doc["x"], input_size, "x", x);
}

namespace {

// Writes dims[0] x ... x dims[ndim-1] values from `data` as nested arrays.
void append_nested(std::string& out, const float* data, const int64_t* dims, size_t ndim) {
  int64_t inner = 1;  // elements per entry of the outermost dimension
  for (size_t d = 1; d < ndim; ++d) inner *= dims[d];
  out += '[';
  for (int64_t i = 0; i < dims[0]; ++i) {
    if (i) out += ',';
    if (ndim > 1) {
      append_nested(out, data + i * inner, dims + 1, ndim - 1);
    } else if (!std::isfinite(data[i])) {
      out += "null";  // JSON has no NaN/Inf
    } else {
      char buf[32];
      const auto r = std::to_chars(buf, buf + sizeof buf, data[i]);
      out.append(buf, r.ptr);
    }
  }
  out += ']';
}

}  // namespace

void append_json_array(std::string& out, const float* data, const std::vector<int64_t>& shape) {
  if (!shape.empty()) append_nested(out, data, shape.data(), shape.size());
}

std::string error_json(const std::string& message) {
  return json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace recur::service
