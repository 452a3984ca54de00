// Which sanitizer this translation unit is built with (RECUR_ASAN / RECUR_TSAN defined as 1):
// GCC defines __SANITIZE_*__, clang answers __has_feature. Both sanitizers reserve terabytes of
// address space, so an RLIMIT_AS cap cannot be applied under either.
#pragma once

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RECUR_TSAN 1
#endif
#if __has_feature(address_sanitizer)
#define RECUR_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) && !defined(RECUR_TSAN)
#define RECUR_TSAN 1
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(RECUR_ASAN)
#define RECUR_ASAN 1
#endif
