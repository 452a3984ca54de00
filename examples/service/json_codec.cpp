// Parsing and validating request bodies; writing float arrays as JSON text.
#include "json_codec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>

namespace recur::service {

namespace {

using nlohmann::json;

Status bad(const std::string& message) { return {Errc::invalid_argument, message}; }

// The keys a body may hold; each value's schema is fixed by its key.
enum class Field { none, inputs, lengths, return_state, x };

struct FieldInfo {
  const char* key;
  Field field;
  int rank;  // nesting of arrays around the numbers (0: a boolean)
};
constexpr FieldInfo kPredictFields[] = {{"inputs", Field::inputs, 3},
                                        {"lengths", Field::lengths, 1},
                                        {"return_state", Field::return_state, 0}};
constexpr FieldInfo kStepFields[] = {{"x", Field::x, 1}};
constexpr int kMaxRank = 3;

// nlohmann's SAX interface over one body: the top-level object, then each field's arrays,
// tracked by depth (open containers) and the element count at each array level. Numbers of
// `inputs`/`x` are stored as floats at once, `lengths` as integers checked once B and T are
// known. Every callback returns false on the first error, which ends the parse there.
class BodyReader {
 public:
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  BodyReader(const FieldInfo* fields, size_t field_count, int64_t input_size)
      : fields_(fields), field_count_(field_count), input_size_(input_size) {}

  Status status;                 // the first error
  uint32_t seen = 0;             // bit i: fields_[i] was present
  std::vector<float> values;     // inputs (B, T, I) or x (I)
  int64_t batch = 0, steps = 0;  // B and T of inputs
  std::vector<int64_t> lengths;  // as given (clamped to INT64_MAX)
  bool return_state = false;

  bool null() { return scalar("null"); }
  bool boolean(bool v) {
    if (depth_ == 1 && field_->field == Field::return_state) {
      return_state = v;
      return true;
    }
    return scalar("a boolean");
  }
  bool number_integer(json::number_integer_t v) { return number(static_cast<double>(v), true, v); }
  bool number_unsigned(json::number_unsigned_t v) {
    // Beyond int64 is beyond any T: clamped, and reported as too large.
    return number(static_cast<double>(v), true, static_cast<int64_t>(std::min<uint64_t>(v, INT64_MAX)));
  }
  bool number_float(json::number_float_t v, const string_t&) { return number(v, false, 0); }
  bool string(string_t&) { return scalar("a string"); }
  bool binary(binary_t&) { return scalar("binary"); }

  bool start_object(size_t) {
    if (depth_ == 0) {
      depth_ = 1;
      return true;
    }
    begin_value();
    return fail(element_error("an object"));
  }
  bool key(string_t& k) {
    for (size_t i = 0; i < field_count_; ++i) {
      if (k != fields_[i].key) continue;
      if (seen & (1u << i)) return fail(bad("key \"" + k + "\" appears twice"));
      seen |= 1u << i;
      field_ = &fields_[i];
      return true;
    }
    std::string list;
    for (size_t i = 0; i < field_count_; ++i) {
      list += std::string(list.empty() ? "" : ", ") + "\"" + fields_[i].key + "\"";
    }
    return fail(bad("unknown key \"" + k + "\" (expected " + list + ")"));
  }
  bool end_object() {
    depth_ = 0;
    return true;
  }
  bool start_array(size_t) {
    if (depth_ == 0) return fail(element_error("an array"));
    begin_value();
    if (level() + 1 >= field_->rank) return fail(element_error("an array"));
    ++depth_;
    counts_[static_cast<size_t>(level())] = 0;
    return true;
  }
  bool end_array() {
    const Status s = close_level(level(), counts_[static_cast<size_t>(level())]);
    --depth_;
    return s.ok() || fail(s);
  }
  bool parse_error(size_t, const std::string&, const nlohmann::detail::exception& e) {
    return fail(bad(std::string("malformed JSON: ") + e.what()));
  }

 private:
  // The array level being filled: 0 for the field's own array, -1 at the field itself.
  int level() const noexcept { return depth_ - 2; }

  bool fail(Status s) {
    if (status.ok()) status = std::move(s);
    return false;
  }

  // A value begins at the current position: count it in its array.
  void begin_value() {
    if (depth_ >= 2) ++counts_[static_cast<size_t>(level())];
  }

  // The element being read at array level `upto`, e.g. "inputs[0][3][2]"; the field at -1.
  std::string path(int upto) const {
    std::string p = field_->key;
    for (int l = 0; l <= upto; ++l) p += "[" + std::to_string(counts_[static_cast<size_t>(l)] - 1) + "]";
    return p;
  }
  std::string path() const { return path(level()); }

