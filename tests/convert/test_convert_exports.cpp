// Export patterns beyond the fixture sweep: what stays refused (by name), a constant initial
// state becoming the model's default, and user metadata from `--meta` through the file to the
// C API.
#include <doctest/doctest.h>

#include <cstdio>
#include <unistd.h>

#include "convert/convert_helpers.hpp"
#include "recur/format.hpp"
#include "recur/recur.h"

namespace recur::test {

namespace {
const std::string kRefused = std::string(RECUR_FIXTURES_DIR) + "/convert_refused";

// Writes `spec` to a temporary .recur file and loads it through the C API; the file is removed.
recur_model* load_through_c_api(const ModelSpec& spec) {
  char path[] = "/tmp/recur_exports_XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  REQUIRE(write_model(spec, path).ok());
  recur_model* m = nullptr;
  const recur_status st = recur_model_load(path, &m);
  std::remove(path);
  REQUIRE(st == RECUR_OK);
  return m;
}

void expect_refused(const std::string& path, Errc code, std::vector<std::string> needles) {
  CAPTURE(path);
  auto r = convert::convert_file(path);
  REQUIRE_FALSE(r.ok());
  CHECK_MESSAGE(r.status().code() == code, r.status().to_string());
  for (const auto& n : needles) CHECK_MESSAGE(r.status().message().find(n) != std::string::npos, r.status().message());
}
}  // namespace

TEST_CASE("convert exports: refused sources name the node, its op and the reason") {
  // onnxruntime.quantization.quantize_dynamic: com.microsoft DynamicQuantizeLSTM.
  expect_refused(kRefused + "/quantized_lstm.onnx", Errc::unsupported,
                 {"(DynamicQuantizeLSTM)", "quantize_dynamic", "convert the model before quantization"});
  // pack_padded_sequence(enforce_sorted=False): the batch is sorted by a computed permutation.
  expect_refused(kRefused + "/export_lstm_packed_lengths_head/model.onnx", Errc::invalid_model,
                 {"node '/Gather_1' (Gather)", "indices"});
}

TEST_CASE("convert exports: Keras models still refused say which layer and why") {
  const char* go_backwards = "go_backwards=True outside Bidirectional";
  const char* bidir_last = "Bidirectional with return_sequences=False";
  const std::pair<const char*, const char*> cases[] = {
      {"keras_lstm_go_backwards_seq", go_backwards},       {"keras_gru_go_backwards_last_dense", go_backwards},
      {"keras_rnn_go_backwards_2l", go_backwards},         {"keras_bidir_lstm_mul", "merge_mode 'mul'"},
      {"keras_bidir_gru_last_concat", bidir_last},         {"keras_bidir_lstm_last_sum", bidir_last},
      {"keras_masking_lstm_seq_dense", "'Masking'"},       {"keras_masking_gru_2l_last", "'Masking'"},
      {"keras_embedding_mask_zero_gru_seq", "mask_zero"},  {"keras_embedding_mask_zero_lstm_last", "mask_zero"},
  };
  for (const auto& [name, needle] : cases) expect_refused(kRefused + "/" + name + "/model.keras", Errc::unsupported, {needle});
}

TEST_CASE("convert exports: whole-module archives that cannot be placed or are hostile") {
  expect_refused(kRefused + "/ptmodule_embedding.pt", Errc::unsupported, {"emb.weight"});
  expect_refused(kRefused + "/ptmodule_hidden_call.pt", Errc::unsupported, {"'os.system' is not allowed", "nothing is executed"});
  expect_refused(kRefused + "/ptmodule_truncated_pickle.pt", Errc::truncated, {"before STOP"});
  expect_refused(kRefused + "/ptmodule_build_from_list.pt", Errc::bad_metadata, {"BUILD with a non-dict state"});
}

TEST_CASE("convert exports: whole modules and TorchScript say what they took from the source") {
  for (const char* name : {"ptmodule_lstm_2l_head_last", "jit_script_gru_2l_head_last"}) {
    CAPTURE(name);
    auto conv = convert::convert_file(kConvertFixtures + "/" + name + "/model.pt", options_from_args({{"last_step", true}}));
    REQUIRE_MESSAGE(conv.ok(), conv.status().to_string());
    CHECK(conv->spec.batch_first);  // from the module's attribute / the TorchScript class's declaration
    CHECK(conv->notes.front().find("batch_first=True from the module") != std::string::npos);
  }
}

TEST_CASE("convert exports: a constant initial state becomes the model's default, h0 still overrides") {
  auto conv = convert::convert_file(kHostileFixtures + "/onnx_nonzero_initial_h.onnx");
  REQUIRE_MESSAGE(conv.ok(), conv.status().to_string());
  const ModelSpec& spec = conv->spec;
  REQUIRE(spec.initial_h.shape == std::vector<int64_t>{1, 2});
  for (float v : spec.initial_h.data) CHECK(v == 1.0f);
  CHECK(spec.initial_c.empty());
  auto model = Model::from_spec(spec);
  REQUIRE(model.ok());
  std::vector<float> x(3 * 2 * 3, 0.25f), ones(2 * 2, 1.0f), zeros(2 * 2, 0.0f);
  RunInput in;
  in.x = x.data();
  in.seq_len = 3;
  in.batch = 2;
  auto by_default = model->run(in);
  in.h0 = ones.data();
  auto given_ones = model->run(in);
  in.h0 = zeros.data();
  auto given_zeros = model->run(in);
  REQUIRE((by_default.ok() && given_ones.ok() && given_zeros.ok()));
  CHECK(by_default->y == given_ones->y);
  CHECK(by_default->y != given_zeros->y);
  auto ref = conv->reference(std::vector<double>(x.begin(), x.end()), 3, 2);
  REQUIRE(ref.ok());
  double max_abs = 0;
  CHECK(count_mismatches(*ref, by_default->y, max_abs) == 0);
}

TEST_CASE("convert exports: --meta key/values reach the file, inspect's JSON and the C API") {
  convert::ConvertOptions o;
  o.metadata = {{"normalize.mean", "0.5,1.5"}, {"units", "kW"}};
  auto conv = convert::convert_file(kConvertFixtures + "/onnx_lstm_bidir_yh_yc/model.onnx", o);
  REQUIRE_MESSAGE(conv.ok(), conv.status().to_string());
  // The source's metadata_props {units: MW, trained_on: 2026-11}, with --meta over them.
  const std::map<std::string, std::string> want = {{"normalize.mean", "0.5,1.5"}, {"trained_on", "2026-11"}, {"units", "kW"}};
  CHECK(conv->spec.metadata == want);
  recur_model* m = load_through_c_api(conv->spec);
  CHECK(recur_model_metadata_count(m) == 3);
  CHECK(std::string(recur_model_metadata_key(m, 0)) == "normalize.mean");
  CHECK(std::string(recur_model_metadata_key(m, 2)) == "units");
  CHECK(recur_model_metadata_key(m, 3) == nullptr);
  CHECK(recur_model_metadata_key(m, -1) == nullptr);
  CHECK(std::string(recur_model_metadata_value(m, "units")) == "kW");
  CHECK(recur_model_metadata_value(m, "absent") == nullptr);
  CHECK(recur_model_vocab_size(m) == 0);
  // The final-state model's y is Y_h: (D, B, H) through the C API's sizes too.
  int64_t y_count = 0;
  REQUIRE(recur_run_output_sizes(m, 5, 3, &y_count, nullptr, nullptr) == RECUR_OK);
  CHECK(y_count == 2 * 3 * 6);
  recur_model_free(m);
  auto bad_key = conv->spec;
  bad_key.metadata[""] = "x";
  CHECK(validate(bad_key).code() == Errc::invalid_model);
}

TEST_CASE("convert exports: token ids through the C API, an id out of range named") {
  auto conv = convert::convert_file(kConvertFixtures + "/onnx_embedding_int32_rnn/model.onnx");
  REQUIRE_MESSAGE(conv.ok(), conv.status().to_string());
  recur_model* m = load_through_c_api(conv->spec);
  CHECK(recur_model_vocab_size(m) == 9);
  std::vector<int64_t> ids = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};  // (B=2, T=5), the last out of range
  recur_run_input in{};
  in.tokens = ids.data();
  in.seq_len = 5;
  in.batch = 2;
  in.layout = RECUR_LAYOUT_BATCH_FIRST;
  int64_t y_count = 0;
  REQUIRE(recur_run_output_sizes(m, 5, 2, &y_count, nullptr, nullptr) == RECUR_OK);
  std::vector<float> y(static_cast<size_t>(y_count));
  CHECK(recur_run(m, &in, nullptr, y.data(), y_count, nullptr, 0, nullptr, 0) == RECUR_ERR_INVALID_ARGUMENT);
  CHECK(std::string(recur_last_error()).find("token id 9 at (b=1, t=4)") != std::string::npos);
  ids[9] = 8;
  CHECK(recur_run(m, &in, nullptr, y.data(), y_count, nullptr, 0, nullptr, 0) == RECUR_OK);
  recur_model_free(m);
}

}  // namespace recur::test
