// conversion_summary / write_checked: what `recur convert` prints, writes and checks.
#include "tools/convert/write_checked.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "recur/format.hpp"
#include "recur/model.hpp"
#include "tools/convert/util.hpp"

namespace recur::convert {
namespace {

struct SelfCheck {
  double max_abs = 0, max_rel = 0;
  bool ok = true;
};

// Runs `path` on x (T=7, B=2) and compares with conv.reference; |a - e| <= atol + rtol * |e|.
Result<SelfCheck> self_check(const std::string& path, const Conversion& conv, double atol, double rtol) {
  auto model = Model::load(path);
  if (!model.ok()) return model.status();
  const int64_t T = 7, B = 2, I = conv.spec.embedding ? 1 : conv.spec.input_size();
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(T * B * I));
  for (float& v : x) v = dist(rng);
  std::vector<int64_t> tokens;  // an embedding model: random ids, given to the reference as doubles
  if (conv.spec.embedding) {
    for (float& v : x) {
      tokens.push_back(static_cast<int64_t>(rng() % static_cast<uint64_t>(conv.spec.embedding->vocab_size)));
      v = static_cast<float>(tokens.back());
    }
  }
  RunInput in;
  in.x = tokens.empty() ? x.data() : nullptr;
  in.tokens = tokens.empty() ? nullptr : tokens.data();
  in.seq_len = T;
  in.batch = B;
  in.layout = conv.spec.batch_first ? Layout::batch_first : Layout::time_major;  // the reference's
  RunOptions ro;
  ro.threads = 1;
  auto out = model->run(in, ro);
  if (!out.ok()) return out.status();
  auto ref = conv.reference(std::vector<double>(x.begin(), x.end()), T, B);
  if (!ref.ok()) return ref.status();
  if (ref->size() != out->y.size())
    return Status(Errc::internal, cat("self-check: output sizes differ (", out->y.size(), " vs reference ",
                                      ref->size(), ")"));
  SelfCheck c;
  for (size_t k = 0; k < ref->size(); ++k) {
    double e = (*ref)[k], a = out->y[k], d = std::fabs(a - e);
    c.max_abs = std::max(c.max_abs, d);
    if (std::fabs(e) > 1e-6) c.max_rel = std::max(c.max_rel, d / std::fabs(e));
    if (!(d <= atol + rtol * std::fabs(e))) c.ok = false;
  }
  return c;
}

std::string format(const char* fmt, double a, double b, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, a, b, c, d);
  return buf;
}

}  // namespace

std::string conversion_summary(const std::string& source, const Conversion& conv) {
  const ModelSpec& spec = conv.spec;
  std::string s = cat("source: ", source, " (", source_format_name(conv.format), ")\n");
  for (const auto& l : conv.layers) s += cat("  ", l, "\n");
  for (const auto& n : conv.notes) s += cat("  note: ", n, "\n");
  s += cat("summary: ", spec.layers.size(), " recurrent layer(s)", spec.head ? " + dense head" : "", ", input ",
           spec.input_size(), ", output ", spec.output_size(), " per ",
           spec.head && spec.head->last_step_only ? "sequence (last step)" : "step", ", ",
           spec.parameter_count(), " parameters, layout ", spec.batch_first ? "(B, T, F)" : "(T, B, F)", "\n");
  return s;
}

Result<std::string> write_checked(const Conversion& conv, const std::string& out, const CheckOptions& check,
                                  const std::function<void(const std::string&)>& progress) {
  // Staged next to the destination and renamed over it only once checked: a failed convert
  // leaves an existing destination exactly as it was.
  std::string staged = out + ".XXXXXX";
  const int fd = ::mkstemp(staged.data());
  if (fd < 0) return Status(Errc::io, cat(out, ": cannot create a file next to it: ", std::strerror(errno)));
  ::close(fd);
  if (progress) progress("writing " + out);
  Status written = write_model(conv.spec, staged);
  if (!written.ok()) {
    std::remove(staged.c_str());
    return written;
  }
  std::string s;
  if (!check.skip) {
    if (progress) progress("self-check: loading and running the converted model");
    auto result = self_check(staged, conv, check.atol, check.rtol);
    if (!result.ok() || !result->ok) {
      std::remove(staged.c_str());
      if (!result.ok()) return Status(result.status()).with_context("self-check could not run");
      return Status(Errc::invalid_model,
                    format("self-check FAILED: max abs error %.3g, max rel error %.3g (atol %.3g, rtol %.3g); ",
                           result->max_abs, result->max_rel, check.atol, check.rtol) +
                        out + " not written");
    }
    s = cat("self-check: recur vs the converter's own fp64 reading of the ", source_format_name(conv.format),
            " source (its gate order and storage) on a random input (T=7, B=2): ",
            format("max abs error %.3g, max rel error %.3g", result->max_abs, result->max_rel), " — ok\n");
    for (const auto& u : conv.unchecked) s += cat("  not checked (the source does not state it): ", u, "\n");
  }
  if (std::rename(staged.c_str(), out.c_str()) != 0) {
    const Status renamed(Errc::io, cat("cannot rename the converted model onto ", out, ": ", std::strerror(errno)));
    std::remove(staged.c_str());
    return renamed;
  }
  return s + cat("wrote ", out, check.skip ? " (self-check skipped)" : "", "\n");
}

}  // namespace recur::convert
