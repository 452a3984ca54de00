// The default thread count honours cgroup CPU quotas (a container granted 2 CPUs on a 64-CPU
// host must not start 64 threads): cgroup v2 and v1 trees written to a temporary directory.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "runtime/cpu_quota.hpp"
#include "runtime/parallel.hpp"

namespace fs = std::filesystem;
using recur::cgroup_cpu_limit;

namespace {

struct FakeTree {
  std::string root;
  FakeTree() {
    char tmpl[] = "/tmp/recur_cgroup_XXXXXX";
    root = mkdtemp(tmpl);
  }
  ~FakeTree() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  void write(const std::string& rel, const std::string& text) const {
    const fs::path p = fs::path(root) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
};

}  // namespace

TEST_CASE("cgroup v2 cpu.max: quota / period rounded up, the smallest up the tree wins") {
  FakeTree t;
  const std::string self = "0::/kubepods/pod1/ctr\n";
  CHECK(cgroup_cpu_limit(t.root, self) == 0);  // no files: no limit
  t.write("kubepods/pod1/ctr/cpu.max", "max 100000\n");
  CHECK(cgroup_cpu_limit(t.root, self) == 0);
  t.write("kubepods/pod1/cpu.max", "150000 100000\n");
  CHECK(cgroup_cpu_limit(t.root, self) == 2);  // 1.5 CPUs -> 2 threads
  t.write("kubepods/cpu.max", "100000 100000\n");
  CHECK(cgroup_cpu_limit(t.root, self) == 1);  // a parent's tighter quota binds
  t.write("kubepods/pod1/ctr/cpu.max", "50000 100000\n");
  CHECK(cgroup_cpu_limit(t.root, self) == 1);  // half a CPU is still one thread
  t.write("cpu.max", "max 100000\n");
  CHECK(cgroup_cpu_limit(t.root + "/", self) == 1);
}

TEST_CASE("cgroup v1 cpu.cfs_quota_us under cpu/ or cpu,cpuacct/") {
  FakeTree t;
  const std::string self = "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/x\n";
  t.write("cpu/docker/abc/cpu.cfs_quota_us", "-1\n");
  t.write("cpu/docker/abc/cpu.cfs_period_us", "100000\n");
  CHECK(cgroup_cpu_limit(t.root, self) == 0);  // -1: unlimited
  t.write("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "300000\n");
  t.write("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  CHECK(cgroup_cpu_limit(t.root, self) == 3);
  t.write("cpu/docker/cpu.cfs_quota_us", "200000\n");
  t.write("cpu/docker/cpu.cfs_period_us", "100000\n");
  CHECK(cgroup_cpu_limit(t.root, self) == 2);
}

TEST_CASE("cgroup quota files that are malformed or hostile count as no limit") {
  FakeTree t;
  const std::string self = "0::/a\n";
  for (const char* text : {"", "abc 100000", "100000", "100000 0", "-5 100000", "0 100000",
                           "12x 100000", "99999999999999999999999 1"}) {
    CAPTURE(text);
    t.write("a/cpu.max", text);
    CHECK(cgroup_cpu_limit(t.root, self) == 0);
  }
  t.write("a/cpu.max", "9223372036854775807 1");  // absurd but valid: capped, not overflowed
  CHECK(cgroup_cpu_limit(t.root, self) > 0);
  // Paths that climb out of the mount and lines without fields are ignored.
  CHECK(cgroup_cpu_limit(t.root, "0::/../../etc\nnonsense\n::\n") == 0);
}

TEST_CASE("the available CPUs are at least 1 and at most the affinity mask") {
  const int n = recur::available_cpus();
  CHECK(n >= 1);
  CHECK(n <= static_cast<int>(sysconf(_SC_NPROCESSORS_CONF)));
  CHECK(recur::resolve_threads(0, "1024", nullptr, n) == n);  // what an environment value is capped by
}
