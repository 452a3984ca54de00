// `recur run` end to end: a model file and .npy/.csv inputs in, y/h_n/c_n out, identical to
// Model::run on the same arrays; bad inputs fail with exit code 1 and write nothing.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "formats/csv.hpp"
#include "formats/npy.hpp"
#include "recur/format.hpp"
#include "tests/runtime/runtime_helpers.hpp"

using namespace recur;
using namespace recur::test;
namespace fs = std::filesystem;

namespace {

// A version 1.0 '<i4' .npy of shape (n) (the library writes only float32).
void write_i32_npy(const std::string& path, const std::vector<int32_t>& v) {
  std::string header = "{'descr': '<i4', 'fortran_order': False, 'shape': (" +
                       std::to_string(v.size()) + ",), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  const uint16_t n = static_cast<uint16_t>(header.size());
  const char len[2] = {static_cast<char>(n & 0xff), static_cast<char>(n >> 8)};
  f.write(len, 2);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
}

int cli(const std::string& args) {
  const std::string cmd = std::string(RECUR_CLI_PATH) + " run " + args + " > /dev/null 2>&1";
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// An empty folder of that name under the test build folder.
fs::path fresh_dir(const char* name) {
  const fs::path dir = fs::path(RECUR_BINARY_DIR) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

npy::Array read_npy(const std::string& path) {
  Result<npy::Array> a = npy::read(path);
  REQUIRE_MESSAGE(a.ok(), a.status().to_string());
  return std::move(a).value();
}

}  // namespace

TEST_CASE("recur run: npy in and y h_n c_n out equal to Model::run") {
  const fs::path dir = fresh_dir("cli_run");
  SpecOptions o;
  o.num_layers = 2;
  o.direction = Direction::bidirectional;
  o.hidden_size = 5;
  const ModelSpec spec = random_spec(o);
  const std::string model_path = (dir / "m.recur").string();
  REQUIRE(write_model(spec, model_path).ok());
  const Model m = *Model::from_spec(spec);

  const int64_t T = 4, B = 3, I = m.input_size();
  const std::vector<float> x = random_values(static_cast<size_t>(T * B * I), 5);
  const std::vector<int32_t> len = {4, 2, 0};
  REQUIRE(npy::write_f32((dir / "x.npy").string(), {T, B, I}, x).ok());
  write_i32_npy((dir / "len.npy").string(), len);
  RunInput in{x.data(), T, B};
  in.lengths = len.data();
  const std::vector<float> h0 = random_values(static_cast<size_t>(4 * B * 5), 6);
  const std::vector<float> c0 = random_values(h0.size(), 7);
  REQUIRE(npy::write_f32((dir / "h0.npy").string(), {4, B, 5}, h0).ok());
  REQUIRE(npy::write_f32((dir / "c0.npy").string(), {4, B, 5}, c0).ok());
  in.h0 = h0.data();
  in.c0 = c0.data();
  const RunOutput want = run_ok(m, in);

  const std::string d = dir.string() + "/";
  REQUIRE(cli(model_path + " --input " + d + "x.npy --lengths " + d + "len.npy --h0 " + d +
              "h0.npy --c0 " + d + "c0.npy --threads 2 --out " + d + "out") == 0);
  const npy::Array y = read_npy(d + "out/y.npy");
  const npy::Array h = read_npy(d + "out/h_n.npy");
  const npy::Array c = read_npy(d + "out/c_n.npy");
  CHECK(y.shape == want.y_shape);
  CHECK(h.shape == want.h_shape);
  CHECK(c.shape == want.c_shape);
  require_same_bits(y.f32, want.y);
  require_same_bits(h.f32, want.h_n);
  require_same_bits(c.f32, want.c_n);

  // --batch-first: (B, T, I) in, (B, T, O) out.
  std::vector<float> xb(x.size());
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < I; ++i) xb[static_cast<size_t>((b * T + t) * I + i)] = x[static_cast<size_t>((t * B + b) * I + i)];
  REQUIRE(npy::write_f32(d + "xb.npy", {B, T, I}, xb).ok());
  REQUIRE(cli(model_path + " --input " + d + "xb.npy --batch-first --out " + d + "outb") == 0);
  RunInput inb{xb.data(), T, B, Layout::batch_first};
  const RunOutput wantb = run_ok(m, inb);
  const npy::Array yb = read_npy(d + "outb/y.npy");
  CHECK(yb.shape == wantb.y_shape);
  require_same_bits(yb.f32, wantb.y);

  // --recurrent-weights bf16: what Model::run gives with that load option; an unknown format is
  // a usage error.
  LoadOptions lo;
  lo.recurrent_weights = WeightFormat::bf16;
  const RunOutput want16 = run_ok(*Model::from_spec(spec, lo), RunInput{x.data(), T, B});
  REQUIRE(cli(model_path + " --input " + d + "x.npy --recurrent-weights bf16 --out " + d + "out16") == 0);
  require_same_bits(read_npy(d + "out16/y.npy").f32, want16.y);
  CHECK(read_npy(d + "out16/y.npy").f32 != run_ok(m, RunInput{x.data(), T, B}).y);
  CHECK(cli(model_path + " --input " + d + "x.npy --recurrent-weights fp16 --out " + d + "outbad") != 0);

  // Bad inputs: exit 1, nothing written.
  REQUIRE(npy::write_f32(d + "bad.npy", {T, B, I + 1}, std::vector<float>(static_cast<size_t>(T * B * (I + 1)))).ok());
  CHECK(cli(model_path + " --input " + d + "bad.npy --out " + d + "outbad") == 1);
  write_i32_npy(d + "badlen.npy", {5, 1, 1});
  CHECK(cli(model_path + " --input " + d + "x.npy --lengths " + d + "badlen.npy --out " + d + "outbad") == 1);
  CHECK(cli(model_path + " --input " + d + "x.npy --h0 " + d + "bad.npy --out " + d + "outbad") == 1);
  CHECK(cli(d + "missing.recur --input " + d + "x.npy --out " + d + "outbad") == 1);
  CHECK(cli(model_path + " --input " + d + "x.npy") != 0);  // --out is required
  CHECK(!fs::exists(d + "outbad/y.npy"));
}

TEST_CASE("recur run: one sequence as CSV") {
  const fs::path dir = fresh_dir("cli_run_csv");
  SpecOptions o;
  o.cell = CellType::gru;
  o.input_size = 2;
  o.head_size = 3;
  const ModelSpec spec = random_spec(o);
  const std::string d = dir.string() + "/";
  REQUIRE(write_model(spec, d + "m.recur").ok());
  const Model m = *Model::from_spec(spec);
  const int64_t T = 6;
  csv::Matrix xm;
  xm.rows = T;
  xm.cols = 2;
  xm.header = {"a", "b"};
  xm.data = random_values(static_cast<size_t>(T * 2), 3);
  REQUIRE(csv::write(d + "x.csv", xm).ok());
  // The header line must be declared: without --header it is a non-numeric data line.
  CHECK(cli(d + "m.recur --input " + d + "x.csv --out " + d + "out") == 1);
  CHECK(cli(d + "m.recur --input " + d + "x.csv --no-header --out " + d + "out") == 1);
  CHECK(cli(d + "m.recur --input " + d + "x.csv --header --no-header --out " + d + "out") == 2);
  REQUIRE(cli(d + "m.recur --input " + d + "x.csv --header --out " + d + "out") == 0);
  const RunOutput want = run_ok(m, RunInput{xm.data.data(), T, 1});
  Result<csv::Matrix> y = csv::read(d + "out/y.csv");
  REQUIRE(y.ok());
  CHECK(y->rows == T);
  CHECK(y->cols == 3);
  require_same_bits(y->data, want.y);  // 9 significant digits round-trip floats exactly
  const npy::Array yn = read_npy(d + "out/y.npy");
  CHECK(yn.shape == std::vector<int64_t>{T, 1, 3});
  CHECK(!fs::exists(d + "out/c_n.npy"));  // a GRU has no cell state
}

TEST_CASE("recur run / verify --precision int8: the int8 model's outputs, and its error against fp32") {
  const fs::path dir = fresh_dir("cli_int8");
  SpecOptions o;
  o.hidden_size = 17;
  const ModelSpec spec = random_spec(o);
  const std::string model = (dir / "m.recur").string(), d = dir.string() + "/";
  REQUIRE(write_model(spec, model).ok());
  const int64_t T = 5, B = 2, I = spec.input_size();
  const std::vector<float> x = random_values(static_cast<size_t>(T * B * I), 8);
  REQUIRE(npy::write_f32(d + "x.npy", {T, B, I}, x).ok());
  LoadOptions lo;
  lo.precision = Precision::int8;
  const RunOutput want = run_ok(*Model::from_spec(spec, lo), RunInput{x.data(), T, B});
  REQUIRE(cli(model + " --precision int8 --input " + d + "x.npy --out " + d + "out") == 0);
  require_same_bits(read_npy(d + "out/y.npy").f32, want.y);
  CHECK(cli(model + " --precision int4 --input " + d + "x.npy --out " + d + "bad") != 0);
  CHECK_FALSE(fs::exists(d + "bad"));

  const std::string report = d + "verify.txt";
  const std::string cmd = std::string(RECUR_CLI_PATH) + " verify --precision int8 " + model +
                          " --input " + d + "x.npy > " + report + " 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream f(report);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  CHECK(text.find("precision int8") != std::string::npos);
  CHECK(text.find("y vs f32: max abs") != std::string::npos);
  CHECK(text.find("c_n vs f32: max abs") != std::string::npos);
  // Without --precision int8, --expect stays required.
  const std::string plain = std::string(RECUR_CLI_PATH) + " verify " + model + " --input " + d +
                            "x.npy > /dev/null 2>&1";
  CHECK(std::system(plain.c_str()) != 0);
}
