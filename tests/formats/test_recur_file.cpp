// .recur round trips for every layer type and option, and malformed files that must each fail
// with their own specific error (formats/SPEC.md).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>

#include "formats/layout.hpp"
#include "recur/format.hpp"
#include "support/random_spec.hpp"
#include "formats/file_surgery.hpp"

using namespace recur;
using recur::test::Bytes;
using nlohmann::json;

namespace {

Bytes valid_image(test::SpecOptions o = {}) {
  o.head_size = o.head_size ? o.head_size : 3;
  Result<Bytes> b = serialize_model(test::random_spec(o));
  REQUIRE_MESSAGE(b.ok(), b.status().to_string());
  return std::move(b).value();
}

// Parses on both routes of the data checks (inline, and on a second thread as for large files):
// they must agree on the outcome and its message.
Status parse(const Bytes& b) {
  const Status inline_checks = parse_model(b.data(), b.size(), "m.recur").status();
  ReadOptions threaded;
  threaded.threaded_check_min_bytes = 0;
  const Status threaded_checks = parse_model(b.data(), b.size(), "m.recur", threaded).status();
  CHECK_MESSAGE(threaded_checks.to_string() == inline_checks.to_string(),
                "threaded: ", threaded_checks.to_string(), " inline: ", inline_checks.to_string());
  return inline_checks;
}

// Checks the error code and that the message names the file and says what is wrong.
void expect_error(const Bytes& b, Errc code, const std::string& needle) {
  const Status s = parse(b);
  CHECK_MESSAGE(s.code() == code, s.to_string());
  CHECK_MESSAGE(s.message().find("m.recur: ") == 0, s.message());
  CHECK_MESSAGE(s.message().find(needle) != std::string::npos, s.message(), " lacks ", needle);
}

}  // namespace

TEST_CASE("round trip keeps attributes and every weight bit for every layer type") {
  struct Case { const char* name; test::SpecOptions o; };
  std::vector<Case> cases;
  for (CellType cell : {CellType::rnn, CellType::lstm, CellType::gru}) {
    for (Direction dir : {Direction::forward, Direction::reverse, Direction::bidirectional}) {
      test::SpecOptions o;
      o.cell = cell;
      o.direction = dir;
      o.num_layers = 2;
      cases.push_back({"plain", o});
    }
  }
  test::SpecOptions lstm_all;
  lstm_all.peepholes = true;
  lstm_all.proj_size = 3;
  lstm_all.clip = 2.5f;
  lstm_all.input_forget = true;
  lstm_all.activations = {{"HardSigmoid", 0.3f, 0.6f}, {"LeakyRelu", 0.05f, 0}, {"Softsign", 0, 0}};
  lstm_all.head_size = 4;
  lstm_all.head_softmax = true;
  lstm_all.head_last_step_only = true;
  lstm_all.batch_first = true;
  cases.push_back({"lstm with every option", lstm_all});
  test::SpecOptions gru_lbr;
  gru_lbr.cell = CellType::gru;
  gru_lbr.linear_before_reset = true;
  gru_lbr.activations = {{"Sigmoid", 0, 0}, {"Tanh", 0, 0}};
  cases.push_back({"gru linear_before_reset", gru_lbr});
  test::SpecOptions rnn_relu;
  rnn_relu.cell = CellType::rnn;
  rnn_relu.activations = {{"Relu", 0, 0}};
  cases.push_back({"rnn relu, no head", rnn_relu});

  const std::string path = std::string(RECUR_BINARY_DIR) + "/roundtrip.recur";
  for (const Case& c : cases) {
    CAPTURE(c.name);
    ModelSpec spec = test::random_spec(c.o);
    spec.source = "unit.onnx";
    spec.source_hash = "0123456789abcdef";
    REQUIRE(write_model(spec, path).ok());
    Result<ModelFile> back = read_model(path);
    REQUIRE_MESSAGE(back.ok(), back.status().to_string());
    CHECK(back->spec == spec);
    CHECK(back->info.version_major == 1);  // nothing here needs version 2
    // Serializing what we read gives the same bytes.
    Result<Bytes> again = serialize_model(back->spec);
    Result<Bytes> first = serialize_model(spec);
    REQUIRE(again.ok());
    CHECK(*again == *first);
    for (const TensorInfo& t : back->info.tensors) CHECK(t.offset % 64 == 0);
  }
  std::remove(path.c_str());
}

