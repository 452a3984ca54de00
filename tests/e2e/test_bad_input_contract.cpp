// The bad-input contract seen from the command line: every malformed file or input given to
// `recur inspect|run|verify|convert` exits 1 with "recur <command>: <error code>: <message>" on
// stderr, and leaves nothing behind in the output location. (The same inputs through the C++ and
// C APIs are pinned down in tests/formats, tests/runtime, tests/convert and tests/c_api.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/npy.hpp"
#include "recur/format.hpp"
#include "recur/model.hpp"
#include "recur/version.h"
#include "support/random_spec.hpp"
#include "tools/convert/sanitizers.hpp"

using namespace recur;
namespace fs = std::filesystem;

namespace {

struct Workdir {
  fs::path dir;
  explicit Workdir(const std::string& name) : dir(fs::path(RECUR_BINARY_DIR) / "contract" / name) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  std::string operator/(const std::string& f) const { return (dir / f).string(); }
};

void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
void write_text(const std::string& path, const std::string& s) { std::ofstream(path) << s; }

// A (T, B, I) float input, optionally poisoned.
void write_input(const std::string& path, std::vector<int64_t> shape, float poison = 0.0f) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  std::vector<float> v = test::random_values(n, 7);
  if (poison != 0.0f || std::isnan(poison)) v[n / 2] = poison;
  REQUIRE(npy::write_f32(path, shape, v).ok());
}

struct Outcome {
  int exit_code;
  std::string out, err;
};

Outcome cli(const Workdir& w, const std::string& args) {
  const std::string out_path = w / "stdout.txt", err_path = w / "stderr.txt";
  const std::string cmd = std::string("'") + RECUR_CLI_PATH + "' " + args + " > '" + out_path +
                          "' 2> '" + err_path + "'";
  const int rc = std::system(cmd.c_str());
  std::ifstream out(out_path), err(err_path);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, std::string(std::istreambuf_iterator<char>(out), {}),
          std::string(std::istreambuf_iterator<char>(err), {})};
}

// The command failed with exit 1 and "recur <command>: <code>:" and `needle` on stderr.
void expect_failure(const Outcome& o, const std::string& command, const std::string& code,
                    const std::string& needle) {
  CHECK_MESSAGE(o.exit_code == 1, o.err);
  CHECK_MESSAGE(o.err.find("recur " + command + ": " + code + ": ") != std::string::npos, o.err,
                " lacks code ", code);
  CHECK_MESSAGE(o.err.find(needle) != std::string::npos, o.err, " lacks ", needle);
}

bool nothing_at(const std::string& path) { return !fs::exists(path) || fs::is_empty(path); }

// No temporary (*.tmp*) of an output left in the work dir.
void check_no_temporaries(const Workdir& w) {
  for (const auto& e : fs::directory_iterator(w.dir)) {
    CHECK_MESSAGE(e.path().string().find(".tmp") == std::string::npos, "temporary left: ", e.path());
  }
}

// A small lstm model (I=3, H=4, 2 layers) and a gru one, written to the work dir.
struct Models {
  std::string lstm, gru, bidir;
  explicit Models(const Workdir& w) : lstm(w / "lstm.recur"), gru(w / "gru.recur"), bidir(w / "bidir.recur") {
    test::SpecOptions o;
    o.input_size = 3;
    o.hidden_size = 4;
    o.num_layers = 2;
    REQUIRE(write_model(test::random_spec(o), lstm).ok());
    o.cell = CellType::gru;
    REQUIRE(write_model(test::random_spec(o), gru).ok());
    o.direction = Direction::bidirectional;
    REQUIRE(write_model(test::random_spec(o), bidir).ok());
  }
};

}  // namespace

