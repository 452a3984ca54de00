#include "tools/convert/zip_reader.hpp"

#include <zip.h>

#include "tools/convert/util.hpp"

namespace recur::convert {

void ZipReader::Closer::operator()(zip* z) const { zip_discard(z); }

Result<ZipReader> ZipReader::open(const std::string& path) {
  int zerr = 0;
  ZipReader r;
  r.path_ = path;
  r.z_.reset(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &zerr));
  if (!r.z_) {
    zip_error_t e;
    zip_error_init_with_code(&e, zerr);
    std::string msg = zip_error_strerror(&e);
    zip_error_fini(&e);
    return fail(Errc::truncated, cat(path, ": zip archive is truncated or damaged (", msg, ")"));
  }
  return r;
}

std::vector<std::string> ZipReader::entry_names() const {
  std::vector<std::string> names;
  zip_int64_t entries = zip_get_num_entries(z_.get(), 0);
  for (zip_int64_t k = 0; k < entries; ++k)
    if (const char* nm = zip_get_name(z_.get(), static_cast<zip_uint64_t>(k), 0)) names.emplace_back(nm);
  return names;
}

Result<uint64_t> ZipReader::entry_size(const std::string& entry, Errc missing) const {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(z_.get(), entry.c_str(), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
    return fail(missing, cat(path_, ": zip has no entry '", entry, "'"));
  return static_cast<uint64_t>(st.size);
}

Result<std::vector<uint8_t>> ZipReader::read(const std::string& entry, uint64_t max_bytes, Errc missing) const {
  zip_t* z = z_.get();
  zip_stat_t st;
  zip_stat_init(&st);
  auto size = entry_size(entry, missing);
  if (!size.ok()) return size.status();
  zip_stat(z, entry.c_str(), 0, &st);
  if (st.size > max_bytes) return fail(Errc::unsupported, cat(path_, ": entry '", entry, "' is too large"));
  zip_file_t* f = zip_fopen(z, entry.c_str(), 0);
  if (!f) return fail(Errc::truncated, cat(path_, ": cannot open entry '", entry, "': ", zip_strerror(z)));
  std::vector<uint8_t> out(static_cast<size_t>(st.size));
  zip_int64_t got = st.size ? zip_fread(f, out.data(), st.size) : 0;
  zip_fclose(f);
  if (got < 0 || static_cast<zip_uint64_t>(got) != st.size)
    return fail(Errc::truncated, cat(path_, ": entry '", entry, "' is damaged or truncated"));
  return out;
}

}  // namespace recur::convert
