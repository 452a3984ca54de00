// Hostile and malformed sources (tests/fixtures/convert_hostile/, made by
// scripts/fixtures/make_convert_fixtures.py hostile): each is refused with its specific Errc and
// a message naming what is wrong, and `recur convert` exits non-zero leaving no output file
// (and no temporary file) behind.
#include <doctest/doctest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "convert/convert_helpers.hpp"

namespace recur::test {
namespace {

struct HostileCase {
  const char* file;
  Errc code;
  const char* message;  // a substring the error must contain
};

const HostileCase kCases[] = {
    // PyTorch .pt: zip + restricted unpickler
    {"pt_truncated.pt", Errc::truncated, "truncated or damaged"},
    {"pt_legacy_format.pt", Errc::bad_magic, "not a zip archive"},
    {"pt_global_os_system.pt", Errc::unsupported, "'os.system' is not allowed"},
    {"pt_global_builtins_eval.pt", Errc::unsupported, "'builtins.eval' is not allowed"},
    {"pt_pickled_module.pt", Errc::unsupported, "module '__main__.Net' holds no parameters"},
    {"pt_unknown_opcode.pt", Errc::bad_metadata, "opcode 0x69 is not allowed"},
    {"pt_pickle_truncated.pt", Errc::truncated, "before STOP"},
    {"pt_deep_nesting.pt", Errc::bad_metadata, "nested too deeply"},
    {"pt_no_data_pkl.pt", Errc::bad_metadata, "data.pkl"},
    {"pt_list_not_dict.pt", Errc::unsupported, "state_dict"},
    {"pt_storage_short.pt", Errc::bad_tensor, "storage '0' holds 8 bytes"},
    {"pt_storage_missing.pt", Errc::bad_tensor, "data/0"},
    // safetensors
    {"st_header_past_eof.safetensors", Errc::truncated, "runs past the end of the file"},
    {"st_bad_json.safetensors", Errc::bad_metadata, "not a JSON object"},
    {"st_overlap.safetensors", Errc::bad_tensor, "overlap"},
    {"st_offsets_outside.safetensors", Errc::bad_tensor, "outside the data section"},
    {"st_size_mismatch.safetensors", Errc::bad_tensor, "needs 48"},
    {"st_unknown_dtype.safetensors", Errc::bad_tensor, "unknown dtype 'F8_E4M3'"},
    {"st_wrong_weight_shape.safetensors", Errc::invalid_model, "weight_ih_l0"},
    {"st_nan_weight.safetensors", Errc::non_finite, "non-finite"},
    {"st_extra_tensor.safetensors", Errc::unsupported, "embed.weight"},
    // ONNX
    {"onnx_garbage.onnx", Errc::bad_metadata, "not a valid ONNX protobuf"},
    {"onnx_missing_initializer.onnx", Errc::invalid_model, "W 'W' is neither an initializer nor a Constant"},
    {"onnx_wrong_weight_shape.onnx", Errc::invalid_model, "R 'R' has shape (1, 8, 3), expected (1, 8, 2)"},
    {"onnx_external_dotdot.onnx", Errc::bad_tensor, "leaves the model's directory"},
    {"onnx_external_absolute.onnx", Errc::bad_tensor, "is absolute"},
    {"onnx_unsupported_op.onnx", Errc::unsupported, "node 'after' (Relu)"},
    {"onnx_bad_direction.onnx", Errc::unsupported, "direction 'sideways'"},
    {"onnx_unknown_activation.onnx", Errc::unsupported, "activation 'Swish'"},
    {"onnx_unknown_attribute.onnx", Errc::unsupported, "attribute 'num_layers'"},
    {"onnx_raw_data_short.onnx", Errc::bad_tensor, "holds 92 bytes"},
    {"onnx_reshape_computed_shape.onnx", Errc::unsupported, "computed by the graph"},
    // Keras
    {"keras_truncated.keras", Errc::truncated, "truncated or damaged"},
    {"keras_no_weights.keras", Errc::bad_metadata, "model.weights.h5"},
    {"keras_go_backwards.keras", Errc::unsupported, "go_backwards"},
    {"keras_unsupported_layer.keras", Errc::unsupported, "'Conv1D'"},
    {"keras_bidir_last_step.keras", Errc::unsupported, "return_sequences=False"},
    {"keras_config_wrong_types.keras", Errc::bad_metadata, "malformed source"},
    {"h5_wrong_kernel_shape.h5", Errc::invalid_model, "kernel has shape (6, 28), expected (5, 28)"},
    {"h5_no_model_config.h5", Errc::bad_metadata, "model_config"},
    // Found by fuzz_convert_keras (also in its corpus): a use-after-free and a 4 GiB libhdf5 buffer before.
    {"keras_backward_layer_without_config.keras", Errc::bad_metadata, "backward_layer without a config"},
    {"keras_huge_float_type.keras", Errc::bad_tensor, "-byte float type (expected 2, 4 or 8)"},
};

std::string temp_dir() {
  char tmpl[] = "/tmp/recur_convert_hostile_XXXXXX";
  char* d = mkdtemp(tmpl);
  REQUIRE(d != nullptr);
  return d;
}

size_t dir_entries(const std::string& dir) {
  size_t n = 0;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
  }
  return n;
}

}  // namespace