TEST_CASE("contract: recur inspect on malformed model files") {
  const Workdir w("inspect");
  const Models m(w);
  const std::vector<uint8_t> good = read_bytes(m.lstm);
  struct Case { const char* name; std::vector<uint8_t> bytes; const char* code; const char* needle; };
  std::vector<uint8_t> corrupt = good;
  corrupt[corrupt.size() - 300] ^= 0x40;
  std::vector<uint8_t> future = good;
  future[8] = 7;  // version_major
  std::vector<uint8_t> magic = good;
  magic[1] = 'X';
  const std::vector<Case> cases = {
      {"empty", {}, "truncated", "empty"},
      {"header cut", {good.begin(), good.begin() + 40}, "truncated", "64-byte header"},
      {"cut mid-data", {good.begin(), good.end() - 128}, "truncated", "but it has"},
      {"flipped bit", corrupt, "checksum_mismatch", "corrupted"},
      {"future version", future, "unsupported_version", "version 7"},
      {"wrong magic", magic, "bad_magic", "not a .recur file"},
      {"text file", {'h', 'e', 'l', 'l', 'o'}, "truncated", "fewer than"},
  };
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    const std::string path = w / "bad.recur";
    write_bytes(path, c.bytes);
    expect_failure(cli(w, "inspect '" + path + "'"), "inspect", c.code, c.needle);
    expect_failure(cli(w, "inspect --json '" + path + "'"), "inspect", c.code, c.needle);
  }
  expect_failure(cli(w, "inspect '" + (w / "missing.recur") + "'"), "inspect", "io", "missing.recur");
  expect_failure(cli(w, "inspect '" + w.dir.string() + "'"), "inspect", "io", "not a regular file");
}

TEST_CASE("contract: recur run on bad inputs writes nothing") {
  const Workdir w("run");
  const Models m(w);
  const std::string out = w / "out";
  write_input(w / "x.npy", {5, 2, 3});
  write_input(w / "x_nan.npy", {5, 2, 3}, std::numeric_limits<float>::quiet_NaN());
  write_input(w / "x_inf.npy", {5, 2, 3}, std::numeric_limits<float>::infinity());
  write_input(w / "x_rank4.npy", {5, 2, 1, 3});
  write_input(w / "x_wide.npy", {5, 2, 4});
  write_input(w / "x_empty_t.npy", {0, 2, 3});
  write_input(w / "h0_bad.npy", {2, 2, 5});
  write_input(w / "h0_ok.npy", {2, 2, 4});
  write_input(w / "c0_ok.npy", {2, 2, 4});
  write_input(w / "len_float.npy", {2});
  write_text(w / "x.txt", "not an npy file at all\n");
  write_text(w / "ragged.csv", "1,2,3\n4,5\n");
  write_text(w / "nan.csv", "1,2,3\n4,nan,6\n");
  write_text(w / "words.csv", "1,2,3\na,b,c\n");
  // Integer .npy for lengths, in three bad flavours.
  auto lengths = [&](const std::string& name, std::vector<int32_t> v) {
    std::string header = "{'descr': '<i4', 'fortran_order': False, 'shape': (" + std::to_string(v.size()) + ",), }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::vector<uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<uint8_t>(header.size()), 0};
    b.insert(b.end(), header.begin(), header.end());
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    b.insert(b.end(), p, p + v.size() * 4);
    write_bytes(w / name, b);
  };
  lengths("len_long.npy", {5, 6});
  lengths("len_negative.npy", {-1, 3});
  lengths("len_count.npy", {5, 5, 5});

  const std::string x = "--input '" + (w / "x.npy") + "'";
  struct Case { const char* name; std::string args; const char* code; const char* needle; };
  const std::vector<Case> cases = {
      {"missing model", "'" + (w / "none.recur") + "' " + x, "io", "none.recur"},
      {"model is not .recur", "'" + (w / "x.npy") + "' " + x, "bad_magic", "not a .recur file"},
      {"missing input", "'" + m.lstm + "' --input '" + (w / "nope.npy") + "'", "io", "nope.npy"},
      {"input not npy", "'" + m.lstm + "' --input '" + (w / "x.txt") + "'", "", "x.txt"},
      {"NaN in input", "'" + m.lstm + "' --input '" + (w / "x_nan.npy") + "'", "non_finite", "x"},
      {"Inf in input", "'" + m.lstm + "' --input '" + (w / "x_inf.npy") + "'", "non_finite", "x"},
      {"input of rank 4", "'" + m.lstm + "' --input '" + (w / "x_rank4.npy") + "'", "invalid_argument", ""},
      {"input too wide", "'" + m.lstm + "' --input '" + (w / "x_wide.npy") + "'", "invalid_argument", "4"},
      {"zero time steps", "'" + m.lstm + "' --input '" + (w / "x_empty_t.npy") + "'", "invalid_argument", ""},
      {"h0 of the wrong shape", "'" + m.lstm + "' " + x + " --h0 '" + (w / "h0_bad.npy") + "'", "invalid_argument", "h0"},
      {"c0 for a gru", "'" + m.gru + "' " + x + " --h0 '" + (w / "h0_ok.npy") + "' --c0 '" + (w / "c0_ok.npy") + "'", "invalid_argument", "c0"},
      {"lengths longer than T", "'" + m.lstm + "' " + x + " --lengths '" + (w / "len_long.npy") + "'", "invalid_argument", "6"},
      {"negative length", "'" + m.lstm + "' " + x + " --lengths '" + (w / "len_negative.npy") + "'", "invalid_argument", "-1"},
      {"lengths count != batch", "'" + m.lstm + "' " + x + " --lengths '" + (w / "len_count.npy") + "'", "invalid_argument", "3"},
      {"float lengths", "'" + m.lstm + "' " + x + " --lengths '" + (w / "len_float.npy") + "'", "invalid_argument", "lengths"},
      {"ragged csv", "'" + m.lstm + "' --input '" + (w / "ragged.csv") + "'", "", "ragged.csv"},
      {"nan in csv", "'" + m.lstm + "' --input '" + (w / "nan.csv") + "'", "non_finite", "NaN"},
      {"words in csv", "'" + m.lstm + "' --input '" + (w / "words.csv") + "'", "", "words.csv"},
  };
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    fs::remove_all(out);
    const Outcome o = cli(w, "run " + c.args + " --out '" + out + "'");
    if (std::string(c.code).empty()) {
      CHECK_MESSAGE(o.exit_code == 1, o.err);
      CHECK_MESSAGE(o.err.rfind("recur run: ", 0) == 0, o.err);
      CHECK_MESSAGE(o.err.find(c.needle) != std::string::npos, o.err);
    } else {
      expect_failure(o, "run", c.code, c.needle);
    }
    CHECK_MESSAGE(nothing_at(out), c.name, ": left files in ", out);
  }
  // Streaming-only model kinds are fine for run; bidirectional runs too.
  fs::remove_all(out);
  CHECK(cli(w, "run '" + m.bidir + "' " + x + " --out '" + out + "'").exit_code == 0);
  // An output location that is a file: an io error, and the file is untouched.
  write_text(w / "occupied", "keep me");
  expect_failure(cli(w, "run '" + m.lstm + "' " + x + " --out '" + (w / "occupied") + "'"), "run", "io", "occupied");
  std::ifstream kept(w / "occupied");
  CHECK(std::string(std::istreambuf_iterator<char>(kept), {}) == "keep me");
}

