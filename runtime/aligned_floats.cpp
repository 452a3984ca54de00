// AlignedFloats: aligned_alloc, and madvise for huge pages and prefaulting.
#include "runtime/aligned_floats.hpp"

#include <sys/mman.h>

#include <new>

namespace recur {

namespace {
constexpr size_t kPanelAlign = 64;      // bytes: one cache line, one AVX-512 vector
constexpr size_t kHugePage = 2u << 20;  // big panels go on transparent huge pages if allowed
}  // namespace

AlignedFloats::AlignedFloats(int64_t n) : n_(n) {
  if (n <= 0) {
    n_ = 0;
    return;
  }
  size_t bytes = static_cast<size_t>(n) * sizeof(float);
  const size_t align = bytes >= kHugePage ? kHugePage : kPanelAlign;
  bytes = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, bytes);
  if (!p) throw std::bad_alloc();
  // Fewer page faults at load and fewer TLB misses per step; only a hint.
  if (align == kHugePage) ::madvise(p, bytes, MADV_HUGEPAGE);
  p_.reset(static_cast<float*>(p));
}

bool AlignedFloats::prefault() noexcept {
#if defined(MADV_POPULATE_WRITE)
  if (n_ == 0) return false;
  const size_t bytes = static_cast<size_t>(n_) * sizeof(float);
  const size_t page = 4096;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p_.get()) / page * page;  // madvise wants page-aligned
  const uintptr_t end = reinterpret_cast<uintptr_t>(p_.get()) + bytes;
  return ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE) == 0;
#else
  return false;
#endif
}

}  // namespace recur
