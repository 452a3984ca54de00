// What a state_dict cannot show — the layout forward() feeds the recurrent module, and the step a
// head reads — is PyTorch's default for a bare nn.LSTM/GRU/RNN, and a required option otherwise.
#include <doctest/doctest.h>

#include <string>

#include "support/random_spec.hpp"
#include "tools/convert/state_dict.hpp"

using namespace recur;
using namespace recur::convert;

namespace {

// nn.GRU(I, H) parameters under `prefix` (random values: only names and shapes matter here).
StateDict gru_state_dict(const std::string& prefix, int64_t I, int64_t H) {
  std::mt19937 rng(7);
  StateDict sd;
  sd.push_back({prefix + "weight_ih_l0", test::random_tensor({3 * H, I}, 0.5f, rng), "float32", true});
  sd.push_back({prefix + "weight_hh_l0", test::random_tensor({3 * H, H}, 0.5f, rng), "float32", true});
  sd.push_back({prefix + "bias_ih_l0", test::random_tensor({3 * H}, 0.5f, rng), "float32", true});
  sd.push_back({prefix + "bias_hh_l0", test::random_tensor({3 * H}, 0.5f, rng), "float32", true});
  return sd;
}

bool has(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& l : lines)
    if (l.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("convert state_dict: a bare nn.GRU takes PyTorch's default layout and says so") {
  const StateDict sd = gru_state_dict("", 3, 5);
  Result<Conversion> conv = convert_state_dict(sd, "gru.pt", SourceFormat::torch, {});
  REQUIRE_MESSAGE(conv.ok(), conv.status().to_string());
  CHECK_FALSE(conv->spec.batch_first);
  CHECK(has(conv->notes, "assumed: time-major (T, B, F)"));
  CHECK(has(conv->unchecked, "assumed"));

  ConvertOptions bf;
  bf.arch.batch_first = true;
  conv = convert_state_dict(sd, "gru.pt", SourceFormat::torch, bf);
  REQUIRE(conv.ok());
  CHECK(conv->spec.batch_first);
  CHECK(has(conv->unchecked, "from --batch-first"));
}

TEST_CASE("convert state_dict: a wrapper module or a head makes the layout and step required") {
  StateDict sd = gru_state_dict("encoder.", 3, 5);
  Result<Conversion> conv = convert_state_dict(sd, "m.pt", SourceFormat::torch, {});
  REQUIRE_FALSE(conv.ok());
  CHECK(conv.status().code() == Errc::invalid_argument);
  CHECK(conv.status().message().find("'encoder.'") != std::string::npos);
  CHECK(conv.status().message().find("pass --batch-first or --time-major") != std::string::npos);
  CHECK(conv.status().message().find("--last-step") == std::string::npos);

  std::mt19937 rng(3);
  sd.push_back({"fc.weight", test::random_tensor({2, 5}, 0.5f, rng), "float32", true});
  sd.push_back({"fc.bias", test::random_tensor({2}, 0.5f, rng), "float32", true});
  ConvertOptions layout;
  layout.arch.batch_first = true;
  conv = convert_state_dict(sd, "m.pt", SourceFormat::torch, layout);
  REQUIRE_FALSE(conv.ok());
  CHECK(conv.status().message().find("the dense head 'fc.weight'") != std::string::npos);
  CHECK(conv.status().message().find("pass --last-step or --every-step") != std::string::npos);

  layout.arch.last_step = true;
  conv = convert_state_dict(sd, "m.pt", SourceFormat::torch, layout);
  REQUIRE_MESSAGE(conv.ok(), conv.status().to_string());
  REQUIRE(conv->spec.head.has_value());
  CHECK(conv->spec.head->last_step_only);
  CHECK(has(conv->unchecked, "from --last-step"));
}

TEST_CASE("convert state_dict: LSTM_v1's forward states its layout") {
  std::mt19937 rng(5);
  const int64_t I = 3, H = 4;
  StateDict sd;
  for (const char* g : {"f_gate", "i_gate", "c_cell", "o_gate"}) {
    sd.push_back({std::string(g) + ".weight", test::random_tensor({H, I + H}, 0.5f, rng), "float32", true});
    sd.push_back({std::string(g) + ".bias", test::random_tensor({H}, 0.5f, rng), "float32", true});
  }
  Result<Conversion> conv = convert_state_dict(sd, "v1.pt", SourceFormat::torch, {});
  REQUIRE_MESSAGE(conv.ok(), conv.status().to_string());
  CHECK(conv->spec.batch_first);
  CHECK(conv->unchecked.empty());
  ConvertOptions tm;
  tm.arch.batch_first = false;
  conv = convert_state_dict(sd, "v1.pt", SourceFormat::torch, tm);
  REQUIRE_FALSE(conv.ok());
  CHECK(conv.status().message().find("LSTM_v1's forward() takes x as (B, T, I)") != std::string::npos);
}