TEST_CASE("contract: recur verify on bad inputs") {
  const Workdir w("verify");
  const Models m(w);
  write_input(w / "x.npy", {5, 2, 3});
  write_input(w / "y_wrong_shape.npy", {5, 2, 7});
  write_input(w / "y_wrong_values.npy", {5, 2, 4});
  const std::string x = "--input '" + (w / "x.npy") + "'";
  Outcome o = cli(w, "verify '" + m.lstm + "' " + x + " --expect '" + (w / "y_wrong_shape.npy") + "'");
  CHECK_MESSAGE(o.exit_code == 1, o.err);
  CHECK_MESSAGE(o.out.find("FAIL shape (5, 2, 4), expected (5, 2, 7)") != std::string::npos, o.out);
  o = cli(w, "verify '" + m.lstm + "' " + x + " --expect '" + (w / "y_wrong_values.npy") + "'");
  CHECK(o.exit_code == 1);  // a mismatch is a failed verification, reported on stdout
  CHECK_MESSAGE(o.out.find("MISMATCH") != std::string::npos, o.out);
  expect_failure(cli(w, "verify '" + m.lstm + "' " + x + " --expect '" + (w / "none.npy") + "'"), "verify", "io", "none.npy");
}

TEST_CASE("contract: recur convert leaves no partial output") {
  const Workdir w("convert");
  const std::string out = w / "out.recur";
  write_text(w / "garbage.onnx", "this is not protobuf");
  write_text(w / "garbage.pt", "PK\x03\x04 not really a zip");
  write_bytes(w / "empty.safetensors", {});
  for (const char* src : {"garbage.onnx", "garbage.pt", "empty.safetensors", "missing.onnx"}) {
    const std::string name = src;
    CAPTURE(name);
    const Outcome o = cli(w, "convert '" + (w / src) + "' -o '" + out + "'");
    CHECK_MESSAGE(o.exit_code == 1, o.err);
    CHECK_MESSAGE(o.err.rfind("recur convert: ", 0) == 0, o.err);
    CHECK(!fs::exists(out));
    check_no_temporaries(w);
  }
}

