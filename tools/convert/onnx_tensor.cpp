// ONNX tensors: TensorProto bytes (raw_data, typed fields, external data) -> OnnxConst.
#include "tools/convert/onnx_tensor.hpp"

#include <climits>
#include <cstring>

#include <stdlib.h>

#include "tools/convert/float_decode.hpp"
#include "tools/convert/util.hpp"

namespace recur::convert {
namespace {

// Digits only ("12abc", "-1", " 7" are not offsets), no overflow.
bool parse_decimal(const std::string& s, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || !checked::mul(v, uint64_t{10}, v) || !checked::add(v, uint64_t(c - '0'), v)) return false;
  }
  out = v;
  return true;
}

// The bytes of an external-data tensor: a relative path that stays inside the model's directory
// (also after symlinks), and a range that fits the file and the shape.
Result<std::vector<uint8_t>> external_bytes(const onnx::TensorProto& t, uint64_t want,
                                            const std::string& model_path) {
  std::string location;
  uint64_t offset = 0, length = 0;
  bool has_length = false;
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location") {
      location = kv.value();
    } else if (kv.key() == "offset" || kv.key() == "length") {
      uint64_t& v = kv.key() == "offset" ? offset : length;
      if (!parse_decimal(kv.value(), v))
        return fail(Errc::bad_tensor, cat("tensor '", t.name(), "': external_data ", kv.key(), " '",
                                          printable(kv.value()), "' is not a decimal number"));
      has_length |= kv.key() == "length";
    }
  }
  if (location.empty()) return fail(Errc::bad_tensor, cat("tensor '", t.name(), "': external data without a location"));
  if (location.find('\0') != std::string::npos)
    return fail(Errc::bad_tensor, cat("tensor '", t.name(), "': external data path '", printable(location),
                                      "' holds a NUL byte"));
  if (location[0] == '/' || location.find('\\') != std::string::npos)
    return fail(Errc::bad_tensor, cat("tensor '", t.name(), "': external data path '", location,
                                      "' is absolute; only files inside the model's directory are read"));
  for (size_t start = 0; start <= location.size();) {
    size_t end = location.find('/', start);
    if (end == std::string::npos) end = location.size();
    if (location.compare(start, end - start, "..") == 0)
      return fail(Errc::bad_tensor, cat("tensor '", t.name(), "': external data path '", location,
                                        "' leaves the model's directory"));
    start = end + 1;
  }
  std::string dir = parent_dir(model_path);
  char dir_real[PATH_MAX], file_real[PATH_MAX];
  std::string file = dir + "/" + location;
  if (!realpath(dir.c_str(), dir_real) || !realpath(file.c_str(), file_real))
    return fail(Errc::io, cat("tensor '", t.name(), "': cannot open external data '", location, "'"));
  std::string d = dir_real, f = file_real;
  if (f.compare(0, d.size() + 1, d + "/") != 0)
    return fail(Errc::bad_tensor, cat("tensor '", t.name(), "': external data '", location,
                                      "' resolves outside the model's directory"));
  auto size = regular_file_size(f);
  if (!size.ok()) return Status(size.status()).with_context(cat("tensor '", t.name(), "': external data"));
  if (!has_length) length = want;
  if (length != want || offset > *size || length > *size - offset)
    return fail(Errc::bad_tensor, cat("tensor '", t.name(), "': external data range [", offset, ", +", length,
                                      ") does not fit '", location, "' (", *size, " bytes) or the shape"));
  return read_file_range(f, offset, length);
}

}  // namespace

Result<OnnxConst> read_onnx_tensor(const onnx::TensorProto& t, const std::string& model_path) {
  OnnxConst c;
  c.type = t.data_type();
  for (auto d : t.dims()) c.dims.push_back(d);
  int64_t numel = 0;
  if (!checked::product(c.dims, numel))
    return fail(Errc::bad_tensor, cat("tensor '", t.name(), "' has an invalid shape ", shape_str(c.dims)));
  int elem = 0;
  switch (c.type) {
    case onnx::TensorProto::FLOAT: elem = 4; break;
    case onnx::TensorProto::DOUBLE: elem = 8; break;
    case onnx::TensorProto::INT64: elem = 8; break;
    case onnx::TensorProto::INT32: elem = 4; break;
    case onnx::TensorProto::FLOAT16: elem = 2; break;
    default:
      return fail(Errc::bad_tensor, cat("tensor '", t.name(), "' has data type ", c.type,
                                        " (supported: float, double, float16, int32, int64)"));
  }
  int64_t nbytes = 0;
  if (!checked::mul(numel, int64_t{elem}, nbytes)) return fail(Errc::bad_tensor, cat("tensor '", t.name(), "' is too large"));
  // The bytes must be there before anything is allocated for them.
  std::vector<uint8_t> ext;
  const uint8_t* raw = nullptr;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    auto e = external_bytes(t, static_cast<uint64_t>(nbytes), model_path);
    if (!e.ok()) return e.status();
    ext = std::move(*e);
    raw = ext.data();
  } else if (t.has_raw_data()) {
    if (static_cast<int64_t>(t.raw_data().size()) != nbytes)
      return fail(Errc::bad_tensor, cat("tensor '", t.name(), "' holds ", t.raw_data().size(), " bytes, its shape ",
                                        shape_str(c.dims), " needs ", nbytes));
    raw = reinterpret_cast<const uint8_t*>(t.raw_data().data());
  }
  if (raw) {
    c.v.resize(static_cast<size_t>(numel));
    for (int64_t k = 0; k < numel; ++k) {
      const uint8_t* p = raw + k * elem;
      switch (c.type) {
        case onnx::TensorProto::FLOAT: { float f; std::memcpy(&f, p, 4); c.v[k] = f; break; }
        case onnx::TensorProto::DOUBLE: { double f; std::memcpy(&f, p, 8); c.v[k] = f; break; }
        case onnx::TensorProto::INT64: { int64_t f; std::memcpy(&f, p, 8); c.v[k] = double(f); break; }
        case onnx::TensorProto::INT32: { int32_t f; std::memcpy(&f, p, 4); c.v[k] = f; break; }
        default: c.v[k] = decode_float(p, 2, /*bf16=*/false);
      }
    }
    return c;
  }
  auto take = [&](const auto& field) -> Status {
    if (static_cast<int64_t>(field.size()) != numel)
      return fail(Errc::bad_tensor, cat("tensor '", t.name(), "' holds ", field.size(), " values, its shape ",
                                        shape_str(c.dims), " needs ", numel));
    c.v.resize(static_cast<size_t>(numel));
    for (int64_t k = 0; k < numel; ++k) c.v[k] = double(field[static_cast<int>(k)]);
    return Status::Ok();
  };
  switch (c.type) {
    case onnx::TensorProto::FLOAT: RECUR_TRY(take(t.float_data())); break;
    case onnx::TensorProto::DOUBLE: RECUR_TRY(take(t.double_data())); break;
    case onnx::TensorProto::INT64: RECUR_TRY(take(t.int64_data())); break;
    case onnx::TensorProto::INT32: RECUR_TRY(take(t.int32_data())); break;
    default: return fail(Errc::bad_tensor, cat("tensor '", t.name(), "': float16 without raw_data"));
  }
  return c;
}

Tensor to_tensor(const OnnxConst& c) {
  Tensor t;
  t.shape = c.dims;
  t.data.assign(c.v.begin(), c.v.end());
  return t;
}

}  // namespace recur::convert
