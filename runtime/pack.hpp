// Packing: the one place that turns a layer's canonical tensors (include/recur/spec.hpp) into
// the layouts its kernels read (runtime/model_impl.hpp): gate panels for a layer on the panel
// kernels, KernelTable::pack's layout for a generic one, and the head.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/model_impl.hpp"

namespace recur {

// Whether `layer` (whose directions' activations are already in `dirs`) runs on k.panels: the
// default activations (lstm sigmoid/tanh/tanh, gru sigmoid/tanh, rnn tanh or relu), no clip,
// peepholes, projection or input_forget.
bool gate_panels_apply(const kernels::KernelTable& k, const RecurrentLayer& layer,
                       const std::vector<PackedDirection>& dirs);

enum class Matrix { W, R };

// Packs one layer's weights into `layer.dir` (whose attributes and activations are set). A
// panel layer's storage is allocated (padding zeroed) at construction, so a loader can stream
// its W and R in, rows at a time in any order, as the file delivers them (rows()); finish()
// then packs whatever was not streamed: everything of a generic layer, a panel layer's biases,
// and any W or R not taken. The packer counts the rows it took of each matrix. With
// recurrent_bf16 every R is checked, once, for weights that bfloat16 cannot hold.
class LayerPacker {
 public:
  LayerPacker(const kernels::KernelTable& k, size_t index, PackedLayer& layer);

  // Whether rows() takes direction d's matrices (the panel layers' W and R).
  bool streams() const { return layer_->gate_panels; }
  // Rows [row0, row0 + n) of direction d's W (G*H, I) or R (G*H, H), row-major. Only for
  // streams(); non_finite for an R weight bfloat16 rounds to infinity.
  Status rows(int d, Matrix which, int64_t row0, int64_t n, const float* data);
  // Packs the rest from the layer's canonical weights (one entry per direction).
  Status finish(const std::vector<DirectionWeights>& weights);
  // The panel storage of every direction, for a loader that prefaults it on another thread.
  void panel_storage(std::vector<AlignedFloats*>& out);

 private:
  const kernels::KernelTable* k_;
  size_t index_;
  PackedLayer* layer_;
  int64_t taken_[2][2] = {};  // rows taken, per direction and Matrix
};

// The head's W in KernelTable::pack's layout, and its attributes.
PackedHead pack_head(const kernels::KernelTable& k, const DenseHead& head);

}  // namespace recur
