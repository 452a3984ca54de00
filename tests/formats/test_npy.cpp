// .npy reader/writer and CSV helpers: round trips, every supported dtype and header version,
// and malformed files, each with the error code it must produce and the file named in it.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <unistd.h>

#include "formats/csv.hpp"
#include "formats/npy.hpp"

namespace {

using recur::Errc;

// A .npy image from a header dict text and raw data bytes; pads the header like numpy does.
std::vector<uint8_t> make_npy(const std::string& dict, const std::vector<uint8_t>& payload,
                              int major = 1, bool pad = true, bool newline = true) {
  const size_t prelude = major == 1 ? 10 : 12;
  std::string h = dict;
  if (pad) {
    while ((prelude + h.size() + 1) % 64 != 0) h.push_back(' ');
  }
  if (newline) h.push_back('\n');
  std::vector<uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  const uint32_t len = static_cast<uint32_t>(h.size());
  b.push_back(len & 0xFF);
  b.push_back((len >> 8) & 0xFF);
  if (major != 1) {
    b.push_back((len >> 16) & 0xFF);
    b.push_back((len >> 24) & 0xFF);
  }
  b.insert(b.end(), h.begin(), h.end());
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

template <class T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::string dict_for(const std::string& descr, const std::string& shape, const char* fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
}

recur::Result<recur::npy::Array> parse(const std::vector<uint8_t>& b) {
  return recur::npy::parse(b.data(), b.size(), "case.npy");
}

void expect_error(const std::vector<uint8_t>& b, Errc code) {
  auto r = parse(b);
  REQUIRE_FALSE(r.ok());
  CHECK_MESSAGE(r.status().code() == code, r.status().to_string());
  CHECK_MESSAGE(r.status().message().find("case.npy") != std::string::npos, r.status().to_string());
}

std::string temp_path(const std::string& leaf) {
  return std::string(RECUR_BINARY_DIR) + "/npy_test_" + std::to_string(::getpid()) + "_" + leaf;
}

}  // namespace

TEST_CASE("npy: write_f32 then read round-trips every shape") {
  const std::vector<std::vector<int64_t>> shapes = {{}, {0}, {5}, {2, 3}, {3, 1, 4}, {2, 0, 3}, {1, 7, 17}};
  for (const auto& shape : shapes) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<float> data(static_cast<size_t>(n));
    for (size_t i = 0; i < data.size(); ++i) data[i] = 0.25f * static_cast<float>(i) - 3.0f;
    const std::string path = temp_path("rt.npy");
    REQUIRE(recur::npy::write_f32(path, shape, data).ok());
    auto r = recur::npy::read(path);
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    CHECK(r->shape == shape);
    CHECK_FALSE(r->integer);
    CHECK(r->descr == "<f4");
    CHECK(r->f32 == data);
    std::remove(path.c_str());
  }
}

TEST_CASE("npy: the writer produces numpy's exact 1.0 header") {
  const std::vector<float> data = {1, 2, 3, 4, 5, 6};
  auto bytes = recur::npy::encode_f32({2, 3}, data.data(), data.size());
  REQUIRE(bytes.ok());
  const std::string all(bytes->begin(), bytes->end());
  CHECK(all.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
  const size_t hlen = (*bytes)[8] | ((*bytes)[9] << 8);
  CHECK((10 + hlen) % 64 == 0);
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  CHECK(all.compare(10, dict.size(), dict) == 0);
  CHECK(all[10 + hlen - 1] == '\n');
  CHECK(bytes->size() == 10 + hlen + 24);
  // Byte for byte what numpy 1.24 wrote for np.arange(6, dtype=float32).reshape(2, 3).
  const std::vector<float> arange = {0, 1, 2, 3, 4, 5};
  auto ours = recur::npy::encode_f32({2, 3}, arange.data(), arange.size());
  REQUIRE(ours.ok());
  FILE* f = std::fopen((std::string(RECUR_FIXTURES_DIR) + "/npy/arange_2x3_f4.npy").c_str(), "rb");
  REQUIRE(f != nullptr);
  std::vector<uint8_t> theirs(4096);
  theirs.resize(std::fread(theirs.data(), 1, theirs.size(), f));
  std::fclose(f);
  CHECK(*ours == theirs);
  auto one = recur::npy::encode_f32({4}, data.data(), 4);
  REQUIRE(one.ok());
  CHECK(std::string(one->begin(), one->end()).find("'shape': (4,), }") != std::string::npos);
}

TEST_CASE("npy: writer argument errors") {
  const std::vector<float> data = {1, 2, 3};
  auto r = recur::npy::encode_f32({2, 2}, data.data(), data.size());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::invalid_argument);
  r = recur::npy::encode_f32({-1, 3}, data.data(), data.size());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::invalid_argument);
  const recur::Status s = recur::npy::write_f32(temp_path("missing_dir/x.npy"), {3}, data);
  CHECK(s.code() == Errc::io);
  CHECK(s.message().find("x.npy") != std::string::npos);
}