TEST_CASE("tensor data is 64-byte aligned within the file") {
  const Bytes b = valid_image();
  Result<ModelFile> f = parse_model(b.data(), b.size(), "m.recur");
  REQUIRE(f.ok());
  CHECK(f->info.data_offset % 64 == 0);
  CHECK(f->info.file_size == b.size());
}

TEST_CASE("unknown metadata keys are ignored and a newer minor version is read") {
  const Bytes base = valid_image();
  Bytes b = test::edit_metadata(base, [](json& d) {
    d["future_key"] = {{"anything", 1}};
    d["layers"][0]["future_attribute"] = "x";
    d["tensors"][0]["future_field"] = 7;
  });
  CHECK(parse(b).ok());
  b = test::patch_header<uint16_t>(b, layout::HeaderField::version_minor, 9);
  CHECK(parse(b).ok());
}

TEST_CASE("read_model reports missing files and directories as io errors") {
  Result<ModelFile> r = read_model("/nonexistent/dir/m.recur");
  CHECK(r.status().code() == Errc::io);
  CHECK(r.status().message().find("/nonexistent/dir/m.recur") != std::string::npos);
  CHECK(read_model("/tmp").status().code() == Errc::io);
}

TEST_CASE("write_model refuses an invalid spec and leaves no file") {
  ModelSpec spec = test::random_spec({});
  spec.layers[0].weights[0].R.data[3] = std::nanf("");
  const std::string path = std::string(RECUR_BINARY_DIR) + "/never.recur";
  std::remove(path.c_str());
  Status s = write_model(spec, path);
  CHECK(s.code() == Errc::non_finite);
  CHECK(!std::ifstream(path).good());
  CHECK(write_model(test::random_spec({}), "/nonexistent/dir/x.recur").code() == Errc::io);
}

// ---- malformed files: each must fail with its own error --------------------------------------

TEST_CASE("malformed: empty file and truncated header") {
  expect_error({}, Errc::truncated, "empty");
  const Bytes b = valid_image();
  expect_error(Bytes(b.begin(), b.begin() + 30), Errc::truncated, "fewer than the 64-byte header");
}

TEST_CASE("malformed: wrong magic") {
  Bytes b = valid_image();
  b[0] = 'X';
  expect_error(b, Errc::bad_magic, "magic");
}

TEST_CASE("malformed: future major version") {
  const Bytes b = test::patch_header<uint16_t>(valid_image(), layout::HeaderField::version_major, kFormatMajor + 1);
  expect_error(b, Errc::unsupported_version, "version " + std::to_string(kFormatMajor + 1) + ".1");
  const Bytes zero = test::patch_header<uint16_t>(valid_image(), layout::HeaderField::version_major, 0);
  expect_error(zero, Errc::unsupported_version, "version 0.1");
}

TEST_CASE("malformed: header size and reserved field") {
  expect_error(test::patch_header<uint32_t>(valid_image(), layout::HeaderField::header_size, 60),
               Errc::bad_header, "header size 60");
  expect_error(test::patch_header<uint64_t>(valid_image(), layout::HeaderField::reserved, 1),
               Errc::bad_header, "reserved");
}

TEST_CASE("malformed: file shorter than the header says (truncated tensor data)") {
  const Bytes b = valid_image();
  expect_error(Bytes(b.begin(), b.end() - 100), Errc::truncated, "but it has");
}

TEST_CASE("malformed: trailing bytes after the declared end") {
  Bytes b = valid_image();
  b.resize(b.size() + 64, 0);
  expect_error(b, Errc::bad_header, "after the end");
}

