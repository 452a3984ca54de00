// Cache sizes the kernels plan for, read from the CPU once (kernels/recurrent.hpp).
#include <unistd.h>

#include <cstdio>
#include <string>

#include "kernels/recurrent.hpp"

namespace recur::kernels {

namespace {

// CPU 0's data (or unified) cache of `level` in bytes as the kernel's sysfs gives it, else
// sysconf's figure (`name`), else 0. sysfs first: in a guest, sysconf's L3 can be the host's
// (384 MiB seen on a 32 MiB Zen 5 guest), while sysfs gives the guest's own.
int64_t cache_bytes(int level, int name) {
  for (int i = 0; i < 16; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    int lv = 0;
    char type[32] = {}, unit = 0;
    long size = 0;
    FILE* f = std::fopen((dir + "level").c_str(), "r");
    if (!f) break;
    const bool got_level = std::fscanf(f, "%d", &lv) == 1;
    std::fclose(f);
    if (!got_level || lv != level) continue;
    if ((f = std::fopen((dir + "type").c_str(), "r")) == nullptr) continue;
    const bool got_type = std::fscanf(f, "%31s", type) == 1;
    std::fclose(f);
    if (!got_type || std::string(type) == "Instruction") continue;
    if ((f = std::fopen((dir + "size").c_str(), "r")) == nullptr) continue;
    const int got = std::fscanf(f, "%ld%c", &size, &unit);
    std::fclose(f);
    if (got < 1 || size <= 0) continue;
    const long scale = got == 2 && unit == 'K' ? 1024L : got == 2 && unit == 'M' ? 1024L * 1024 : 1L;
    return static_cast<int64_t>(size) * scale;
  }
  const long bytes = sysconf(name);  // 0 or -1 where the kernel does not say
  return bytes > 0 ? static_cast<int64_t>(bytes) : 0;
}

}  // namespace

int64_t l1_budget_bytes() noexcept {
  static const int64_t bytes = [] {
    const int64_t l1 = cache_bytes(1, _SC_LEVEL1_DCACHE_SIZE);
    const int64_t known = l1 >= 16 * 1024 && l1 <= 1024 * 1024 ? l1 : 32 * 1024;
    return known / 4 * 3;
  }();
  return bytes;
}

int64_t l3_bytes() noexcept {
  static const int64_t bytes = [] {
    const int64_t l3 = cache_bytes(3, _SC_LEVEL3_CACHE_SIZE);
    return l3 >= 1024 * 1024 ? l3 : int64_t{32} << 20;
  }();
  return bytes;
}

}  // namespace recur::kernels