TEST_CASE("npy: every supported dtype and header version") {
  SUBCASE("<f8 narrowed to float") {
    auto r = parse(make_npy(dict_for("<f8", "(3,)"), bytes_of(std::vector<double>{0.5, -2.0, 1e30})));
    REQUIRE(r.ok());
    CHECK(r->f32 == std::vector<float>{0.5f, -2.0f, 1e30f});
  }
  SUBCASE("<i4 widened") {
    auto r = parse(make_npy(dict_for("<i4", "(2, 2)"), bytes_of(std::vector<int32_t>{1, -2, 3, 2147483647})));
    REQUIRE(r.ok());
    CHECK(r->integer);
    CHECK(r->i64 == std::vector<int64_t>{1, -2, 3, 2147483647});
  }
  SUBCASE("<i8") {
    auto r = parse(make_npy(dict_for("<i8", "(2,)"), bytes_of(std::vector<int64_t>{-5, int64_t{1} << 40})));
    REQUIRE(r.ok());
    CHECK(r->i64 == std::vector<int64_t>{-5, int64_t{1} << 40});
  }
  SUBCASE("|u1 and |b1") {
    auto u = parse(make_npy(dict_for("|u1", "(3,)"), {0, 200, 255}));
    REQUIRE(u.ok());
    CHECK(u->i64 == std::vector<int64_t>{0, 200, 255});
    auto b = parse(make_npy(dict_for("|b1", "(3,)"), {1, 0, 1}));
    REQUIRE(b.ok());
    CHECK(b->i64 == std::vector<int64_t>{1, 0, 1});
  }
  SUBCASE("version 2.0 and 3.0 headers, double quotes, no trailing comma, no padding") {
    auto v2 = parse(make_npy(dict_for("<f4", "(1,)"), bytes_of(std::vector<float>{7.0f}), 2));
    REQUIRE(v2.ok());
    CHECK(v2->f32 == std::vector<float>{7.0f});
    auto v3 = parse(make_npy("{\"descr\": \"<f4\", \"shape\": (2,), \"fortran_order\": False}",
                             bytes_of(std::vector<float>{1.0f, 2.0f}), 3, /*pad=*/false));
    REQUIRE_MESSAGE(v3.ok(), v3.status().to_string());
    CHECK(v3->shape == std::vector<int64_t>{2});
  }
  SUBCASE("0-d array holds one value; empty array holds none") {
    auto s = parse(make_npy(dict_for("<f4", "()"), bytes_of(std::vector<float>{3.5f})));
    REQUIRE(s.ok());
    CHECK(s->shape.empty());
    CHECK(s->numel() == 1);
    auto e = parse(make_npy(dict_for("<f4", "(0, 5)"), {}));
    REQUIRE(e.ok());
    CHECK(e->numel() == 0);
  }
}

