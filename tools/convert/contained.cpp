// run_contained: fork, run, wait; a child killed by a signal becomes an error message.
#include "tools/convert/contained.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "recur/status.hpp"

namespace recur::convert {

namespace {

void set_limit(int resource, uint64_t value) {
  if (value == 0) return;
  const rlimit lim{static_cast<rlim_t>(value), static_cast<rlim_t>(value)};
  ::setrlimit(resource, &lim);  // best effort: a failure leaves the child uncapped, not broken
}

}  // namespace

ContainLimits limits_for_source(uint64_t source_bytes) {
  ContainLimits l;
  l.max_memory_bytes = (4ull << 30) + 8 * source_bytes;
  l.max_cpu_seconds = 60 + source_bytes / (50ull << 20) * 60;
  l.max_wall_seconds = 2 * l.max_cpu_seconds;
  return l;
}

int run_contained(const std::string& what, const ContainLimits& limits, const std::function<int()>& body) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return body();
  if (pid == 0) {
    // Dies with the caller; if the caller is already gone, the signal was missed: leave now.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    // SIGALRM's default action ends the child even inside a blocking read.
    std::signal(SIGALRM, SIG_DFL);
    if (limits.max_wall_seconds) ::alarm(static_cast<unsigned>(std::min<uint64_t>(limits.max_wall_seconds, 1u << 30)));
#if !defined(__SANITIZE_ADDRESS__)
    set_limit(RLIMIT_AS, limits.max_memory_bytes);
#endif
    set_limit(RLIMIT_CPU, limits.max_cpu_seconds);
    int rc = 1;
    try {
      rc = body();
    } catch (...) {
      rc = 1;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(rc);  // no atexit handlers or static destructors of the parent's state
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      std::fprintf(stderr, "recur convert: %s: lost the conversion process: %s\n", what.c_str(),
                   std::strerror(errno));
      return 1;
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  const std::string cause = sig == SIGXCPU ? "ran past its CPU-time cap"
                            : sig == SIGALRM ? "ran past its wall-clock cap"
                                             : "crashed";
  const Status crashed(Errc::bad_metadata,
                       what + ": the reader " + cause + " on this file (signal " + std::to_string(sig) + ", " +
                           (sig ? strsignal(sig) : "unknown") +
                           "): it is corrupt or crafted to attack the HDF5 library; nothing was written");
  std::fprintf(stderr, "recur convert: %s\n", crashed.to_string().c_str());
  return 1;
}

}  // namespace recur::convert
