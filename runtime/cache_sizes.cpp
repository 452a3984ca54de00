// cache_sizes(): the CPU's L1d and L3 as sysfs (or sysconf) gives them, read once.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "runtime/cache_sizes.hpp"

namespace recur {

namespace {

// CPU 0's data (or unified) cache of `level` in bytes as the kernel's sysfs gives it, else
// sysconf's figure (`name`), else 0. sysfs first: in a virtual machine sysconf's L3 can be the
// host's, while sysfs gives the guest's own.
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

const CacheSizes& cache_sizes() noexcept {
  static const CacheSizes sizes = [] {
    CacheSizes c;
    const int64_t l1 = cache_bytes(1, _SC_LEVEL1_DCACHE_SIZE);
    c.l1_budget = (l1 >= 16 * 1024 && l1 <= 1024 * 1024 ? l1 : 32 * 1024) / 4 * 3;
    const int64_t l3 = cache_bytes(3, _SC_LEVEL3_CACHE_SIZE);
    c.l3 = l3 >= 1024 * 1024 ? l3 : int64_t{32} << 20;
    return c;
  }();
  return sizes;
}

}  // namespace recur
