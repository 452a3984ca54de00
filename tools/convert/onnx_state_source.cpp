// Tracing initial states and sequence lengths back to a graph input or a constant.
#include "tools/convert/onnx_state_source.hpp"

#include <climits>

#include "tools/convert/onnx_node.hpp"

namespace recur::convert {
namespace {

constexpr int kMaxDepth = 32;

struct Tracer {
  const OnnxConstants& consts;
  const std::set<std::string>& graph_inputs;
  const onnx::NodeProto& user;  // the recurrent node, for messages

  Status refuse(const std::string& why) const { return node_error(user, Errc::unsupported, why); }

  // Rows [first, first + count) of `s` (count -1: to the end).
  Status take_rows(StateSource& s, int64_t first, int64_t count, const std::string& what) const {
    if (first < 0) return refuse(cat(what, " takes rows from the end; only leading-row offsets are followed"));
    if (s.kind == StateSource::graph_input) {
      s.first_row += first;
      if (count >= 0 && s.rows >= 0 && first + count > s.rows) return refuse(cat(what, " reads past the rows it slices"));
      s.rows = count >= 0 ? count : s.rows < 0 ? -1 : s.rows - first;
      return Status::Ok();
    }
    const int64_t have = static_cast<int64_t>(s.values.size());
    if (count < 0) count = have - first;
    if (first + count > have || count < 0) return refuse(cat(what, " reads past the constant's ", have, " rows"));
    s.values = std::vector<std::vector<double>>(s.values.begin() + first, s.values.begin() + first + count);
    return Status::Ok();
  }

  Result<StateSource> trace(const std::string& name, int64_t width, int depth) const {
    if (depth > kMaxDepth) return refuse(cat("initial state '", name, "' is computed too deep to follow"));
    StateSource s;
    if (graph_inputs.count(name)) {
      s.kind = StateSource::graph_input;
      s.input = name;
      return s;
    }
    if (consts.provably_zero(name)) return s;
    if (consts.is_const(name)) return constant(name, width);
    const onnx::NodeProto* p = consts.producer(name);
    if (!p) return refuse(cat("initial state '", name, "' is neither a graph input nor computed by a node"));
    const std::string& op = p->op_type();
    const std::string what = cat(op, " node '", node_label(*p), "'");
    if (op == "Identity" || op == "Expand" || (op == "Cast" && node_attr_i(*p, "to", 0) == onnx::TensorProto::FLOAT)) {
      // Expand broadcasts over the batch: a constant state is per row already.
      auto in = trace(p->input(0), width, depth + 1);
      if (in.ok() && op == "Expand" && in->kind == StateSource::graph_input)
        return refuse(cat(what, " expands the graph input '", in->input, "'; pass h0/c0 of the full batch instead"));
      return in;
    }
    if (op == "Slice") {
      auto starts = consts.int_list(*p, 1, "starts"), ends = consts.int_list(*p, 2, "ends");
      auto axes = consts.int_list(*p, 3, "axes"), steps = consts.int_list(*p, 4, "steps");
      if (!starts.ok()) return starts.status();
      if (!ends.ok()) return ends.status();
      if (!axes.ok()) return axes.status();
      if (!steps.ok()) return steps.status();
      if (starts->size() != 1 || ends->size() != 1 || (!axes->empty() && (*axes)[0] != 0) ||
          (!steps->empty() && (*steps)[0] != 1))
        return refuse(cat(what, " slices an initial state other than by rows (axis 0, step 1)"));
      auto in = trace(p->input(0), width, depth + 1);
      if (!in.ok() || in->kind == StateSource::zero) return in;
      const int64_t end = (*ends)[0];
      RECUR_TRY(take_rows(*in, (*starts)[0], end >= INT_MAX ? -1 : end - (*starts)[0], what));
      return in;
    }
    if (op == "Gather" || op == "Split") {
      if (node_attr_i(*p, "axis", 0) != 0) return refuse(cat(what, " on an initial state along an axis other than 0"));
      auto in = trace(p->input(0), width, depth + 1);
      if (!in.ok() || in->kind == StateSource::zero) return in;
      if (op == "Gather") {
        auto idx = consts.get(p->input(1), "indices");
        if (!idx.ok()) return refuse(cat(what, " gathers rows the graph computes"));
        int64_t first = 0, k = 0;
        if (idx->dims.size() != 1 || idx->v.empty() || !exact_int64(idx->v[0], first))
          return refuse(cat(what, " must gather a list of consecutive rows (keeping the row axis)"));
        for (size_t i = 1; i < idx->v.size(); ++i)
          if (!exact_int64(idx->v[i], k) || k != first + static_cast<int64_t>(i))
            return refuse(cat(what, " gathers rows that are not consecutive"));
        RECUR_TRY(take_rows(*in, first, static_cast<int64_t>(idx->v.size()), what));
        return in;
      }
      auto split = consts.int_list(*p, 1, "split");
      if (!split.ok()) return split.status();
      int64_t first = 0;
      for (int k = 0; k < p->output_size(); ++k) {
        if (k >= static_cast<int>(split->size()))
          return refuse(cat(what, " splits an initial state without explicit sizes"));
        if (p->output(k) == name) {
          RECUR_TRY(take_rows(*in, first, (*split)[static_cast<size_t>(k)], what));
          return in;
        }
        first += (*split)[static_cast<size_t>(k)];
      }
    }
    return refuse(cat("initial state '", name, "' comes from ", what,
                      ", which recur cannot follow (it follows Slice, Split, Gather, Expand, Identity, Cast of a "
                      "graph input or a constant)"));
  }

