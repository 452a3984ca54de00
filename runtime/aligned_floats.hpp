// 64-byte aligned float storage for the packed gate panels: aligned vector loads, no split
// lines, and transparent huge pages for large panels (runtime/pack.cpp allocates them).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace recur {

class AlignedFloats {
 public:
  AlignedFloats() = default;
  explicit AlignedFloats(int64_t n);
  float* data() noexcept { return p_.get(); }
  const float* data() const noexcept { return p_.get(); }
  int64_t size() const noexcept { return n_; }
  bool empty() const noexcept { return n_ == 0; }
  // Faults the pages in now (the kernel zeroes them), so that the writes of the packing do not
  // take the faults: a loader runs this on another core. Only a hint; false if it did nothing.
  bool prefault() noexcept;

 private:
  struct Free {
    void operator()(float* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<float, Free> p_;
  int64_t n_ = 0;
};

}  // namespace recur
