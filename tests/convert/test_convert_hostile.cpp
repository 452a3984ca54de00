// Hostile and malformed sources (tests/fixtures/convert_hostile/, made by
// scripts/fixtures/make_convert_fixtures.py hostile): each is refused with its specific Errc and
// a message naming what is wrong, and `recur convert` exits non-zero leaving no output file
// (and no temporary file) behind, nor touching an existing one. FIFOs (made here: git keeps
// none) are refused without blocking.
#include <doctest/doctest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

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
    {"pt_pickled_module.pt", Errc::unsupported, "'__main__.Net' is not allowed"},
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
    {"onnx_nonzero_initial_h.onnx", Errc::unsupported, "initial_h 'h0'"},
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
    // The converters' limits (make_convert_fixtures.py hostile-limits). PyTorch: a view of a
    // shared storage past the bytes another view loaded (a heap over-read before), inflation.
    {"pt_shared_storage_larger.pt", Errc::bad_tensor, "needs 4000000 bytes of storage '0', which holds 8"},
    {"pt_shared_storage_wider.pt", Errc::bad_tensor, "needs 16 bytes of storage '0', which holds 8"},
    {"pt_storage_inflates.pt", Errc::bad_tensor, "holds 67108864 bytes, more than its 2 x 4"},
    {"pt_pickle_object_flood.pt", Errc::bad_metadata, "builds more than 4352 objects"},
    {"pt_pickle_inflates.pt", Errc::unsupported, "entry 'archive/data.pkl' is too large"},
    {"pt_frame_too_long.pt", Errc::bad_metadata, "FRAME of 1099511627776 bytes runs past the end"},
    {"pt_broadcast_stride.pt", Errc::bad_tensor, "stride 0 in dimension 0 (a broadcast view)"},
    // safetensors: every data byte belongs to a tensor; the header is small and shallow.
    {"st_trailing_bytes.safetensors", Errc::bad_tensor, "1000 trailing data bytes"},
    {"st_hole.safetensors", Errc::bad_tensor, "data bytes [0, 64) belong to no tensor"},
    {"st_deep_nesting.safetensors", Errc::bad_metadata, "nests deeper than 3 levels"},
    {"st_header_above_cap.safetensors", Errc::bad_header, "above the 16 MiB cap"},
    // ONNX: sizes and numbers from the file, checked; external data only from regular files.
    {"onnx_hidden_size_negative.onnx", Errc::invalid_model, "hidden_size -8 is missing or not positive"},
    {"onnx_hidden_size_huge.onnx", Errc::invalid_model, "hidden_size 4611686018427387904 is too large"},
    {"onnx_opset_huge.onnx", Errc::unsupported, "opset 1099511627776 is outside 7..30"},
    {"onnx_external_offset_suffix.onnx", Errc::bad_tensor, "offset '12abc' is not a decimal number"},
    {"onnx_external_directory.onnx", Errc::io, "is a directory; only regular files are read"},
    {"onnx_external_nul.onnx", Errc::bad_tensor, "'w.bin\\x00/../../etc/passwd' holds a NUL byte"},
    // HDF5 (.h5 and the .keras zip's weights): nothing outside the file is read.
    {"h5_external_storage.h5", Errc::unsupported, "keeps its data in external files"},
    {"keras_external_storage.keras", Errc::unsupported, "keeps its data in external files"},
    {"h5_external_link.h5", Errc::unsupported, "is an external or soft link"},
    {"h5_virtual_dataset.h5", Errc::unsupported, "is a virtual dataset"},
    {"keras_userblock.keras", Errc::unsupported, "512-byte user block"},
    {"h5_fill_value_only.h5", Errc::truncated, "stores 0 bytes (compressed)"},
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

TEST_CASE("convert: an empty tensor inside another's byte range is no overlap") {
  // st_lstm_batch_first_f16 plus an empty int64 tensor whose offsets lie inside another's bytes.
  convert::ConvertOptions options;
  options.arch.batch_first = true;
  auto r = convert::convert_file(kHostileFixtures + "/st_empty_tensor_inside.safetensors", options);
  CHECK_MESSAGE(r.ok(), r.status().to_string());
}

namespace {
std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
}  // namespace

TEST_CASE("convert: a failed convert leaves an existing destination exactly as it was") {
  const std::string out_dir = temp_dir();
  const std::string out = out_dir + "/m.recur";
  const std::string before = "an existing model the user keeps\n";
  std::ofstream(out, std::ios::binary) << before;
  const std::string cli = std::string("'") + RECUR_CLI_PATH + "' convert '" + kConvertFixtures + "/pt_lstm_1l/model.pt' -o '" +
                          out + "' --time-major";
  // A self-check that cannot pass (zero tolerance against an fp64 reference), then an import error.
  CHECK(std::system((cli + " --check-atol 0 --check-rtol 0 >/dev/null 2>&1").c_str()) != 0);
  CHECK(slurp(out) == before);
  CHECK(std::system((cli + " --arch rnn >/dev/null 2>&1").c_str()) != 0);
  CHECK(slurp(out) == before);
  CHECK(dir_entries(out_dir) == 1);  // no staged file left
  // And a passing convert replaces it.
  CHECK(std::system((cli + " >/dev/null 2>&1").c_str()) == 0);
  CHECK(slurp(out) != before);
  std::remove(out.c_str());
  rmdir(out_dir.c_str());
}

TEST_CASE("convert: a FIFO as the source or as ONNX external data is refused, without blocking") {
  const std::string dir = temp_dir();
  const std::string model = dir + "/m.onnx", fifo = dir + "/real_fifo";
  std::ofstream(model, std::ios::binary) << slurp(kHostileFixtures + "/onnx_external_fifo.onnx");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  const std::string cli = std::string("timeout 60 '") + RECUR_CLI_PATH + "' convert ";
  // Directly, and behind a symlink (what the importer opens is checked, not the name).
  for (const char* how : {"fifo", "symlink"}) {
    CAPTURE(how);
    const std::string ext = dir + "/fifo.bin";
    std::remove(ext.c_str());
    if (std::string(how) == "fifo") REQUIRE(mkfifo(ext.c_str(), 0600) == 0);
    else REQUIRE(symlink(fifo.c_str(), ext.c_str()) == 0);
    auto r = convert::convert_file(model);
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(r.status().message().find("is a FIFO; only regular files are read") != std::string::npos,
                  r.status().to_string());
    const int rc = std::system((cli + "'" + model + "' -o '" + dir + "/out.recur' >/dev/null 2>&1").c_str());
    CHECK(WEXITSTATUS(rc) == 1);  // refused, not killed by timeout (124)
    std::remove(ext.c_str());
  }
  // The source itself.
  for (const char* name : {"/x.pt", "/x.h5", "/x.onnx", "/x.safetensors"}) {
    const std::string src = dir + name;
    REQUIRE(mkfifo(src.c_str(), 0600) == 0);
    auto r = convert::convert_file(src);
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(r.status().message().find("is a FIFO") != std::string::npos, r.status().to_string());
    const int rc = std::system((cli + "'" + src + "' -o '" + dir + "/out.recur' >/dev/null 2>&1").c_str());
    CHECK(WEXITSTATUS(rc) == 1);
    std::remove(src.c_str());
  }
  std::remove(fifo.c_str());
  std::remove(model.c_str());
  CHECK(dir_entries(dir) == 0);
  rmdir(dir.c_str());
}

}  // namespace recur::test