TEST_CASE("malformed: metadata size zero, over the cap, or past EOF") {
  expect_error(test::patch_header<uint64_t>(valid_image(), layout::HeaderField::metadata_size, 0),
               Errc::bad_header, "metadata size 0");
  expect_error(test::patch_header<uint64_t>(valid_image(), layout::HeaderField::metadata_size,
                                            uint64_t{1} << 40),
               Errc::bad_header, "metadata size");
  const Bytes b = valid_image();
  const uint64_t past = b.size();  // under the cap, but runs past the end
  expect_error(test::patch_header<uint64_t>(b, layout::HeaderField::metadata_size, past),
               Errc::truncated, "past the end of the file");
}

TEST_CASE("malformed: data offset and data size inconsistent") {
  const Bytes b = valid_image();
  const layout::Header h = test::header_of(b);
  expect_error(test::patch_header<uint64_t>(b, layout::HeaderField::data_offset, h.data_offset + 64),
               Errc::bad_header, "data offset");
  expect_error(test::patch_header<uint64_t>(b, layout::HeaderField::data_size, h.data_size - 64),
               Errc::bad_header, "does not end at the file size");
  expect_error(test::patch_header<uint64_t>(b, layout::HeaderField::data_size,
                                            std::numeric_limits<uint64_t>::max()),
               Errc::bad_header, "does not end at the file size");
}

TEST_CASE("malformed: checksum mismatch from one flipped bit in the weights") {
  Bytes b = valid_image();
  b[test::header_of(b).data_offset + 9] ^= 0x10;
  expect_error(b, Errc::checksum_mismatch, "corrupted");
  // With verification off the flipped weight is read as it is.
  ReadOptions no_check;
  no_check.verify_checksum = false;
  CHECK(parse_model(b.data(), b.size(), "m", no_check).ok());
}

TEST_CASE("malformed: a corrupted metadata byte reports the checksum, not the symptom") {
  Bytes b = valid_image();
  b[70] = '#';
  expect_error(b, Errc::checksum_mismatch, "corrupted");
}

TEST_CASE("malformed: metadata that is not JSON, not an object, or nested too deep") {
  const Bytes data = test::data_of(valid_image());
  expect_error(test::assemble("{\"model\": {", data), Errc::bad_metadata, "not valid JSON");
  expect_error(test::assemble("[1, 2, 3]", data), Errc::bad_metadata, "JSON object");
  expect_error(test::assemble(std::string(100, '[') + std::string(100, ']'), data),
               Errc::bad_metadata, "deeper");
}

TEST_CASE("malformed: missing keys") {
  const Bytes b = valid_image();
  expect_error(test::edit_metadata(b, [](json& d) { d.erase("layers"); }), Errc::bad_metadata,
               "'layers'");
  expect_error(test::edit_metadata(b, [](json& d) { d.erase("tensors"); }), Errc::bad_metadata,
               "'tensors'");
  expect_error(test::edit_metadata(b, [](json& d) { d.erase("model"); }), Errc::bad_metadata,
               "'model'");
  expect_error(test::edit_metadata(b, [](json& d) { d["layers"][0].erase("hidden_size"); }),
               Errc::bad_metadata, "lacks key 'hidden_size'");
  expect_error(test::edit_metadata(b, [](json& d) { d["tensors"][1].erase("offset"); }),
               Errc::bad_tensor, "lacks key 'offset'");
}

TEST_CASE("malformed: wrong value types and unknown enums") {
  const Bytes b = valid_image();
  expect_error(test::edit_metadata(b, [](json& d) { d["layers"][0]["hidden_size"] = "7"; }),
               Errc::bad_metadata, "must be an integer");
  expect_error(test::edit_metadata(b, [](json& d) { d["layers"][0]["hidden_size"] = 7.5; }),
               Errc::bad_metadata, "must be an integer");
  expect_error(test::edit_metadata(b, [](json& d) { d["layers"][0]["type"] = "transformer"; }),
               Errc::bad_metadata, "unknown type 'transformer'");
  expect_error(test::edit_metadata(b, [](json& d) { d["layers"][0]["direction"] = "sideways"; }),
               Errc::bad_metadata, "unknown direction");
  expect_error(test::edit_metadata(b, [](json& d) { d["layers"][0]["peepholes"] = 1; }),
               Errc::bad_metadata, "true or false");
}

