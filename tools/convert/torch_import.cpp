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

static Result<Conversion> convert_torch_unguarded(const std::string& path, const ConvertOptions& options) {
  RECUR_TRY(check_regular_file(path));
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
  const std::vector<std::string> names = zip->entry_names();
  for (const std::string& name : names) {
    size_t slash = name.find('/');
    if (slash != std::string::npos && name.substr(slash + 1) == "data.pkl") {
      if (!pkl.empty()) return fail(Errc::bad_metadata, cat(path, ": more than one data.pkl"));
      pkl = name;
      prefix = name.substr(0, slash + 1);
    }
  }
  if (pkl.empty()) return fail(Errc::bad_metadata, cat(path, ": zip holds no <archive>/data.pkl (not a torch.save file)"));
  size_t storage_entries = 0;
  for (const std::string& name : names) storage_entries += name.rfind(prefix + "data/", 0) == 0;
  auto pbytes = zip->read(pkl, pickle_byte_budget(storage_entries), Errc::bad_tensor);
  if (!pbytes.ok()) return pbytes.status();
  auto pickled = read_state_dict_pickle(pbytes->data(), pbytes->size(), path + ":" + pkl,
                                        pickle_object_budget(storage_entries));
  if (!pickled.ok()) return pickled.status();

  // Every view's extent, checked against its declared storage: the last element it touches,
  // in elements and in bytes of its own storage type.
  std::vector<int64_t> numels(pickled->tensors.size(), 0), extent_bytes(pickled->tensors.size(), 0);
  uint64_t float_extent_total = 0;
  for (size_t t = 0; t < pickled->tensors.size(); ++t) {
    const PickledTensor& val = pickled->tensors[t];
    int64_t& numel = numels[t];
    if (!checked::product(val.size, numel) || val.size.size() != val.stride.size())
      return fail(Errc::bad_tensor, cat(path, ": tensor '", val.name, "' has an invalid shape ", shape_str(val.size)));
    int64_t last = val.offset;
    for (size_t d = 0; d < val.size.size(); ++d) {
      int64_t span = 0;
      if (val.stride[d] < 0 || !checked::mul(val.size[d] ? val.size[d] - 1 : 0, val.stride[d], span) ||
          !checked::add(last, span, last))
        return fail(Errc::bad_tensor, cat(path, ": tensor '", val.name, "' has invalid strides"));
      // A broadcast view (torch.expand) repeats elements: a trained weight never is one, and it
      // would let a few stored bytes become an arbitrarily large tensor.
      if (val.stride[d] == 0 && val.size[d] > 1)
        return fail(Errc::bad_tensor, cat(path, ": tensor '", val.name, "' has stride 0 in dimension ", d,
                                          " (a broadcast view): save tensor.contiguous()"));
    }
    if (val.offset < 0 || val.storage_numel < 0 || (numel > 0 && last >= val.storage_numel) ||
        numel > val.storage_numel)
      return fail(Errc::bad_tensor, cat(path, ": tensor '", val.name, "' reaches past its storage (", val.storage_numel,
                                        " elements)"));
    if (numel > 0 && !checked::mul(last + 1, int64_t{val.type->bytes}, extent_bytes[t]))
      return fail(Errc::bad_tensor, cat(path, ": tensor '", val.name, "' is too large"));
    if (val.type->is_float) float_extent_total += static_cast<uint64_t>(extent_bytes[t]);
  }

  // Storages are read once per key, each at most its declared size, all together at most what
  // the tensors use (twice, for views of larger storages) plus 1 MiB: no inflating entry can
  // make this allocate beyond a small multiple of the model.
  const uint64_t storage_budget = 2 * float_extent_total + (1u << 20);
  uint64_t storage_total = 0;
  StateDict sd;
  std::map<std::string, std::vector<uint8_t>> storages;
  for (size_t t = 0; t < pickled->tensors.size(); ++t) {
    const PickledTensor& val = pickled->tensors[t];
    const StorageType* type = val.type;
    NamedTensor nt;
    nt.name = val.name;
    nt.dtype = type->dtype;
    nt.is_float = type->is_float;
    nt.tensor.shape = val.size;
    if (!type->is_float) {
      sd.push_back(nt);
      continue;
    }
    const std::string entry = prefix + "data/" + val.key;
    auto it = storages.find(val.key);
    if (it == storages.end()) {
      int64_t need = 0;
      if (!checked::mul(val.storage_numel, int64_t{type->bytes}, need))
        return fail(Errc::bad_tensor, cat(path, ": storage '", val.key, "' is too large"));
      auto size = zip->entry_size(entry, Errc::bad_tensor);
      if (!size.ok()) return size.status();
      if (*size < static_cast<uint64_t>(need))
        return fail(Errc::bad_tensor, cat(path, ": storage '", val.key, "' holds ", *size, " bytes, expected ",
                                          val.storage_numel, " x ", type->bytes));
      if (*size > static_cast<uint64_t>(need) || storage_total + *size > storage_budget)
        return fail(Errc::bad_tensor, cat(path, ": storage '", val.key, "' holds ", *size, " bytes, more than its ",
                                          val.storage_numel, " x ", type->bytes, " or than the state_dict's tensors use"));
      auto bytes = zip->read(entry, *size, Errc::bad_tensor);
      if (!bytes.ok()) return bytes.status();
      storage_total += bytes->size();
      it = storages.emplace(val.key, std::move(*bytes)).first;
    }
    // Every tensor against the bytes really there: tensors sharing a key may declare different
    // storage sizes or types than the one that loaded it.
    if (static_cast<uint64_t>(extent_bytes[t]) > it->second.size())
      return fail(Errc::bad_tensor, cat(path, ": tensor '", val.name, "' needs ", extent_bytes[t], " bytes of storage '",
                                        val.key, "', which holds ", it->second.size()));
    const uint8_t* base = it->second.data();
    const int64_t numel = numels[t];
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