  // What the schema wants at the current position, for messages.
  std::string expected() const {
    const std::string I = std::to_string(input_size_);
    switch (field_->field) {
      case Field::inputs:
        if (level() == -1) return "a non-empty array of sequences, shape (B, T, I)";
        if (level() == 0) return "an array of steps (T, I)";
        if (level() == 1) return "an array of " + I + " numbers";
        return "a number";
      case Field::x: return level() == -1 ? "an array of " + I + " numbers" : "a number";
      case Field::lengths: return level() == -1 ? "an array of integers (one per sequence)" : "an integer";
      default: return "true or false";
    }
  }

  // `type` found where the schema wants something else.
  Status element_error(const char* type) const {
    if (depth_ == 0) return bad(std::string("the body is ") + type + ", expected a JSON object");
    const bool quoted = level() == -1 && field_->field != Field::x;
    const std::string name = quoted ? "\"" + path() + "\"" : path();
    return bad(name + " is " + type + ", expected " + expected());
  }

  bool scalar(const char* type) {
    begin_value();
    return fail(element_error(type));
  }

  bool number(double v, bool integer, int64_t i) {
    if (depth_ < 2 || level() + 1 != field_->rank) return scalar("a number");
    begin_value();
    const int64_t index = counts_[static_cast<size_t>(level())] - 1;
    if (field_->field == Field::lengths) {
      if (!integer) return fail(bad(path() + " is a number, expected an integer"));
      lengths.push_back(i);
      return true;
    }
    const auto f = static_cast<float>(v);
    if (!std::isfinite(f)) return fail({Errc::non_finite, path() + " is not a finite fp32 value"});
    // Beyond I values the row is wrong anyway (reported at its end); keep memory to the shape.
    if (index < input_size_) values.push_back(f);
    return true;
  }

  // An array at `l` closed with `count` elements.
  Status close_level(int l, int64_t count) {
    const std::string I = std::to_string(input_size_);
    if (field_->field == Field::x) {
      if (count != input_size_) {
        return bad("x has " + std::to_string(count) + " values, expected " + I + " (the model's input size)");
      }
      return {};
    }
    if (field_->field != Field::inputs) return {};
    if (l == 2 && count != input_size_) {
      return bad(path(1) + " has " + std::to_string(count) + " values, expected " + I +
                 " (the model's input size)");
    }
    if (l == 1) {
      if (counts_[0] == 1) {
        if (count == 0) return bad("inputs[0] has no steps, expected T >= 1");
        steps = count;
      } else if (count != steps) {
        return bad(path(0) + " has " + std::to_string(count) + " steps, expected " + std::to_string(steps) +
                   " like inputs[0] (pad and pass \"lengths\")");
      }
    }
    if (l == 0) {
      if (count == 0) return bad("\"inputs\" must be a non-empty array of sequences, shape (B, T, I)");
      batch = count;
    }
    return {};
  }

  const FieldInfo* fields_;
  size_t field_count_;
  int64_t input_size_;
  const FieldInfo* field_ = nullptr;  // the key being read (depth >= 1 after a key)
  int depth_ = 0;                     // open containers: 1 = in the top-level object
  std::array<int64_t, kMaxRank> counts_{};  // elements so far at each open array level
};

// Reads `body` with the reader; the reader's first error, else ok.
Status read_body(const std::string& body, BodyReader& reader) {
  json::sax_parse(body, &reader, json::input_format_t::json, /*strict=*/true);
  return reader.status;
}

}  // namespace

Status parse_predict(const std::string& body, int64_t input_size, PredictRequest& out) {
  BodyReader reader(kPredictFields, std::size(kPredictFields), input_size);
  RECUR_TRY(read_body(body, reader));
  if (!(reader.seen & 1u)) return bad("missing key \"inputs\" (B sequences of T steps of I values)");
  out = PredictRequest{};
  out.batch = reader.batch;
  out.seq_len = reader.steps;
  out.x = std::move(reader.values);
  out.return_state = reader.return_state;
  if (reader.seen & 2u) {
    const int64_t B = out.batch, T = out.seq_len;
    if (static_cast<int64_t>(reader.lengths.size()) != B) {
      return bad("\"lengths\" must be an array of " + std::to_string(B) + " integers (one per sequence)");
    }
    for (int64_t b = 0; b < B; ++b) {
      const int64_t L = reader.lengths[static_cast<size_t>(b)];
      if (L < 0 || L > T) {
        return bad("lengths[" + std::to_string(b) + "] is " + (L == INT64_MAX ? "too large" : std::to_string(L)) +
                   ", expected 0.." + std::to_string(T));
      }
      out.lengths.push_back(static_cast<int32_t>(L));
    }
  }
  return {};
}

Status parse_step(const std::string& body, int64_t input_size, std::vector<float>& x) {
  BodyReader reader(kStepFields, std::size(kStepFields), input_size);
  RECUR_TRY(read_body(body, reader));
  if (!(reader.seen & 1u)) return bad("missing key \"x\" (one observation of " + std::to_string(input_size) + " values)");
  x = std::move(reader.values);
  return {};
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