TEST_CASE("convert hostile sources: specific error, nothing written") {
  REQUIRE(sizeof(kCases) / sizeof(kCases[0]) >= 20);
  const std::string out_dir = temp_dir();
  for (const HostileCase& c : kCases) {
    SUBCASE(c.file) {
      const std::string src = kHostileFixtures + "/" + c.file;
      REQUIRE_MESSAGE(file_exists(src), src);
      auto r = convert::convert_file(src);
      REQUIRE_FALSE(r.ok());
      CHECK_MESSAGE(r.status().code() == c.code, r.status().to_string());
      CHECK_MESSAGE(r.status().message().find(c.message) != std::string::npos, r.status().to_string());

      const std::string out = out_dir + "/out.recur";
      const std::string cmd = std::string("'") + RECUR_CLI_PATH + "' convert '" + src + "' -o '" + out + "' >/dev/null 2>&1";
      int rc = std::system(cmd.c_str());
      CHECK(rc != 0);
      CHECK_FALSE(file_exists(out));
      CHECK(dir_entries(out_dir) == 0);  // no temporary file left either
    }
  }
  rmdir(out_dir.c_str());
}

TEST_CASE("convert: a failed self-check or bad option leaves no file") {
  const std::string out_dir = temp_dir();
  const std::string out = out_dir + "/m.recur";
  // --arch rnn on an LSTM state_dict: a shape error, reported before anything is written.
  const std::string cmd = std::string("'") + RECUR_CLI_PATH + "' convert '" + kConvertFixtures +
                          "/pt_lstm_1l/model.pt' --arch rnn -o '" + out + "' >/dev/null 2>&1";
  CHECK(std::system(cmd.c_str()) != 0);
  CHECK_FALSE(file_exists(out));
  CHECK(dir_entries(out_dir) == 0);
  rmdir(out_dir.c_str());
}

TEST_CASE("recur convert + recur verify on a fixture") {
  const std::string out_dir = temp_dir();
  const std::string out = out_dir + "/m.recur";
  const std::string dir = kConvertFixtures + "/keras_bidir_lstm_dense";
  const std::string cli = std::string("'") + RECUR_CLI_PATH + "'";
  CHECK(std::system((cli + " convert '" + dir + "/model.keras' -o '" + out + "' >/dev/null 2>&1").c_str()) == 0);
  REQUIRE(file_exists(out));
  CHECK(std::system((cli + " verify '" + out + "' --input '" + dir + "/x.npy' --expect '" + dir + "/y.npy' >/dev/null 2>&1").c_str()) == 0);
  // Against another case's expectation: a mismatch, exit 1.
  CHECK(std::system((cli + " verify '" + out + "' --input '" + dir + "/x.npy' --expect '" + kConvertFixtures +
                     "/keras_bidir_lstm_dense/x.npy' >/dev/null 2>&1").c_str()) != 0);
  std::remove(out.c_str());
  rmdir(out_dir.c_str());
}

}  // namespace recur::test
