// Format version 2 (formats/SPEC.md §3.3-3.5, §7): the embedding layer, the final-state output
// and the default initial state round-trip, run as the spec defines them, and make a 1.x file
// (which a 1.x reader would misread) an error; user metadata round-trips in 1.1 files.
#include <doctest/doctest.h>

#include <string>

#include "formats/file_surgery.hpp"
#include "formats/layout.hpp"
#include "recur/format.hpp"
#include "recur/model.hpp"
#include "support/random_spec.hpp"

using namespace recur;
using recur::test::Bytes;
using nlohmann::json;

namespace {

ModelSpec text_model(bool initial_state, bool final_state) {
  test::SpecOptions o;
  o.input_size = 4;
  o.hidden_size = 5;
  o.num_layers = 2;
  o.seed = 21;
  ModelSpec spec = test::random_spec(o);
  std::mt19937 rng(5);
  spec.embedding = Embedding{9, 4, test::random_tensor({9, 4}, 1.0f, rng)};
  if (initial_state) {
    spec.initial_h = test::random_tensor({2, 5}, 0.8f, rng);
    spec.initial_c = test::random_tensor({2, 5}, 0.8f, rng);
  }
  if (final_state) spec.final_state = FinalStateOutput{1, 1, true};
  spec.metadata = {{"normalize.mean", "0.25"}, {"task", "tagging"}};
  return spec;
}

Bytes image(const ModelSpec& spec) {
  Result<Bytes> b = serialize_model(spec);
  REQUIRE_MESSAGE(b.ok(), b.status().to_string());
  return std::move(b).value();
}

Status parse(const Bytes& b) { return parse_model(b.data(), b.size(), "m.recur").status(); }

void expect_error(const Bytes& b, Errc code, const std::string& needle) {
  const Status s = parse(b);
  CHECK_MESSAGE(s.code() == code, s.to_string());
  CHECK_MESSAGE(s.message().find(needle) != std::string::npos, s.message(), " lacks ", needle);
}

std::vector<float> run_y(const Model& m, const RunInput& in) {
  auto out = m.run(in);
  REQUIRE_MESSAGE(out.ok(), out.status().to_string());
  return out->y;
}

}  // namespace

TEST_CASE("format v2: embedding, final state, initial state and metadata round-trip") {
  const ModelSpec spec = text_model(true, true);
  const Bytes b = image(spec);
  Result<ModelFile> back = parse_model(b.data(), b.size(), "m.recur");
  REQUIRE_MESSAGE(back.ok(), back.status().to_string());
  CHECK(back->spec == spec);
  CHECK(back->info.version_major == 2);
  CHECK(back->info.tensors.front().name == "embedding.table");
  CHECK(back->info.tensors.back().name == "initial.c");
  CHECK(serialize_model(back->spec).value() == b);

  ModelSpec plain = spec;
  plain.embedding.reset();
  plain.final_state.reset();
  plain.initial_h = Tensor{};
  plain.initial_c = Tensor{};
  const Bytes p = image(plain);
  back = parse_model(p.data(), p.size(), "m.recur");
  REQUIRE(back.ok());
  CHECK(back->info.version_major == 1);
  CHECK(back->info.version_minor == 1);
  CHECK(back->spec.metadata == spec.metadata);
}

TEST_CASE("format v2: malformed files fail with their own error") {
  const Bytes b = image(text_model(true, true));
  // What a 1.x reader would misread is refused in a file that says 1.x.
  expect_error(test::patch_header<uint16_t>(b, layout::HeaderField::version_major, 1), Errc::bad_metadata,
               "needs format version 2");
  expect_error(test::patch_header<uint16_t>(b, layout::HeaderField::version_major, 3), Errc::unsupported_version,
               "format version 3.0");
  using test::edit_metadata;
  auto with_v2 = [](Bytes x) { return test::patch_header<uint16_t>(std::move(x), layout::HeaderField::version_major, 2); };
  expect_error(with_v2(edit_metadata(b, [](json& d) { std::swap(d["layers"][0], d["layers"][1]); })),
               Errc::bad_metadata, "must be the first layer");
  expect_error(with_v2(edit_metadata(b, [](json& d) { d["layers"][0]["dim"] = 5; })), Errc::invalid_model,
               "embedding dim is 5");
  expect_error(with_v2(edit_metadata(b, [](json& d) { d["layers"][0].erase("vocab_size"); })), Errc::bad_metadata,
               "lacks key 'vocab_size'");
  expect_error(with_v2(edit_metadata(b, [](json& d) { d["layers"][3]["first_row"] = 2; })), Errc::invalid_model,
               "outside the 2 state rows");
  expect_error(with_v2(edit_metadata(b, [](json& d) { d["layers"][3]["rows"] = 2; })), Errc::invalid_model,
               "outside the 2 state rows");
  expect_error(with_v2(edit_metadata(b, [](json& d) {
                 d["layers"].push_back({{"type", "dense"}, {"input_size", 5}, {"output_size", 2}});
               })),
               Errc::bad_metadata, "follows the output layer");
  expect_error(with_v2(edit_metadata(b, [](json& d) { d["model"]["metadata"]["task"] = 7; })), Errc::bad_metadata,
               "metadata 'task' must be a string");
  expect_error(with_v2(edit_metadata(b, [](json& d) { d["model"]["metadata"] = json::array(); })),
               Errc::bad_metadata, "'metadata' must be an object");
  // The initial state tensors: present without the key, or the key without the tensor.
  expect_error(with_v2(edit_metadata(b, [](json& d) { d["model"].erase("initial_c"); })), Errc::bad_tensor,
               "'initial.c' is not used by any layer");
  auto no_c = edit_metadata(b, [](json& d) { d["tensors"].erase(d["tensors"].size() - 1); });
  expect_error(with_v2(no_c), Errc::invalid_model, "need tensor 'initial.c'");
  expect_error(with_v2(edit_metadata(b, [](json& d) { d["layers"][0]["vocab_size"] = 8; })), Errc::invalid_model,
               "embedding table has shape (9, 4), expected (8, 4)");
}

