// cgroup CPU quotas (v2 cpu.max, v1 cpu.cfs_quota_us) from the process's cgroup up to the root.
#include "runtime/cpu_quota.hpp"

#include <fstream>
#include <sstream>

namespace recur {

namespace {

// ceil(quota / period) for a positive quota and period, else 0.
int whole_cpus(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return 0;
  const long long n = quota / period + (quota % period != 0 ? 1 : 0);  // no quota + period overflow
  return n > 1 << 20 ? 1 << 20 : static_cast<int>(n);
}

// v2: "max 100000" or "<quota> <period>".
int read_v2(const std::string& dir) {
  std::ifstream f(dir + "/cpu.max");
  std::string quota;
  long long period = 0;
  if (!(f >> quota >> period) || quota == "max") return 0;
  try {
    size_t used = 0;
    const long long q = std::stoll(quota, &used);
    return used == quota.size() ? whole_cpus(q, period) : 0;
  } catch (...) {  // not a number
    return 0;
  }
}

// v1: cpu.cfs_quota_us (-1 = none) and cpu.cfs_period_us.
int read_v1(const std::string& dir) {
  std::ifstream q(dir + "/cpu.cfs_quota_us"), p(dir + "/cpu.cfs_period_us");
  long long quota = 0, period = 0;
  if (!(q >> quota) || !(p >> period)) return 0;
  return whole_cpus(quota, period);
}

// The smallest nonzero limit of `dir` and its parents down to `top` (both absolute paths,
// dir under top), by `read`.
template <class Read>
int smallest_up_to(std::string dir, const std::string& top, Read read) {
  int best = 0;
  while (true) {
    const int n = read(dir);
    if (n > 0 && (best == 0 || n < best)) best = n;
    if (dir.size() <= top.size()) return best;
    const size_t slash = dir.find_last_of('/');
    if (slash == std::string::npos || slash < top.size()) return best;
    dir.resize(slash);
  }
}

// "/a/b/" -> "/a/b"; "/" -> "".
std::string without_trailing_slash(std::string p) {
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace

int cgroup_cpu_limit(const std::string& root_in, const std::string& self_cgroup) noexcept {
  try {
    const std::string root = without_trailing_slash(root_in);
    int best = 0;
    const auto take = [&best](int n) {
      if (n > 0 && (best == 0 || n < best)) best = n;
    };
    std::istringstream lines(self_cgroup);
    std::string line;
    while (std::getline(lines, line)) {
      // "<id>:<controllers>:<path>"; v2 is "0::<path>".
      const size_t a = line.find(':');
      const size_t b = a == std::string::npos ? a : line.find(':', a + 1);
      if (b == std::string::npos) continue;
      const std::string controllers = line.substr(a + 1, b - a - 1);
      const std::string path = without_trailing_slash(line.substr(b + 1));
      if (path.find("..") != std::string::npos) continue;
      if (controllers.empty()) {
        take(smallest_up_to(root + path, root, read_v2));
        continue;
      }
      std::istringstream names(controllers);
      std::string name;
      while (std::getline(names, name, ',')) {
        if (name != "cpu") continue;
        // v1 mounts the cpu controller as cpu/ or as cpu,cpuacct/ (cpu/ is usually a link).
        for (const std::string& mount : {std::string("/cpu"), std::string("/cpu,cpuacct")}) {
          take(smallest_up_to(root + mount + path, root + mount, read_v1));
        }
      }
    }
    return best;
  } catch (...) {  // allocation failure: no limit known
    return 0;
  }
}

int cgroup_cpu_limit() noexcept {
  try {
    std::ifstream f("/proc/self/cgroup");
    std::stringstream text;
    text << f.rdbuf();
    return cgroup_cpu_limit("/sys/fs/cgroup", text.str());
  } catch (...) {
    return 0;
  }
}

}  // namespace recur
