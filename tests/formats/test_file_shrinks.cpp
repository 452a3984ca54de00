// A model file that shrinks while it is being loaded (another process truncating or rewriting
// it) must make the load fail with `truncated`, never crash the process (SIGBUS is what a
// mmap-based reader would get: formats/SPEC.md §8). The reader reads with pread and checks
// every read's length; these tests cut the file at the two points a load can be at: after the
// metadata, before any tensor byte, and in the middle of a tensor's rows.
#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "formats/tensor_sink.hpp"
#include "recur/model.hpp"
#include "support/random_spec.hpp"

using namespace recur;
namespace fs = std::filesystem;

namespace {

std::string write_big_model(const std::string& name) {
  test::SpecOptions o;
  o.input_size = 300;  // W rows of 1200 bytes: several read chunks per tensor
  o.hidden_size = 200;
  o.num_layers = 2;
  const fs::path dir = fs::path(RECUR_BINARY_DIR) / "file_shrinks";
  fs::create_directories(dir);
  const std::string path = (dir / name).string();
  const Status s = write_model(test::random_spec(o), path);
  REQUIRE_MESSAGE(s.ok(), s.to_string());
  return path;
}

// Truncates the file at `path` to `keep` bytes at the moment the reader reaches `when`.
class TruncatingSink final : public TensorSink {
 public:
  enum class When { before_data, after_first_rows };
  TruncatingSink(std::string path, When when, off_t keep) : path_(std::move(path)), when_(when), keep_(keep) {}
  Status begin(const ModelSpec&) override {
    if (when_ == When::before_data) cut();
    return {};
  }
  bool takes(const Tensor&) const override { return true; }
  void rows(const Tensor&, int64_t, int64_t, const float*) override {
    if (when_ == When::after_first_rows) cut();
  }
  bool cut_done() const { return done_; }

 private:
  void cut() {
    if (done_) return;
    REQUIRE(::truncate(path_.c_str(), keep_) == 0);
    done_ = true;
  }
  std::string path_;
  When when_;
  off_t keep_;
  bool done_ = false;
};

}  // namespace

TEST_CASE("a file truncated during the load fails with truncated, at every point of the load") {
  for (TruncatingSink::When when : {TruncatingSink::When::before_data, TruncatingSink::When::after_first_rows}) {
    for (double keep_fraction : {0.0, 0.3, 0.9}) {
      const std::string path = write_big_model("shrinks.recur");
      const auto size = static_cast<double>(fs::file_size(path));
      CAPTURE(static_cast<int>(when));
      CAPTURE(keep_fraction);
      TruncatingSink sink(path, when, static_cast<off_t>(size * keep_fraction));
      const Result<ModelFile> r = read_model(path, ReadOptions{}, sink);
      REQUIRE(sink.cut_done());
      REQUIRE_FALSE(r.ok());
      CHECK_MESSAGE(r.status().code() == Errc::truncated, r.status().to_string());
      CHECK_MESSAGE(r.status().message().find("truncated during the load") != std::string::npos,
                    r.status().to_string());
    }
  }
}

TEST_CASE("Model::load racing a writer that truncates and restores the file never crashes") {
  const std::string path = write_big_model("race.recur");
  const std::string full = path + ".full";
  fs::copy_file(path, full, fs::copy_options::overwrite_existing);
  const auto size = fs::file_size(full);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    // Alternate between a cut file and the whole one, rewriting in place (same inode).
    for (uint64_t i = 1; !stop.load(); ++i) {
      if (::truncate(path.c_str(), static_cast<off_t>(size * (i % 7) / 8)) != 0) break;
      std::error_code ec;
      fs::copy_file(full, path, fs::copy_options::overwrite_existing, ec);
      std::this_thread::sleep_for(std::chrono::microseconds(500));  // let some loads see it whole
    }
  });
  int ok = 0, failed = 0;
  for (int i = 0; i < 200; ++i) {
    const Result<Model> m = Model::load(path);
    if (m.ok()) {
      ++ok;
      continue;
    }
    ++failed;
    // A file caught mid-rewrite is cut short, has the wrong length or fails its checksum;
    // nothing else, and never a crash.
    const Errc c = m.status().code();
    CHECK_MESSAGE((c == Errc::truncated || c == Errc::bad_header || c == Errc::checksum_mismatch ||
                   c == Errc::bad_magic || c == Errc::io),
                  m.status().to_string());
  }
  stop = true;
  writer.join();
  MESSAGE("loads: " << ok << " whole, " << failed << " failed cleanly");
}
