# Sanitizer canaries: programs with a deliberate bug, built only on request
# (-DRECUR_SANITIZER_CANARY=ON), whose tests pass only if the sanitizer reports the bug.
option(RECUR_SANITIZER_CANARY "Build deliberately broken programs that the sanitizers must catch" OFF)
if(RECUR_SANITIZER_CANARY)
  string(FIND "${CMAKE_CXX_FLAGS}" "sanitize=address" has_asan)
  string(FIND "${CMAKE_CXX_FLAGS}" "sanitize=thread" has_tsan)
  if(has_asan GREATER -1)
    foreach(kind asan ubsan)
      add_executable(${kind}_canary ${CMAKE_CURRENT_SOURCE_DIR}/canary/${kind}_canary.cpp)
      add_test(NAME canary.${kind} COMMAND ${kind}_canary)
    endforeach()
    set_tests_properties(canary.asan PROPERTIES LABELS canary
      PASS_REGULAR_EXPRESSION "AddressSanitizer: heap-buffer-overflow")
    set_tests_properties(canary.ubsan PROPERTIES LABELS canary
      PASS_REGULAR_EXPRESSION "runtime error: signed integer overflow")
  endif()
  if(has_tsan GREATER -1)
    add_executable(tsan_canary ${CMAKE_CURRENT_SOURCE_DIR}/canary/tsan_canary.cpp)
    target_link_libraries(tsan_canary PRIVATE Threads::Threads)
    add_test(NAME canary.tsan COMMAND tsan_canary)
    set_tests_properties(canary.tsan PROPERTIES LABELS canary
      PASS_REGULAR_EXPRESSION "ThreadSanitizer: data race")
    # OpenMP teams: a real race reported, the runtime's own barriers not (needs libarcher).
    add_executable(tsan_omp_canary ${CMAKE_CURRENT_SOURCE_DIR}/canary/tsan_omp_canary.cpp)
    target_link_libraries(tsan_omp_canary PRIVATE OpenMP::OpenMP_CXX)
    add_test(NAME canary.tsan_omp_race COMMAND tsan_omp_canary race)
    set_tests_properties(canary.tsan_omp_race PROPERTIES LABELS canary
      PASS_REGULAR_EXPRESSION "ThreadSanitizer: data race")
    add_test(NAME canary.tsan_omp_barrier COMMAND tsan_omp_canary)
    # Without the preset's ignore_noninstrumented_modules, which would hide libomp's side too.
    set_tests_properties(canary.tsan_omp_barrier PROPERTIES LABELS canary
      ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1"
      PASS_REGULAR_EXPRESSION "team of 2: 6" FAIL_REGULAR_EXPRESSION "ThreadSanitizer")
  endif()
endif()
