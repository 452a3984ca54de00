// .safetensors -> StateDict -> ModelSpec. Layout: u64 little-endian header length N, N bytes of
// JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the data.
// Every number is checked: N inside the file and capped, offsets inside the data, sizes equal
// to numel x dtype size, no two tensors overlapping.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

#include "tools/convert/convert.hpp"
#include "tools/convert/float_decode.hpp"
#include "tools/convert/state_dict.hpp"
#include "tools/convert/util.hpp"

namespace recur::convert {

namespace {

constexpr uint64_t kMaxHeader = 16ull << 20;  // a header is ~100 bytes per tensor
// {name: {"dtype", "shape": [...], "data_offsets": [...]}, "__metadata__": {str: str}}: three
// levels. Checked before parsing, so deep or nested arrays never become a JSON tree.
constexpr int kMaxHeaderDepth = 3;

Status check_header_nesting(const uint8_t* p, uint64_t n, const std::string& path) {
  int depth = 0;
  bool in_string = false;
  for (uint64_t k = 0; k < n; ++k) {
    const uint8_t c = p[k];
    if (in_string) {
      if (c == '\\') ++k;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxHeaderDepth)
        return fail(Errc::bad_metadata, cat(path, ": header nests deeper than ", kMaxHeaderDepth, " levels at byte ", 8 + k));
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return Status::Ok();
}

}  // namespace

static Result<Conversion> convert_safetensors_unguarded(const std::string& path, const ConvertOptions& options) {
  auto file = read_file_bytes(path);
  if (!file.ok()) return file.status();
  const std::vector<uint8_t>& b = *file;
  if (b.size() < 8) return fail(Errc::truncated, cat(path, ": ", b.size(), " bytes, shorter than the 8-byte header length"));
  uint64_t n = 0;
  for (int k = 0; k < 8; ++k) n |= uint64_t(b[k]) << (8 * k);
  if (n > kMaxHeader) return fail(Errc::bad_header, cat(path, ": header length ", n, " is above the ", kMaxHeader >> 20, " MiB cap"));
  if (n > b.size() - 8)
    return fail(Errc::truncated, cat(path, ": header length ", n, " runs past the end of the file (", b.size(), " bytes)"));
  RECUR_TRY(check_header_nesting(b.data() + 8, n, path));
  nlohmann::json header = nlohmann::json::parse(b.begin() + 8, b.begin() + 8 + static_cast<long>(n), nullptr, false);
  if (header.is_discarded() || !header.is_object())
    return fail(Errc::bad_metadata, cat(path, ": header is not a JSON object"));
  const uint64_t data_start = 8 + n;
  const uint64_t data_size = b.size() - data_start;

  struct Span {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;
  StateDict sd;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const std::string& name = it.key();
    const auto& e = it.value();
    if (!e.is_object() || !e.contains("dtype") || !e["dtype"].is_string() || !e.contains("shape") ||
        !e["shape"].is_array() || !e.contains("data_offsets") || !e["data_offsets"].is_array() ||
        e["data_offsets"].size() != 2)
      return fail(Errc::bad_metadata, cat(path, ": tensor '", name, "' lacks dtype, shape or data_offsets"));
    NamedTensor nt;
    nt.name = name;
    std::string dt = e["dtype"];
    int bytes = 0;
    bool bf16 = false;
    if (dt == "F32") bytes = 4, nt.dtype = "float32";
    else if (dt == "F64") bytes = 8, nt.dtype = "float64";
    else if (dt == "F16") bytes = 2, nt.dtype = "float16";
    else if (dt == "BF16") bytes = 2, bf16 = true, nt.dtype = "bfloat16";
    else if (dt == "I64" || dt == "I32" || dt == "I16" || dt == "I8" || dt == "U8" || dt == "BOOL" || dt == "U16" ||
             dt == "U32" || dt == "U64") {
      bytes = dt == "I64" || dt == "U64" ? 8 : dt == "I32" || dt == "U32" ? 4 : dt == "I16" || dt == "U16" ? 2 : 1;
      nt.dtype = dt;
      nt.is_float = false;
    } else {
      return fail(Errc::bad_tensor, cat(path, ": tensor '", name, "' has unknown dtype '", dt, "'"));
    }
    for (const auto& d : e["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        return fail(Errc::bad_tensor, cat(path, ": tensor '", name, "' has a bad shape entry"));
      nt.tensor.shape.push_back(d.get<int64_t>());
    }
    const auto& off = e["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return fail(Errc::bad_tensor, cat(path, ": tensor '", name, "' data_offsets are not unsigned integers"));
    uint64_t begin = off[0], end = off[1];
    int64_t numel = 0, nbytes = 0;
    if (!checked::product(nt.tensor.shape, numel) || !checked::mul(numel, int64_t{bytes}, nbytes))
      return fail(Errc::bad_tensor, cat(path, ": tensor '", name, "' shape ", shape_str(nt.tensor.shape), " overflows"));
    if (end < begin || end > data_size)
      return fail(Errc::bad_tensor, cat(path, ": tensor '", name, "' data_offsets [", begin, ", ", end,
                                        "] are outside the data section (", data_size, " bytes)"));
    if (end - begin != static_cast<uint64_t>(nbytes))
      return fail(Errc::bad_tensor, cat(path, ": tensor '", name, "' holds ", end - begin, " bytes, its shape ",
                                        shape_str(nt.tensor.shape), " needs ", nbytes));
    spans.push_back({begin, end, name});
    if (nt.is_float) {
      nt.tensor.data.resize(static_cast<size_t>(numel));
      const uint8_t* p = b.data() + data_start + begin;
      for (int64_t k = 0; k < numel; ++k) nt.tensor.data[static_cast<size_t>(k)] = decode_float(p + k * bytes, bytes, bf16);
    }
    sd.push_back(std::move(nt));
  }
  // The format leaves no byte unaccounted for: tensors tile the data section without overlap,
  // holes or trailing bytes. Empty tensors take no bytes and overlap nothing.
  spans.erase(std::remove_if(spans.begin(), spans.end(), [](const Span& a) { return a.begin == a.end; }), spans.end());
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& c) { return a.begin < c.begin; });
  uint64_t covered = 0;
  for (size_t k = 0; k < spans.size(); ++k) {
    if (k > 0 && spans[k].begin < spans[k - 1].end)
      return fail(Errc::bad_tensor, cat(path, ": tensors '", spans[k - 1].name, "' and '", spans[k].name, "' overlap"));
    if (spans[k].begin > covered)
      return fail(Errc::bad_tensor, cat(path, ": data bytes [", covered, ", ", spans[k].begin,
                                        ") belong to no tensor (the format allows no holes)"));
    covered = spans[k].end;
  }
  if (covered != data_size)
    return fail(Errc::bad_tensor, cat(path, ": ", data_size - covered, " trailing data bytes after the last tensor ",
                                      "belong to no tensor (the format allows none)"));
  // JSON objects are unordered; keep the state_dict's natural order for stable messages.
  std::sort(sd.begin(), sd.end(), [](const NamedTensor& a, const NamedTensor& c) { return a.name < c.name; });
  auto result = convert_state_dict(sd, path, SourceFormat::safetensors, options);
  if (!result.ok()) return Status(result.status()).with_context(path);
  return result;
}

Result<Conversion> convert_safetensors(const std::string& path, const ConvertOptions& options) {
  return guarded(path, [&] { return convert_safetensors_unguarded(path, options); });
}

}  // namespace recur::convert
