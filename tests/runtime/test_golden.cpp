// recur::Model reproduces every golden fixture (PyTorch / onnxruntime results, made by
// scripts/fixtures/make_golden.py) on every ISA this CPU supports, with 1 and 2 threads,
// within the fp32 tolerance abs 1e-5 + rel 1e-4.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "recur/format.hpp"
#include "recur/model.hpp"
#include "tests/reference/fixture.hpp"
#include "tests/reference/golden_check.hpp"

namespace {

recur::RunInput run_input(const recur::test::GoldenCase& c) {
  recur::RunInput in;
  in.x = c.input.x.data();
  in.seq_len = c.input.seq_len;
  in.batch = c.input.batch;
  in.layout = c.input.batch_first ? recur::Layout::batch_first : recur::Layout::time_major;
  in.h0 = c.input.h0.empty() ? nullptr : c.input.h0.data();
  in.c0 = c.input.c0.empty() ? nullptr : c.input.c0.data();
  in.lengths = c.input.lengths.empty() ? nullptr : c.input.lengths.data();
  return in;
}

}  // namespace

TEST_CASE("runtime: reproduces every golden fixture on every supported ISA") {
  const auto dirs = recur::test::golden_case_dirs();
  REQUIRE(dirs.size() >= 30);
  for (recur::Isa isa : {recur::Isa::avx512, recur::Isa::avx2, recur::Isa::scalar}) {
    int passed = 0, ran = 0;
    bool supported = true;
    for (const std::string& dir : dirs) {
      auto c = recur::test::load_golden_case(dir);
      REQUIRE_MESSAGE(c.ok(), c.status().to_string());
      CAPTURE(c->name);
      const std::string isa_str = recur::isa_name(isa);
      CAPTURE(isa_str);
      recur::LoadOptions lo;
      lo.isa = isa;
      auto model = recur::Model::from_spec(c->spec, lo);
      if (!model.ok() && model.status().code() == recur::Errc::unsupported) {
        supported = false;
        break;
      }
      REQUIRE_MESSAGE(model.ok(), model.status().to_string());
      for (int threads : {1, 2}) {
        CAPTURE(threads);
        recur::RunOptions ro;
        ro.threads = threads;
        auto out = model->run(run_input(*c), ro);
        REQUIRE_MESSAGE(out.ok(), out.status().to_string());
        ++ran;
        if (recur::test::check_golden_output(*c, *out)) ++passed;
      }
    }
    if (!supported) {
      MESSAGE("ISA " << std::string(recur::isa_name(isa)) << " not supported here: skipped");
      continue;
    }
    MESSAGE("ISA " << std::string(recur::isa_name(isa)) << ": " << passed << " of " << ran
                   << " golden runs within tolerance");
  }
}

TEST_CASE("runtime: golden fixtures through a .recur file (write_model, Model::load, run)") {
  int passed = 0;
  for (const std::string& dir : recur::test::golden_case_dirs()) {
    auto c = recur::test::load_golden_case(dir);
    REQUIRE_MESSAGE(c.ok(), c.status().to_string());
    CAPTURE(c->name);
    const std::string path = std::string(RECUR_BINARY_DIR) + "/golden_" + c->name + ".recur";
    const recur::Status written = recur::write_model(c->spec, path);
    REQUIRE_MESSAGE(written.ok(), written.to_string());
    auto model = recur::Model::load(path);
    std::remove(path.c_str());
    REQUIRE_MESSAGE(model.ok(), model.status().to_string());
    auto out = model->run(run_input(*c));
    REQUIRE_MESSAGE(out.ok(), out.status().to_string());
    if (recur::test::check_golden_output(*c, *out)) ++passed;
  }
  MESSAGE(passed << " golden cases reproduced from .recur files");
}