TEST_CASE("npy: numpy-written files (tests/fixtures/npy) parse to their documented contents") {
  const std::string dir = std::string(RECUR_FIXTURES_DIR) + "/npy/";
  // Written by scripts/fixtures/make_golden.py with numpy; values are arange-based.
  auto f4 = recur::npy::read(dir + "arange_2x3_f4.npy");
  REQUIRE_MESSAGE(f4.ok(), f4.status().to_string());
  CHECK(f4->shape == std::vector<int64_t>{2, 3});
  CHECK(f4->f32 == std::vector<float>{0, 1, 2, 3, 4, 5});
  auto f8 = recur::npy::read(dir + "arange_4_f8_v2.npy");
  REQUIRE_MESSAGE(f8.ok(), f8.status().to_string());
  CHECK(f8->f32 == std::vector<float>{0, 0.5f, 1, 1.5f});
  auto i4 = recur::npy::read(dir + "lengths_3_i4.npy");
  REQUIRE_MESSAGE(i4.ok(), i4.status().to_string());
  CHECK(i4->i64 == std::vector<int64_t>{3, 1, 2});
  auto i8 = recur::npy::read(dir + "lengths_3_i8_v3.npy");
  REQUIRE_MESSAGE(i8.ok(), i8.status().to_string());
  CHECK(i8->i64 == std::vector<int64_t>{3, 1, 2});
  auto b1 = recur::npy::read(dir + "mask_4_b1.npy");
  REQUIRE_MESSAGE(b1.ok(), b1.status().to_string());
  CHECK(b1->i64 == std::vector<int64_t>{1, 0, 0, 1});
  auto fortran = recur::npy::read(dir + "fortran_2x3_f4.npy");
  REQUIRE_FALSE(fortran.ok());
  CHECK(fortran.status().code() == Errc::unsupported);
  auto big = recur::npy::read(dir + "bigendian_3_f4.npy");
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().code() == Errc::unsupported);
}

TEST_CASE("npy: malformed files give specific errors naming the file") {
  const std::vector<uint8_t> six_floats = bytes_of(std::vector<float>(6, 1.0f));
  SUBCASE("not npy") { expect_error({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0}, Errc::bad_magic); }
  SUBCASE("empty file") { expect_error({}, Errc::truncated); }
  SUBCASE("ends inside the magic") { expect_error({0x93, 'N', 'U'}, Errc::truncated); }
  SUBCASE("ends before the header length") { expect_error({0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 5}, Errc::truncated); }
  SUBCASE("version 4.0") { expect_error(make_npy(dict_for("<f4", "(6,)"), six_floats, 4), Errc::unsupported); }
  SUBCASE("version 1.1") {
    auto b = make_npy(dict_for("<f4", "(6,)"), six_floats);
    b[7] = 1;
    expect_error(b, Errc::unsupported);
  }
  SUBCASE("header length past the end") {
    auto b = make_npy(dict_for("<f4", "(6,)"), {});
    b[9] = 0x7F;
    expect_error(b, Errc::truncated);
  }
  SUBCASE("header without newline") {
    expect_error(make_npy(dict_for("<f4", "(6,)"), six_floats, 1, false, false), Errc::bad_metadata);
  }
  SUBCASE("header not a dict") { expect_error(make_npy("[1, 2]", six_floats), Errc::bad_metadata); }
  SUBCASE("missing shape") {
    expect_error(make_npy("{'descr': '<f4', 'fortran_order': False}", six_floats), Errc::bad_metadata);
  }
  SUBCASE("unknown key") {
    expect_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", six_floats),
                 Errc::bad_metadata);
  }
  SUBCASE("duplicate key") {
    expect_error(make_npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", six_floats),
                 Errc::bad_metadata);
  }
  SUBCASE("unterminated string") { expect_error(make_npy("{'descr: '<f4'", six_floats), Errc::bad_metadata); }
  SUBCASE("text after the dict") { expect_error(make_npy(dict_for("<f4", "(6,)") + " 7", six_floats), Errc::bad_metadata); }
  SUBCASE("fortran order") {
    expect_error(make_npy(dict_for("<f4", "(2, 3)", "True"), six_floats), Errc::unsupported);
  }
  SUBCASE("fortran_order not a bool") {
    expect_error(make_npy(dict_for("<f4", "(2, 3)", "0"), six_floats), Errc::bad_metadata);
  }
  SUBCASE("big-endian") { expect_error(make_npy(dict_for(">f4", "(6,)"), six_floats), Errc::unsupported); }
  SUBCASE("float16") { expect_error(make_npy(dict_for("<f2", "(12,)"), six_floats), Errc::unsupported); }
  SUBCASE("structured dtype") {
    expect_error(make_npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,)}", six_floats),
                 Errc::unsupported);
  }
  SUBCASE("shape (6) is not a tuple") { expect_error(make_npy(dict_for("<f4", "(6)"), six_floats), Errc::bad_metadata); }
  SUBCASE("negative dimension") { expect_error(make_npy(dict_for("<f4", "(-6,)"), six_floats), Errc::bad_metadata); }
  SUBCASE("dimension overflows int64") {
    expect_error(make_npy(dict_for("<f4", "(99999999999999999999,)"), six_floats), Errc::bad_metadata);
  }
  SUBCASE("shape product overflows") {
    expect_error(make_npy(dict_for("<f4", "(4294967296, 4294967296)"), six_floats), Errc::bad_metadata);
  }
  SUBCASE("byte size overflows") {
    expect_error(make_npy(dict_for("<f8", "(2305843009213693952,)"), six_floats), Errc::bad_metadata);
  }
  SUBCASE("data shorter than the shape") {
    expect_error(make_npy(dict_for("<f4", "(7,)"), six_floats), Errc::truncated);
  }
  SUBCASE("data longer than the shape") {
    expect_error(make_npy(dict_for("<f4", "(5,)"), six_floats), Errc::bad_metadata);
  }
  SUBCASE("boolean byte neither 0 nor 1") { expect_error(make_npy(dict_for("|b1", "(2,)"), {1, 2}), Errc::bad_metadata); }
  SUBCASE("NUL inside the header") {
    std::string d = dict_for("<f4", "(6,)");
    d[3] = '\0';
    expect_error(make_npy(d, six_floats), Errc::bad_metadata);
  }
}