TEST_CASE("contract: recur convert contains a crash inside libhdf5") {
  // The file makes libhdf5 itself crash; the conversion runs in a child process, so the CLI
  // reports an error and writes nothing (tests/fixtures/contained/README.md).
  const Workdir w("convert_contained");
  const std::string out = w / "out.recur";
  const std::string src = std::string(RECUR_FIXTURES_DIR) + "/contained/hdf5_segfault.keras";
  const Outcome o = cli(w, "convert '" + src + "' -o '" + out + "'");
  CHECK_MESSAGE(o.exit_code == 1, o.err);
#if !defined(RECUR_ASAN)
  // (Under ASan the child stops at the bad memcpy with ASan's report instead of a signal.)
  expect_failure(o, "convert", "bad_metadata", "the reader crashed on this file");
#endif
  CHECK(nothing_at(out));
  check_no_temporaries(w);
}

#if !defined(RECUR_ASAN) && !defined(RECUR_TSAN)
TEST_CASE("contract: recur convert caps the memory libhdf5 may take on a hostile file") {
  // libhdf5 allocates without bound on this file; the child's memory cap ends it (no ASan or TSan:
  // the cap is not applied there, tests/fixtures/contained/README.md).
  const Workdir w("convert_capped");
  const std::string out = w / "out.recur";
  const std::string src = std::string(RECUR_FIXTURES_DIR) + "/contained/hdf5_unbounded_heap.keras";
  const Outcome o = cli(w, "convert '" + src + "' -o '" + out + "'");
  CHECK_MESSAGE(o.exit_code == 1, o.err);
  // libhdf5 either reports the failed allocation (the weights then cannot be found) or crashes.
  const bool reported = o.err.rfind("recur convert: invalid_model: ", 0) == 0 &&
                        o.err.find("no weight dataset") != std::string::npos;
  const bool crashed = o.err.rfind("recur convert: bad_metadata: ", 0) == 0 &&
                       o.err.find("the reader crashed on this file") != std::string::npos;
  CHECK_MESSAGE((reported || crashed), o.err);
  CHECK(nothing_at(out));
}
#endif

TEST_CASE("recur bench: runs and writes JSON rows; bad options are errors") {
  const Workdir w("bench");
  const Models m(w);
  const std::string json_path = w / "bench.json";
  Outcome o = cli(w, "bench '" + m.lstm + "' --batch 1,3 --threads 1 --seq-len 4 --min-time 0.01 --json='" + json_path + "'");
  CHECK_MESSAGE(o.exit_code == 0, o.err);
  std::ifstream f(json_path);
  const nlohmann::json doc = nlohmann::json::parse(f, nullptr, false);
  REQUIRE(!doc.is_discarded());
  CHECK(doc["rows"].size() == 2);
  CHECK(doc["rows"][1]["batch"] == 3);
  CHECK(doc["rows"][1]["median_us"].get<double>() > 0);
  expect_failure(cli(w, "bench '" + m.lstm + "' --batch 0"), "bench", "invalid_argument", "batch 0");
  expect_failure(cli(w, "bench '" + m.lstm + "' --seq-len -3"), "bench", "invalid_argument", "--seq-len");
  expect_failure(cli(w, "bench '" + (w / "none.recur") + "'"), "bench", "io", "none.recur");
}

