// A large model's data checks (checksum, finite test) run on a second thread beside the reading
// and packing, and Model::load prefaults the panels on another: the outcome must be that of the
// inline checks — the same weights, the same model, and the same error for a NaN near the end,
// a flipped bit, or a truncated file. (Small files: every malformed case of test_recur_file.cpp
// runs on both routes.) In the concurrency suite: TSan runs it too.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "formats/file_surgery.hpp"
#include "recur/format.hpp"
#include "recur/model.hpp"
#include "support/random_spec.hpp"

using namespace recur;
using recur::test::Bytes;

namespace {

void write_bytes(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  REQUIRE(f.good());
}

ReadOptions route(bool threaded) {
  ReadOptions o;
  o.threaded_check_min_bytes = threaded ? 0 : UINT64_MAX;
  return o;
}

}  // namespace

TEST_CASE("reader: a large file's checks on a second thread give the inline results" *
          doctest::test_suite("concurrency")) {
  test::SpecOptions o;
  o.input_size = 400;
  o.hidden_size = 400;  // W and R: 2.4 MiB each, above the threaded threshold together
  const ModelSpec spec = test::random_spec(o);
  Result<Bytes> image = serialize_model(spec);
  REQUIRE(image.ok());
  const Bytes good = std::move(image).value();
  REQUIRE(test::header_of(good).data_size >= ReadOptions{}.threaded_check_min_bytes);
  const std::string path = std::string(RECUR_BINARY_DIR) + "/threaded_checks.recur";

  // Valid: the same weights on both routes, and Model::load (threaded, prefaulting) gives the
  // model from_spec gives.
  write_bytes(path, good);
  Result<ModelFile> a = read_model(path, route(true));
  Result<ModelFile> b = read_model(path, route(false));
  REQUIRE_MESSAGE(a.ok(), a.status().to_string());
  REQUIRE_MESSAGE(b.ok(), b.status().to_string());
  CHECK(a->spec.layers[0].weights[0].W == b->spec.layers[0].weights[0].W);
  CHECK(a->spec.layers[0].weights[0].R == b->spec.layers[0].weights[0].R);
  Result<Model> loaded = Model::load(path);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
  const std::vector<float> x = test::random_values(static_cast<size_t>(3 * 2 * o.input_size), 4);
  RunOptions one;  // threads as a service runs them (teams: tests/runtime/test_team_concurrency.cpp)
  one.threads = 1;
  Result<RunOutput> y1 = loaded->run(RunInput{x.data(), 3, 2}, one);
  Result<RunOutput> y2 = Model::from_spec(spec)->run(RunInput{x.data(), 3, 2}, one);
  REQUIRE(y1.ok());
  REQUIRE(y2.ok());
  CHECK(std::memcmp(y1->y.data(), y2->y.data(), y1->y.size() * sizeof(float)) == 0);
  LoadOptions caller_only;  // no helper threads: the same model
  caller_only.threads = 1;
  Result<Model> alone = Model::load(path, caller_only);
  REQUIRE_MESSAGE(alone.ok(), alone.status().to_string());
  Result<RunOutput> y3 = alone->run(RunInput{x.data(), 3, 2}, one);
  REQUIRE(y3.ok());
  CHECK(std::memcmp(y1->y.data(), y3->y.data(), y1->y.size() * sizeof(float)) == 0);

  const auto same_error = [&](const Bytes& bytes, Errc code, const std::string& needle) {
    write_bytes(path, bytes);
    const Status t = read_model(path, route(true)).status();
    const Status i = read_model(path, route(false)).status();
    const Status m = Model::load(path).status();
    const Status m1 = Model::load(path, caller_only).status();
    CHECK_MESSAGE(t.code() == code, t.to_string());
    CHECK_MESSAGE(t.message().find(needle) != std::string::npos, t.to_string());
    CHECK(t.to_string() == i.to_string());
    CHECK(m.to_string() == i.to_string());
    CHECK(m1.to_string() == i.to_string());
  };
  const layout::Header h = test::header_of(good);
  // A NaN in the last weight of R (resealed): found by the checker after every read is done.
  Bytes nan = good;
  const TensorInfo* r_info = nullptr;
  for (const TensorInfo& t : a->info.tensors) {
    if (t.name == "layers.0.forward.R") r_info = &t;
  }
  REQUIRE(r_info != nullptr);
  const float bad = std::nanf("");
  std::memcpy(nan.data() + h.data_offset + r_info->offset + r_info->size - 4, &bad, 4);
  test::reseal(nan);
  same_error(nan, Errc::non_finite,
             "tensor 'layers.0.forward.R' has a non-finite value at flat index " +
                 std::to_string(r_info->size / 4 - 1));
  // A NaN early in W and a truncated tail: the earlier fault is the one reported.
  Bytes early = nan;
  std::memcpy(early.data() + h.data_offset + 4, &bad, 4);
  test::reseal(early);
  early.resize(early.size() - 4096);
  write_bytes(path, early);
  const Status t = read_model(path, route(true)).status();
  CHECK(t.to_string() == read_model(path, route(false)).status().to_string());
  // One flipped bit in R: the checksum.
  Bytes flipped = good;
  flipped[h.data_offset + r_info->offset + 1000] ^= 0x04;
  same_error(flipped, Errc::checksum_mismatch, "corrupted");
  // Cut short in R.
  same_error(Bytes(good.begin(), good.end() - 100000), Errc::truncated, "");
  std::remove(path.c_str());
}