TEST_CASE("npy: reading a missing file is an io error naming it") {
  auto r = recur::npy::read(temp_path("does_not_exist.npy"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::io);
  CHECK(r.status().message().find("does_not_exist.npy") != std::string::npos);
}

TEST_CASE("csv: round trip with header, and malformed text") {
  recur::csv::Matrix m;
  m.rows = 3;
  m.cols = 2;
  m.data = {0.1f, -2.5f, 3.0f, 1e-7f, 123456.789f, -0.0f};
  m.header = {"a", "b"};
  const std::string path = temp_path("m.csv");
  REQUIRE(recur::csv::write(path, m).ok());
  auto r = recur::csv::read(path);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  CHECK(r->rows == 3);
  CHECK(r->cols == 2);
  CHECK(r->data == m.data);
  CHECK(r->header == m.header);
  std::remove(path.c_str());

  auto no_header = recur::csv::parse("1,2\n3,4\n\n", "x.csv");
  REQUIRE(no_header.ok());
  CHECK(no_header->header.empty());
  CHECK(no_header->rows == 2);

  auto ragged = recur::csv::parse("1,2\n3\n", "x.csv");
  REQUIRE_FALSE(ragged.ok());
  CHECK(ragged.status().code() == Errc::bad_metadata);
  CHECK(ragged.status().message().find("x.csv: line 2") != std::string::npos);
  auto word = recur::csv::parse("a,b\n1,2\n3,oops\n", "x.csv");
  REQUIRE_FALSE(word.ok());
  CHECK(word.status().message().find("line 3 column 2") != std::string::npos);
  // The header made explicit: absent = every line is data, present = the first line is names.
  using recur::csv::Header;
  auto undeclared = recur::csv::parse("a,b\n1,2\n", "x.csv", Header::absent);
  REQUIRE_FALSE(undeclared.ok());
  CHECK(undeclared.status().code() == Errc::bad_metadata);
  CHECK(undeclared.status().message().find("x.csv: line 1 column 1: 'a' is not a number") != std::string::npos);
  CHECK(undeclared.status().message().find("--header") != std::string::npos);
  auto declared = recur::csv::parse("\na,b\n1,2\n", "x.csv", Header::present);
  REQUIRE(declared.ok());
  CHECK(declared->header == std::vector<std::string>{"a", "b"});
  CHECK(declared->rows == 1);
  auto numeric_header = recur::csv::parse("1,2\n3,4\n", "x.csv", Header::present);  // as declared
  REQUIRE(numeric_header.ok());
  CHECK(numeric_header->rows == 1);
  CHECK(numeric_header->data == std::vector<float>{3, 4});
  auto all_data = recur::csv::parse("1,2\n3,4\n", "x.csv", Header::absent);
  REQUIRE(all_data.ok());
  CHECK(all_data->rows == 2);
  auto empty = recur::csv::parse("a,b\n", "x.csv");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().code() == Errc::bad_metadata);
  m.data.pop_back();
  CHECK(recur::csv::write(path, m).code() == Errc::invalid_argument);
}
