// Model::config(): what a loaded model reports is its spec's attributes and parameter count,
// the same after from_spec and after load, with no weights kept beside the packed ones.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "recur/format.hpp"
#include "recur/model.hpp"
#include "support/random_spec.hpp"

using namespace recur;

namespace {

void check_config(const ModelConfig& c, const ModelSpec& spec) {
  CHECK(c.name == spec.name);
  CHECK(c.producer == spec.producer);
  CHECK(c.batch_first == spec.batch_first);
  CHECK(c.parameter_count == spec.parameter_count());
  CHECK(c.parameter_count > 0);
  CHECK(c.input_size() == spec.input_size());
  CHECK(c.output_size() == spec.output_size());
  REQUIRE(c.layers.size() == spec.layers.size());
  for (size_t l = 0; l < c.layers.size(); ++l) {
    CHECK(c.layers[l] == static_cast<const LayerConfig&>(spec.layers[l]));
  }
  REQUIRE(c.head.has_value() == spec.head.has_value());
  if (c.head) CHECK(*c.head == static_cast<const HeadConfig&>(*spec.head));
}

}  // namespace

TEST_CASE("Model::config reports the spec's attributes and parameter count") {
  test::SpecOptions o;
  o.cell = CellType::lstm;
  o.num_layers = 2;
  o.proj_size = 3;
  o.peepholes = true;
  o.head_size = 4;
  o.head_last_step_only = true;
  const ModelSpec spec = test::random_spec(o);
  Result<Model> m = Model::from_spec(spec);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  check_config(m->config(), spec);

  const std::string path = std::string(RECUR_BINARY_DIR) + "/model_config_test.recur";
  REQUIRE(write_model(spec, path).ok());
  Result<Model> loaded = Model::load(path);
  std::remove(path.c_str());
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
  check_config(loaded->config(), spec);

  CHECK(Model().config().layers.empty());  // an empty Model reports an empty config
}