TEST_CASE("format v2: the embedding runs the stack on the table rows, ids out of range are named") {
  ModelSpec spec = text_model(false, false);
  const Tensor table = spec.embedding->table;
  auto with_tokens = Model::from_spec(spec);
  REQUIRE_MESSAGE(with_tokens.ok(), with_tokens.status().to_string());
  ModelSpec floats = spec;
  floats.embedding.reset();
  auto plain = Model::from_spec(floats);
  REQUIRE(plain.ok());
  const int64_t T = 4, B = 3;
  std::vector<int64_t> ids = {0, 8, 3, 1, 1, 2, 7, 0, 5, 4, 6, 8};
  std::vector<float> x;
  for (int64_t id : ids) x.insert(x.end(), table.data.begin() + id * 4, table.data.begin() + id * 4 + 4);
  for (bool bf : {false, true}) {
    RunInput tin;
    tin.tokens = ids.data();
    tin.seq_len = T;
    tin.batch = B;
    tin.layout = bf ? Layout::batch_first : Layout::time_major;
    RunInput xin = tin;
    xin.tokens = nullptr;
    xin.x = x.data();
    CHECK(run_y(*with_tokens, tin) == run_y(*plain, xin));
  }
  RunInput in;
  in.tokens = ids.data();
  in.seq_len = T;
  in.batch = B;
  ids[7] = 9;
  auto bad = with_tokens->run(in);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Errc::invalid_argument);
  CHECK_MESSAGE(bad.status().message().find("token id 9 at (t=2, b=1)") != std::string::npos, bad.status().message());
  ids[7] = -1;
  in.layout = Layout::batch_first;
  bad = with_tokens->run(in);
  REQUIRE_FALSE(bad.ok());
  CHECK_MESSAGE(bad.status().message().find("token id -1 at (b=1, t=3)") != std::string::npos, bad.status().message());
  RunInput floats_in;
  floats_in.x = x.data();
  floats_in.seq_len = T;
  floats_in.batch = B;
  CHECK(with_tokens->run(floats_in).status().code() == Errc::invalid_argument);
  floats_in.tokens = ids.data();
  floats_in.x = nullptr;
  CHECK(plain->run(floats_in).status().code() == Errc::invalid_argument);
  CHECK(with_tokens->new_state(1).status().code() == Errc::unsupported);
}

TEST_CASE("format v2: default initial state (overridable) and final-state output") {
  ModelSpec spec = text_model(true, false);
  spec.embedding.reset();
  auto m = Model::from_spec(spec);
  REQUIRE(m.ok());
  ModelSpec zero = spec;
  zero.initial_h = Tensor{};
  zero.initial_c = Tensor{};
  auto z = Model::from_spec(zero);
  REQUIRE(z.ok());
  const int64_t T = 3, B = 2;
  std::vector<float> x = test::random_values(static_cast<size_t>(T * B * 4), 3);
  std::vector<float> h0, c0;  // the defaults repeated over the batch
  for (int64_t s = 0; s < 2; ++s) {
    for (int64_t b = 0; b < B; ++b) {
      h0.insert(h0.end(), spec.initial_h.data.begin() + s * 5, spec.initial_h.data.begin() + s * 5 + 5);
      c0.insert(c0.end(), spec.initial_c.data.begin() + s * 5, spec.initial_c.data.begin() + s * 5 + 5);
    }
  }
  RunInput in;
  in.x = x.data();
  in.seq_len = T;
  in.batch = B;
  RunInput given = in;
  given.h0 = h0.data();
  given.c0 = c0.data();
  const std::vector<float> y = run_y(*m, in);
  CHECK(y == run_y(*z, given));
  CHECK(y != run_y(*z, in));
  std::vector<float> other(h0.size(), 0.5f);
  given.h0 = other.data();
  given.c0 = other.data();
  CHECK(run_y(*m, given) == run_y(*z, given));  // the caller's state wins
  // step starts from the default too
  auto st = m->new_state(B);
  REQUIRE(st.ok());
  std::vector<float> ystep(static_cast<size_t>(B * m->output_size()));
  for (int64_t t = 0; t < T; ++t) REQUIRE(m->step(*st, x.data() + t * B * 4, ystep.data()).ok());
  CHECK(std::equal(ystep.begin(), ystep.end(), y.end() - B * m->output_size()));

  ModelSpec fin = spec;
  fin.final_state = FinalStateOutput{0, 2, false};
  auto f = Model::from_spec(fin);
  REQUIRE(f.ok());
  auto out = f->run(in);
  REQUIRE(out.ok());
  CHECK(out->y_shape == std::vector<int64_t>{2, B, 5});
  CHECK(out->y == out->h_n);
  fin.final_state = FinalStateOutput{1, 1, true};
  f = Model::from_spec(fin);
  REQUIRE(f.ok());
  out = f->run(in);
  REQUIRE(out.ok());
  CHECK(out->y_shape == std::vector<int64_t>{B, 5});
  CHECK(std::equal(out->y.begin(), out->y.end(), out->h_n.begin() + B * 5));
  CHECK(f->new_state(1).status().code() == Errc::unsupported);
  fin.head = spec.head;
  fin.head.emplace(DenseHead{5, 2, false, false, make_tensor({2, 5}, 0.1f), make_tensor({2})});
  CHECK(validate(fin).code() == Errc::invalid_model);
}
