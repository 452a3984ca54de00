// Source format detection (extension, confirmed by the file's magic) and dispatch to the importer.
#include "tools/convert/convert.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "tools/convert/util.hpp"

namespace recur::convert {

const char* source_format_name(SourceFormat format) noexcept {
  switch (format) {
    case SourceFormat::onnx: return "onnx";
    case SourceFormat::torch: return "pytorch";
    case SourceFormat::safetensors: return "safetensors";
    case SourceFormat::keras: return "keras";
    case SourceFormat::keras_h5: return "keras-h5";
  }
  return "?";
}

Result<SourceFormat> detect_format(const std::string& path) {
  size_t dot = path.find_last_of('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  RECUR_TRY(check_regular_file(path));
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return fail(Errc::io, cat(path, ": cannot open"));
  unsigned char magic[8] = {0};
  size_t got = std::fread(magic, 1, sizeof magic, f);
  std::fclose(f);
  const bool zip = got >= 4 && std::memcmp(magic, "PK\x03\x04", 4) == 0;
  const bool hdf5 = got >= 8 && std::memcmp(magic, "\x89HDF\r\n\x1a\n", 8) == 0;
  if (ext == "onnx") return SourceFormat::onnx;
  if (ext == "pt" || ext == "pth" || ext == "bin") return SourceFormat::torch;
  if (ext == "safetensors") return SourceFormat::safetensors;
  if (ext == "keras") return SourceFormat::keras;
  if (ext == "h5" || ext == "hdf5") return SourceFormat::keras_h5;
  if (zip) return SourceFormat::torch;
  if (hdf5) return SourceFormat::keras_h5;
  return fail(Errc::unsupported, cat(path, ": unknown source format (expected .onnx, .pt, .pth, .safetensors, "
                                     ".keras or .h5)"));
}

Result<Conversion> convert_file(const std::string& path, const ConvertOptions& options) {
  auto format = detect_format(path);
  if (!format.ok()) return format.status();
  switch (*format) {
    case SourceFormat::onnx: return convert_onnx(path, options);
    case SourceFormat::torch: return convert_torch(path, options);
    case SourceFormat::safetensors: return convert_safetensors(path, options);
    case SourceFormat::keras:
    case SourceFormat::keras_h5: return convert_keras(path, options);
  }
  return fail(Errc::internal, "unreachable");
}

}  // namespace recur::convert