TEST_CASE("malformed: dense head not last") {
  const Bytes b = valid_image();
  expect_error(test::edit_metadata(b, [](json& d) {
                 json head = d["layers"].back();
                 d["layers"].insert(d["layers"].begin(), head);
               }),
               Errc::bad_metadata, "must be last");
}

TEST_CASE("malformed: negative, zero and huge dims") {
  const Bytes b = valid_image();
  expect_error(test::edit_metadata(b, [](json& d) { d["tensors"][0]["shape"][0] = -28; }),
               Errc::bad_tensor, "not a positive integer");
  expect_error(test::edit_metadata(b, [](json& d) { d["tensors"][0]["shape"][0] = 0; }),
               Errc::bad_tensor, "not a positive integer");
  expect_error(test::edit_metadata(b, [](json& d) { d["layers"][0]["hidden_size"] = -7; }),
               Errc::invalid_model, "hidden_size is -7");
  expect_error(test::edit_metadata(b, [](json& d) { d["layers"][0]["hidden_size"] = int64_t{1} << 40; }),
               Errc::invalid_model, "hidden_size is 1099511627776");
}

TEST_CASE("malformed: dims whose product overflows 64 bits") {
  const Bytes b = valid_image();
  expect_error(test::edit_metadata(b, [](json& d) {
                 d["tensors"][0]["shape"] = {int64_t{1} << 32, int64_t{1} << 32};
               }),
               Errc::bad_tensor, "overflows 64 bits");
  expect_error(test::edit_metadata(b, [](json& d) {
                 d["tensors"][0]["shape"] = {int64_t{1} << 31, int64_t{1} << 31};  // x4 bytes overflows
               }),
               Errc::bad_tensor, "overflows 64 bits");
}

TEST_CASE("malformed: size disagrees with shape, and wrong dtype") {
  const Bytes b = valid_image();
  expect_error(test::edit_metadata(b, [](json& d) { d["tensors"][0]["size"] = 12; }),
               Errc::bad_tensor, "but its shape needs");
  expect_error(test::edit_metadata(b, [](json& d) { d["tensors"][0]["dtype"] = "f16"; }),
               Errc::bad_tensor, "dtype 'f16'");
}

TEST_CASE("malformed: misaligned, overlapping, holed and out-of-file tensors") {
  const Bytes b = valid_image();
  expect_error(test::edit_metadata(b, [](json& d) { d["tensors"][1]["offset"] = 4; }),
               Errc::bad_tensor, "not 64-byte aligned");
  expect_error(test::edit_metadata(b, [](json& d) { d["tensors"][1]["offset"] = 0; }),
               Errc::bad_tensor, "overlaps");
  expect_error(test::edit_metadata(b, [](json& d) {
                 d["tensors"][1]["offset"] = d["tensors"][1]["offset"].get<int64_t>() + 64;
               }),
               Errc::bad_tensor, "hole");
  // The last tensor made larger than the data section (its shape and size agree).
  expect_error(test::edit_metadata(b, [](json& d) {
                 json& t = d["tensors"].back();
                 t["shape"] = {4096};
                 t["size"] = 4096 * 4;
               }),
               Errc::bad_tensor, "but the file has");
}

