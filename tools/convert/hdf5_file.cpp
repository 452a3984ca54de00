#include "tools/convert/hdf5_file.hpp"

#include <hdf5.h>

#include <cstring>
#include <type_traits>

#include "tools/convert/util.hpp"

namespace recur::convert {
namespace {

static_assert(std::is_same_v<hid_t, int64_t>, "H5File keeps a hid_t in an int64_t");
constexpr int64_t kMaxDatasetElements = int64_t(1) << 28;  // 1 GiB of fp32 per weight tensor
constexpr size_t kMaxAttributeBytes = 8u << 20;            // model_config of a model recur runs: KBs

struct H5Handle {
  hid_t id = -1;
  herr_t (*close)(hid_t) = nullptr;
  H5Handle(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  ~H5Handle() {
    if (id >= 0 && close) close(id);
  }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
};

}  // namespace

Result<std::unique_ptr<H5File>> H5File::open(const std::string& path, const std::string& label,
                                             const std::vector<uint8_t>* image) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors come back as values, not stderr dumps
  auto f = std::unique_ptr<H5File>(new H5File());
  f->label_ = label;
  if (image) {
    f->image_ = *image;
    H5Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (fapl.id < 0 || H5Pset_fapl_core(fapl.id, 1 << 16, 0) < 0 ||
        H5Pset_file_image(fapl.id, f->image_.data(), f->image_.size()) < 0)
      return fail(Errc::internal, cat(label, ": cannot set up an in-memory HDF5 file"));
    f->id_ = H5Fopen(label.c_str(), H5F_ACC_RDONLY, fapl.id);
  } else {
    f->id_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  }
  if (f->id_ < 0) return fail(Errc::bad_metadata, cat(label, ": not a readable HDF5 file (truncated or damaged)"));
  // A user block puts arbitrary bytes before the HDF5 superblock: one file, two formats.
  H5Handle fcpl(H5Fget_create_plist(f->id_), H5Pclose);
  hsize_t userblock = 0;
  if (fcpl.id < 0 || H5Pget_userblock(fcpl.id, &userblock) < 0 || userblock != 0)
    return fail(Errc::unsupported, cat(label, ": the HDF5 data starts after a ", userblock, "-byte user block; only plain ",
                                       "HDF5 files are read"));
  return f;
}

H5File::~H5File() {
  if (id_ >= 0) H5Fclose(id_);
}

Result<bool> H5File::find(const std::string& path) const {
  std::string prefix;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    prefix += (prefix.empty() ? "" : "/") + path.substr(start, end - start);
    if (H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    // Checked before anything below it is looked up: an external link would open another file.
    H5L_info_t info;
    if (H5Lget_info(id_, prefix.c_str(), &info, H5P_DEFAULT) < 0 || info.type != H5L_TYPE_HARD)
      return fail(Errc::unsupported, cat(label_, ": '", prefix, "' is an external or soft link; only objects stored in ",
                                         "the file itself are read"));
    start = end + 1;
  }
  return true;
}

Result<Tensor> H5File::dataset(const std::string& path, size_t rank) const {
  auto found = find(path);
  if (!found.ok()) return found.status();
  if (!*found) return fail(Errc::invalid_model, cat(label_, ": no weight dataset '", path, "'"));
  H5Handle ds(H5Dopen2(id_, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (ds.id < 0) return fail(Errc::bad_tensor, cat(label_, ": '", path, "' is not a dataset"));
  H5Handle type(H5Dget_type(ds.id), H5Tclose);
  if (type.id < 0 || H5Tget_class(type.id) != H5T_FLOAT)
    return fail(Errc::bad_tensor, cat(label_, ": dataset '", path, "' is not floating point"));
  // libhdf5 sizes its conversion buffer by the stored type: only the widths Keras writes.
  const size_t elem = H5Tget_size(type.id);
  if (elem != 2 && elem != 4 && elem != 8)
    return fail(Errc::bad_tensor, cat(label_, ": dataset '", path, "' has a ", elem,
                                      "-byte float type (expected 2, 4 or 8)"));
  H5Handle space(H5Dget_space(ds.id), H5Sclose);
  int nd = space.id < 0 ? -1 : H5Sget_simple_extent_ndims(space.id);
  if (nd < 0 || nd > 8) return fail(Errc::bad_tensor, cat(label_, ": dataset '", path, "' has an invalid rank"));
  hsize_t dims[8];
  H5Sget_simple_extent_dims(space.id, dims, nullptr);
  Tensor t;
  for (int k = 0; k < nd; ++k) {
    if (dims[k] > static_cast<hsize_t>(INT64_MAX)) return fail(Errc::bad_tensor, cat(label_, ": '", path, "' too large"));
    t.shape.push_back(static_cast<int64_t>(dims[k]));
  }
  if (t.shape.size() != rank)
    return fail(Errc::invalid_model, cat(label_, ": weight '", path, "' has shape ", shape_str(t.shape),
                                         ", expected rank ", rank));
  int64_t numel = 0;
  if (!checked::product(t.shape, numel) || numel > kMaxDatasetElements)
    return fail(Errc::bad_tensor, cat(label_, ": dataset '", path, "' is too large"));
  // The data must be in this file: no external raw-data files, no virtual dataset mapping others.
  H5Handle dcpl(H5Dget_create_plist(ds.id), H5Pclose);
  if (dcpl.id < 0) return fail(Errc::bad_tensor, cat(label_, ": dataset '", path, "' has no readable layout"));
  if (H5Pget_external_count(dcpl.id) != 0)
    return fail(Errc::unsupported, cat(label_, ": dataset '", path, "' keeps its data in external files; only data ",
                                       "stored in the file itself is read"));
  const H5D_layout_t layout = H5Pget_layout(dcpl.id);
  if (layout != H5D_COMPACT && layout != H5D_CONTIGUOUS && layout != H5D_CHUNKED)
    return fail(Errc::unsupported, cat(label_, ": dataset '", path, "' is a virtual dataset or has an unknown layout"));
  // A tiny file cannot make us allocate its declared size: unfiltered data must all be stored,
  // filtered (compressed) data at least 1/1100 of it (deflate's best ratio is ~1032:1), and a
  // dataset of fill values only (nothing stored) is no trained weight.
  const int filters = H5Pget_nfilters(dcpl.id);
  const hsize_t stored = H5Dget_storage_size(ds.id);
  const hsize_t need = static_cast<hsize_t>(numel) * elem;
  if (numel > 0 && (filters < 0 || stored == 0 || (filters == 0 && stored < need) || (filters > 0 && stored < need / 1100)))
    return fail(Errc::truncated, cat(label_, ": dataset '", path, "' stores ", stored, " bytes", filters > 0 ? " (compressed)" : "",
                                     " but its shape ", shape_str(t.shape), " needs ", need));
  t.data.resize(static_cast<size_t>(numel));
  if (numel && H5Dread(ds.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data.data()) < 0)
    return fail(Errc::bad_tensor, cat(label_, ": cannot read dataset '", path, "'"));
  return t;
}

Result<std::vector<std::string>> H5File::string_attr(const std::string& obj, const std::string& name) const {
  if (obj != "/") {
    auto found = find(obj);
    if (!found.ok()) return found.status();
    if (!*found) return fail(Errc::invalid_model, cat(label_, ": no group '", obj, "'"));
  }
  if (H5Aexists_by_name(id_, obj.c_str(), name.c_str(), H5P_DEFAULT) <= 0)
    return fail(Errc::bad_metadata, cat(label_, ": '", obj, "' has no attribute '", name, "'"));
  H5Handle a(H5Aopen_by_name(id_, obj.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5Handle type(a.id < 0 ? -1 : H5Aget_type(a.id), H5Tclose);
  if (type.id < 0 || H5Tget_class(type.id) != H5T_STRING)
    return fail(Errc::bad_metadata, cat(label_, ": attribute '", name, "' is not a string"));
  H5Handle space(H5Aget_space(a.id), H5Sclose);
  hssize_t n = H5Sget_simple_extent_npoints(space.id);
  if (n < 0 || n > (1 << 20)) return fail(Errc::bad_metadata, cat(label_, ": attribute '", name, "' has a bad size"));
  std::vector<std::string> out;
  if (H5Tis_variable_str(type.id) > 0) {
    std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
    H5Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.id, H5T_VARIABLE);
    H5Tset_cset(mem.id, H5Tget_cset(type.id));
    if (n && H5Aread(a.id, mem.id, ptrs.data()) < 0)
      return fail(Errc::bad_metadata, cat(label_, ": cannot read attribute '", name, "'"));
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(mem.id, space.id, H5P_DEFAULT, ptrs.data());
  } else {
    size_t len = H5Tget_size(type.id);
    if (len == 0 || len > kMaxAttributeBytes / static_cast<size_t>(n ? n : 1))
      return fail(Errc::bad_metadata, cat(label_, ": attribute '", name, "' is too large"));
    std::vector<char> buf(len * static_cast<size_t>(n));
    H5Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.id, len);
    if (n && H5Aread(a.id, mem.id, buf.data()) < 0)
      return fail(Errc::bad_metadata, cat(label_, ": cannot read attribute '", name, "'"));
    for (hssize_t k = 0; k < n; ++k) {
      const char* p = buf.data() + k * len;
      out.emplace_back(p, strnlen(p, len));
    }
  }
  return out;
}

}  // namespace recur::convert