  // A constant (rows, Bc, width): every batch element must hold the same state.
  Result<StateSource> constant(const std::string& name, int64_t width) const {
    auto c = consts.get(name, "initial state");
    if (!c.ok()) return node_error(user, c.status().code(), c.status().message());
    if (c->dims.size() != 3 || c->dims[2] != width)
      return node_error(user, Errc::invalid_model, cat("initial state '", name, "' has shape ", shape_str(c->dims),
                                                       ", expected (directions, batch, ", width, ")"));
    StateSource s;
    s.kind = StateSource::constant;
    const int64_t R = c->dims[0], Bc = c->dims[1];
    for (int64_t r = 0; r < R; ++r) {
      std::vector<double> row(c->v.begin() + r * Bc * width, c->v.begin() + (r * Bc + 1) * width);
      for (int64_t b = 1; b < Bc; ++b)
        for (int64_t k = 0; k < width; ++k)
          if (c->v[static_cast<size_t>((r * Bc + b) * width + k)] != row[static_cast<size_t>(k)])
            return refuse(cat("initial state '", name, "' differs between batch elements (", b,
                              " vs 0); a recur model's default initial state is the same for every sequence"));
      s.values.push_back(std::move(row));
    }
    return s;
  }
};

}  // namespace

Result<StateSource> trace_state(const OnnxConstants& consts, const std::set<std::string>& graph_inputs,
                                const onnx::NodeProto& n, const std::string& name, int64_t dirs, int64_t width) {
  Tracer t{consts, graph_inputs, n};
  auto s = t.trace(name, width, 0);
  if (!s.ok()) return s;
  if (s->kind == StateSource::constant && static_cast<int64_t>(s->values.size()) != dirs)
    return t.refuse(cat("initial state '", name, "' has ", s->values.size(), " rows for ", dirs, " direction(s)"));
  if (s->kind == StateSource::graph_input && s->rows >= 0 && s->rows != dirs)
    return t.refuse(cat("initial state '", name, "' takes ", s->rows, " rows of '", s->input, "' for ", dirs,
                        " direction(s)"));
  return s;
}

Result<LengthsSource> trace_lengths(const OnnxConstants& consts, const std::set<std::string>& graph_inputs,
                                    const onnx::NodeProto& n, const std::string& name) {
  std::string at = name;
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    if (graph_inputs.count(at)) return LengthsSource{at, {}};
    if (consts.is_const(at)) {
      auto c = consts.get(at, "sequence_lens");
      if (!c.ok()) return node_error(n, c.status().code(), c.status().message());
      LengthsSource s;
      for (double v : c->v) {
        int64_t i = 0;
        if (!exact_int64(v, i) || i < 0) return node_error(n, Errc::invalid_model, cat("sequence_lens holds ", v));
        s.constant.push_back(i);
      }
      return s;
    }
    const onnx::NodeProto* p = consts.producer(at);
    if (!p || !(p->op_type() == "Cast" || p->op_type() == "Identity") || p->input_size() < 1) break;
    at = p->input(0);
  }
  return node_error(n, Errc::unsupported,
                    cat("sequence_lens '", name, "' is computed by the graph (", at,
                        "); recur follows Casts of a graph input or a constant (lengths are passed to run())"));
}

}  // namespace recur::convert