TEST_CASE("cli: usage errors exit 2, --help and --version 0") {
  const Workdir w("usage");
  const Models m(w);
  for (const std::string& args :
       {std::string("inspect"), std::string("inspect --no-such-option '") + m.lstm + "'",
        std::string("run '") + m.lstm + "'", std::string("bench '") + m.lstm + "' --threads abc",
        std::string("bench '") + m.lstm + "' --threads 2000", std::string("inspect '") + m.lstm + "' extra",
        std::string("inspect '") + m.lstm + "' --json out.json", std::string("frobnicate"), std::string("")}) {
    CAPTURE(args);
    const Outcome o = cli(w, args);
    CHECK_MESSAGE(o.exit_code == 2, o.err);
  }
  CHECK(cli(w, "--help").exit_code == 0);
  const Outcome v = cli(w, "--version");
  CHECK(v.exit_code == 0);
  CHECK(v.out == std::string("recur ") + RECUR_VERSION_STRING + "\n");
  // --help shows the defaults.
  const Outcome help = cli(w, "bench --help");
  CHECK(help.exit_code == 0);
  CHECK_MESSAGE(help.out.find("1,8,64") != std::string::npos, help.out);
  CHECK_MESSAGE(help.out.find("50") != std::string::npos, help.out);
}

TEST_CASE("cli: --json means the same in inspect and bench: stdout, -, or =FILE") {
  const Workdir w("json");
  const Models m(w);
  const std::vector<uint8_t> model = read_bytes(m.lstm);
  for (const std::string& flag : {std::string("--json"), std::string("--json=-")}) {
    const Outcome o = cli(w, "inspect " + flag + " '" + m.lstm + "'");  // before the file: a flag
    CHECK_MESSAGE(o.exit_code == 0, o.err);
    const nlohmann::json doc = nlohmann::json::parse(o.out, nullptr, false);
    CHECK_MESSAGE(!doc.is_discarded(), o.out);
    const Outcome b = cli(w, "bench '" + m.lstm + "' --batch 1 --threads 1 --seq-len 2 --min-time 0.01 " + flag);
    CHECK_MESSAGE(b.exit_code == 0, b.err);
    const nlohmann::json rows = nlohmann::json::parse(b.out, nullptr, false);
    REQUIRE_MESSAGE(!rows.is_discarded(), b.out);
    CHECK(rows["rows"].size() == 1);
  }
  CHECK(read_bytes(m.lstm) == model);  // never taken for the JSON's destination
  const Outcome f = cli(w, "inspect '" + m.lstm + "' --json='" + (w / "i.json") + "'");
  CHECK_MESSAGE(f.exit_code == 0, f.err);
  CHECK(f.out.find("parameters:") != std::string::npos);  // the text on stdout, the JSON in the file
  std::ifstream in(w / "i.json");
  CHECK(!nlohmann::json::parse(in, nullptr, false).is_discarded());
  expect_failure(cli(w, "inspect '" + m.lstm + "' --json='" + (w / "no/such/dir.json") + "'"), "inspect", "io",
                 "dir.json");
}

TEST_CASE("cli: the thread count follows --threads, RECUR_NUM_THREADS, OMP_NUM_THREADS, then 1") {
  const Workdir w("threads");
  const Models m(w);
  const int cpus = available_cpus();
  // bench --json records what each row resolved to.
  const auto resolved = [&](const std::string& env, const std::string& threads) {
    const std::string cmd = "env -u RECUR_NUM_THREADS -u OMP_NUM_THREADS " + env + " '" + RECUR_CLI_PATH +
                            "' bench '" + m.lstm + "' --batch 1 --threads " + threads +
                            " --seq-len 2 --min-time 0.01 --json > '" + (w / "out.json") + "' 2>/dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::ifstream in(w / "out.json");
    const nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
    REQUIRE(!doc.is_discarded());
    CHECK(doc["recur_version"] == RECUR_VERSION_STRING);
    CHECK(doc["cpus_available"] == cpus);
    CHECK(doc.contains("cpu"));
    return doc["rows"][0]["threads_resolved"].get<int>();
  };
  CHECK(resolved("", "0") == 1);
  CHECK(resolved("OMP_NUM_THREADS=1", "0") == 1);
  CHECK(resolved("OMP_NUM_THREADS=2", "0") == std::min(2, cpus));
  CHECK(resolved("OMP_NUM_THREADS=1 RECUR_NUM_THREADS=2", "0") == std::min(2, cpus));
  CHECK(resolved("RECUR_NUM_THREADS=9999 OMP_NUM_THREADS=2", "0") == std::min(2, cpus));  // bad: ignored
  CHECK(resolved("RECUR_NUM_THREADS=64", "0") == std::min(64, cpus));                    // capped
  CHECK(resolved("RECUR_NUM_THREADS=2", "3") == 3);                                      // the call's own
}