TEST_CASE("malformed: duplicate, missing and unused tensors") {
  const Bytes b = valid_image();
  expect_error(test::edit_metadata(b, [](json& d) { d["tensors"][1]["name"] = d["tensors"][0]["name"]; }),
               Errc::bad_tensor, "listed twice");
  expect_error(test::edit_metadata(b, [](json& d) { d["tensors"][0]["name"] = "layers.0.forward.X"; }),
               Errc::invalid_model, "need tensor 'layers.0.forward.W', which the file lacks");
  // The head removed from the layers leaves its tensors unused.
  expect_error(test::edit_metadata(b, [](json& d) { d["layers"].erase(d["layers"].size() - 1); }),
               Errc::bad_tensor, "not used by any layer");
}

TEST_CASE("malformed: tensor shape does not match the layer") {
  const Bytes b = valid_image();  // lstm I=5 H=7: W is (28, 5)
  expect_error(test::edit_metadata(b, [](json& d) { d["tensors"][0]["shape"] = {5, 28}; }),
               Errc::invalid_model, "forward W has shape (5, 28), expected (28, 5)");
  expect_error(test::edit_metadata(b, [](json& d) { d["tensors"][0]["shape"] = {140}; }),
               Errc::invalid_model, "expected (28, 5)");
}

TEST_CASE("malformed: layer sizes that do not chain") {
  test::SpecOptions o;
  o.num_layers = 2;
  const Bytes b = valid_image(o);
  expect_error(test::edit_metadata(b, [](json& d) { d["layers"][1]["input_size"] = 9; }),
               Errc::invalid_model, "previous layer outputs 7");
  expect_error(test::edit_metadata(b, [](json& d) { d["layers"][2]["input_size"] = 8; }),
               Errc::invalid_model, "dense head input_size is 8");
}

TEST_CASE("malformed: options that do not fit the cell") {
  const Bytes b = valid_image();
  expect_error(test::edit_metadata(b, [](json& d) { d["layers"][0]["linear_before_reset"] = true; }),
               Errc::invalid_model, "linear_before_reset needs a gru");
  expect_error(test::edit_metadata(b, [](json& d) {
                 d["layers"][0]["activations"] = {{{"name", "Swish"}}, {{"name", "Tanh"}}, {{"name", "Tanh"}}};
               }),
               Errc::invalid_model, "unknown activation 'Swish'");
  expect_error(test::edit_metadata(b, [](json& d) { d["layers"][0]["activations"] = {{{"name", "Tanh"}}}; }),
               Errc::invalid_model, "1 activations, expected 3");
  expect_error(test::edit_metadata(b, [](json& d) { d["layers"][0]["clip"] = -1.0; }),
               Errc::invalid_model, "clip");
  expect_error(test::edit_metadata(b, [](json& d) { d["layers"][0]["clip"] = 1e300; }),
               Errc::bad_metadata, "not a finite float");
}

TEST_CASE("malformed: NaN and Inf weights") {
  Bytes b = valid_image();
  const layout::Header h = test::header_of(b);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(b.data() + h.data_offset + 8, &nan, 4);
  test::reseal(b);
  expect_error(b, Errc::non_finite, "tensor 'layers.0.forward.W' has a non-finite value at flat index 2");
  const float inf = std::numeric_limits<float>::infinity();
  std::memcpy(b.data() + h.data_offset + 8, &inf, 4);
  test::reseal(b);
  expect_error(b, Errc::non_finite, "non-finite");
  ReadOptions allow;
  allow.check_finite = false;
  CHECK(parse_model(b.data(), b.size(), "m", allow).ok());
}

TEST_CASE("malformed: non-zero padding") {
  Bytes b = valid_image();  // the first tensor (28x5 floats = 560 bytes) is followed by padding
  const layout::Header h = test::header_of(b);
  b[h.data_offset + 570] = 1;
  test::reseal(b);
  expect_error(b, Errc::bad_tensor, "is not zero");
}

TEST_CASE("every single-byte truncation of a valid file fails cleanly") {
  const Bytes b = valid_image();
  for (size_t n = 0; n < b.size(); n += 7) {
    const Status s = parse(Bytes(b.begin(), b.begin() + static_cast<long>(n)));
    CHECK_MESSAGE(s.code() == Errc::truncated, n, ": ", s.to_string());
  }
}
