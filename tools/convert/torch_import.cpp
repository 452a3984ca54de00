// PyTorch .pt/.pth (torch.save(module.state_dict()), zip format) -> StateDict -> ModelSpec.
// The zip is read with libzip; <archive>/data.pkl is decoded by a restricted unpickler that
// knows only the opcodes and globals a state_dict needs (OrderedDict, _rebuild_tensor_v2,
// _rebuild_parameter, torch.*Storage persistent ids). Nothing is ever executed: any other
// global (os.system, builtins.eval, __main__.Net, ...) is refused with its name.
#include <zip.h>

#include <cmath>
#include <cstring>
#include <map>
#include <memory>

#include "tools/convert/convert.hpp"
#include "tools/convert/state_dict.hpp"
#include "tools/convert/torch_pickle.hpp"
#include "tools/convert/util.hpp"

namespace recur::convert {
namespace {

constexpr uint64_t kMaxPickleBytes = 256ull << 20;

// ---- zip access ----------------------------------------------------------------------------
struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

Result<std::vector<uint8_t>> read_entry(zip_t* z, const std::string& entry, const std::string& path, uint64_t max) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(z, entry.c_str(), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
    return fail(Errc::bad_tensor, cat(path, ": zip has no entry '", entry, "'"));
  if (st.size > max) return fail(Errc::unsupported, cat(path, ": entry '", entry, "' is too large"));
  zip_file_t* f = zip_fopen(z, entry.c_str(), 0);
  if (!f) return fail(Errc::truncated, cat(path, ": cannot open entry '", entry, "': ", zip_strerror(z)));
  std::vector<uint8_t> out(static_cast<size_t>(st.size));
  zip_int64_t got = st.size ? zip_fread(f, out.data(), st.size) : 0;
  zip_fclose(f);
  if (got < 0 || static_cast<zip_uint64_t>(got) != st.size)
    return fail(Errc::truncated, cat(path, ": entry '", entry, "' is damaged or truncated"));
  return out;
}

float half_to_float(uint16_t h) {
  int sign = h >> 15, exp = (h >> 10) & 31, mant = h & 1023;
  float v;
  if (exp == 0) v = std::ldexp(float(mant), -24);
  else if (exp == 31) v = mant ? std::nanf("") : INFINITY;
  else v = std::ldexp(float(mant | 1024), exp - 25);
  return sign ? -v : v;
}

}  // namespace

// Decode one tensor's elements from raw little-endian bytes into fp32. Shared with safetensors.
float decode_float(const uint8_t* p, int bytes, bool bf16) {
  if (bytes == 4) {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  if (bytes == 8) {
    double v;
    std::memcpy(&v, p, 8);
    return static_cast<float>(v);
  }
  uint16_t h = static_cast<uint16_t>(p[0] | (p[1] << 8));
  if (bf16) {
    uint32_t u = uint32_t(h) << 16;
    float v;
    std::memcpy(&v, &u, 4);
    return v;
  }
  return half_to_float(h);
}

static Result<Conversion> convert_torch_unguarded(const std::string& path, const ConvertOptions& options) {
  {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return fail(Errc::io, cat(path, ": cannot open"));
    unsigned char magic[4] = {0, 0, 0, 0};
    size_t got = std::fread(magic, 1, 4, f);
    std::fclose(f);
    if (got < 4 || std::memcmp(magic, "PK\x03\x04", 4) != 0)
      return fail(Errc::bad_magic, cat(path, ": not a zip archive (torch.save before 1.6 wrote a legacy format: "
                                       "re-save with a newer PyTorch, or save a .safetensors)"));
  }
  int zerr = 0;
  ZipPtr z(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &zerr));
  if (!z) {
    zip_error_t e;
    zip_error_init_with_code(&e, zerr);
    std::string msg = zip_error_strerror(&e);
    zip_error_fini(&e);
    return fail(Errc::truncated, cat(path, ": zip archive is truncated or damaged (", msg, ")"));
  }
  // The pickle: exactly one <archive>/data.pkl at depth 1.
  std::string pkl, prefix;
  zip_int64_t entries = zip_get_num_entries(z.get(), 0);
  for (zip_int64_t k = 0; k < entries; ++k) {
    const char* nm = zip_get_name(z.get(), static_cast<zip_uint64_t>(k), 0);
    if (!nm) continue;
    std::string name = nm;
    size_t slash = name.find('/');
    if (slash != std::string::npos && name.substr(slash + 1) == "data.pkl") {
      if (!pkl.empty()) return fail(Errc::bad_metadata, cat(path, ": more than one data.pkl"));
      pkl = name;
      prefix = name.substr(0, slash + 1);
    }
  }
  if (pkl.empty()) return fail(Errc::bad_metadata, cat(path, ": zip holds no <archive>/data.pkl (not a torch.save file)"));
  auto pbytes = read_entry(z.get(), pkl, path, kMaxPickleBytes);
  if (!pbytes.ok()) return pbytes.status();
  auto pickled = read_state_dict_pickle(pbytes->data(), pbytes->size(), path + ":" + pkl);
  if (!pickled.ok()) return pickled.status();

  StateDict sd;
  std::map<std::string, std::vector<uint8_t>> storages;
  for (const PickledTensor& val : pickled->tensors) {
    const StorageType* type = val.type;
    NamedTensor nt;
    nt.name = val.name;
    nt.dtype = type->dtype;
    nt.is_float = type->is_float;
    nt.tensor.shape = val.size;
    int64_t numel = 0;
    if (!checked_numel(val.size, numel) || val.size.size() != val.stride.size())
      return fail(Errc::bad_tensor, cat(path, ": tensor '", val.name, "' has an invalid shape ", shape_str(val.size)));
    // The highest element index the view touches must lie inside the storage.
    int64_t last = val.offset;
    for (size_t d = 0; d < val.size.size(); ++d) {
      int64_t span = 0;
      if (val.stride[d] < 0 || !checked_mul(val.size[d] ? val.size[d] - 1 : 0, val.stride[d], span) ||
          __builtin_add_overflow(last, span, &last))
        return fail(Errc::bad_tensor, cat(path, ": tensor '", val.name, "' has invalid strides"));
    }
    if (val.offset < 0 || val.storage_numel < 0 || (numel > 0 && last >= val.storage_numel) ||
        numel > val.storage_numel)
      return fail(Errc::bad_tensor, cat(path, ": tensor '", val.name, "' reaches past its storage (", val.storage_numel,
                                        " elements)"));
    if (!type->is_float) {
      sd.push_back(nt);
      continue;
    }
    auto it = storages.find(val.key);
    if (it == storages.end()) {
      auto bytes = read_entry(z.get(), prefix + "data/" + val.key, path, kMaxSourceBytes);
      if (!bytes.ok()) return bytes.status();
      int64_t need = 0;
      if (!checked_mul(val.storage_numel, type->bytes, need) || static_cast<int64_t>(bytes->size()) < need)
        return fail(Errc::bad_tensor, cat(path, ": storage '", val.key, "' holds ", bytes->size(), " bytes, expected ",
                                          val.storage_numel, " x ", type->bytes));
      it = storages.emplace(val.key, std::move(*bytes)).first;
    }
    const uint8_t* base = it->second.data();
    nt.tensor.data.resize(static_cast<size_t>(numel));
    std::vector<int64_t> idx(val.size.size(), 0);
    for (int64_t e = 0; e < numel; ++e) {
      int64_t off = val.offset;
      for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * val.stride[d];
      nt.tensor.data[static_cast<size_t>(e)] =
          decode_float(base + off * type->bytes, type->bytes, std::strcmp(type->dtype, "bfloat16") == 0);
      for (size_t d = idx.size(); d-- > 0;) {
        if (++idx[d] < val.size[d]) break;
        idx[d] = 0;
      }
    }
    sd.push_back(std::move(nt));
  }
  auto result = convert_state_dict(sd, path, SourceFormat::torch, options);
  if (!result.ok()) return Status(result.status()).with_context(path);
  if (!pickled->from_key.empty())
    result->notes.insert(result->notes.begin(), cat("checkpoint: took the state_dict under '", pickled->from_key, "'"));
  return result;
}

Result<Conversion> convert_torch(const std::string& path, const ConvertOptions& options) {
  return guarded(path, [&] { return convert_torch_unguarded(path, options); });
}

}  // namespace recur::convert
