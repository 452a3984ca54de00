// Helpers for the converter tests: fixture paths, case.json -> ConvertOptions, running a
// converted spec through the runtime, and comparing with expected outputs (abs 1e-5, rel 1e-4).
#pragma once

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "formats/npy.hpp"
#include "recur/model.hpp"
#include "tools/convert/convert.hpp"

namespace recur::test {

inline const std::string kConvertFixtures = std::string(RECUR_FIXTURES_DIR) + "/convert";
inline const std::string kHostileFixtures = std::string(RECUR_FIXTURES_DIR) + "/convert_hostile";

// case.json "args" (the same keys as the CLI options, with '_' for '-') -> ConvertOptions.
inline convert::ConvertOptions options_from_args(const nlohmann::json& args) {
  convert::ConvertOptions o;
  auto& a = o.arch;
  if (args.contains("arch")) a.arch = args["arch"];
  if (args.contains("layers")) a.layers = args["layers"];
  if (args.contains("bidirectional")) a.bidirectional = args["bidirectional"].get<bool>();
  if (args.contains("proj_size")) a.proj_size = args["proj_size"];
  if (args.contains("batch_first")) a.batch_first = args["batch_first"].get<bool>();
  if (args.contains("nonlinearity")) a.nonlinearity = args["nonlinearity"];
  if (args.contains("prefix")) a.prefix = args["prefix"];
  if (args.contains("head")) a.head = args["head"];
  if (args.contains("head_prefix")) a.head_prefix = args["head_prefix"];
  if (args.contains("softmax")) a.softmax = args["softmax"];
  if (args.contains("last_step")) a.last_step = args["last_step"].get<bool>();
  return o;
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  REQUIRE_MESSAGE(f.good(), "cannot open " << path);
  return nlohmann::json::parse(f);
}

// Counts elements with |got - want| > atol + rtol * |want|; reports the worst in `worst`.
inline size_t count_mismatches(const std::vector<double>& got, const std::vector<float>& want, double& max_abs,
                               double atol = 1e-5, double rtol = 1e-4) {
  size_t bad = 0;
  max_abs = 0;
  for (size_t k = 0; k < got.size() && k < want.size(); ++k) {
    double d = std::fabs(got[k] - want[k]);
    if (!(d <= atol + rtol * std::fabs(double(want[k])))) ++bad;
    if (!(d <= max_abs)) max_abs = d;
  }
  return bad;
}

inline bool file_exists(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f) std::fclose(f);
  return f != nullptr;
}

}  // namespace recur::test
