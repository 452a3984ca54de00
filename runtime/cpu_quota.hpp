// The CPU limit a cgroup (container, systemd slice, Kubernetes pod) puts on this process, for
// the default thread count: affinity alone says 64 CPUs inside a container granted 2.
#pragma once

#include <string>

namespace recur {

// The smallest CPU quota of this process's cgroup and its parents, rounded up to whole CPUs:
// cgroup v2 `cpu.max` ("200000 100000" = 2 CPUs, "max ..." = none) or v1
// `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1 = none). 0 when no quota is set or nothing can
// be read. `root` is where cgroups are mounted ("/sys/fs/cgroup") and `self_cgroup` the text
// of /proc/self/cgroup: parameters, so tests can use a fake tree.
int cgroup_cpu_limit(const std::string& root, const std::string& self_cgroup) noexcept;

// cgroup_cpu_limit of the real /sys/fs/cgroup and /proc/self/cgroup.
int cgroup_cpu_limit() noexcept;

}  // namespace recur
