// PyTorch .pt/.pth (torch.save(module.state_dict()), zip format) -> StateDict -> ModelSpec.
// The zip is read with libzip; <archive>/data.pkl is decoded by a restricted unpickler that
// knows only the opcodes and globals a state_dict needs (OrderedDict, _rebuild_tensor_v2,
// _rebuild_parameter, torch.*Storage persistent ids). Nothing is ever executed: any other
// global (os.system, builtins.eval, __main__.Net, ...) is refused with its name.
#include <cstring>
#include <map>

#include "tools/convert/convert.hpp"
#include "tools/convert/float_decode.hpp"
#include "tools/convert/state_dict.hpp"
#include "tools/convert/torch_pickle.hpp"
#include "tools/convert/util.hpp"
#include "tools/convert/zip_reader.hpp"

namespace recur::convert {
namespace {

constexpr uint64_t kMaxPickleBytes = 256ull << 20;

}  // namespace

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
  auto zip = ZipReader::open(path);
  if (!zip.ok()) return zip.status();
  // The pickle: exactly one <archive>/data.pkl at depth 1.
  std::string pkl, prefix;
  for (const std::string& name : zip->entry_names()) {
    size_t slash = name.find('/');
    if (slash != std::string::npos && name.substr(slash + 1) == "data.pkl") {
      if (!pkl.empty()) return fail(Errc::bad_metadata, cat(path, ": more than one data.pkl"));
      pkl = name;
      prefix = name.substr(0, slash + 1);
    }
  }
  if (pkl.empty()) return fail(Errc::bad_metadata, cat(path, ": zip holds no <archive>/data.pkl (not a torch.save file)"));
  auto pbytes = zip->read(pkl, kMaxPickleBytes, Errc::bad_tensor);
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
    if (!checked::product(val.size, numel) || val.size.size() != val.stride.size())
      return fail(Errc::bad_tensor, cat(path, ": tensor '", val.name, "' has an invalid shape ", shape_str(val.size)));
    // The highest element index the view touches must lie inside the storage.
    int64_t last = val.offset;
    for (size_t d = 0; d < val.size.size(); ++d) {
      int64_t span = 0;
      if (val.stride[d] < 0 || !checked::mul(val.size[d] ? val.size[d] - 1 : 0, val.stride[d], span) ||
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
      auto bytes = zip->read(prefix + "data/" + val.key, kMaxSourceBytes, Errc::bad_tensor);
      if (!bytes.ok()) return bytes.status();
      int64_t need = 0;
      if (!checked::mul(val.storage_numel, int64_t{type->bytes}, need) || static_cast<int64_t>(bytes->size()) < need)
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
