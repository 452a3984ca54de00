# Fuzz targets tests/fuzz/fuzz_<name>.cpp. Normal builds link each with a replay driver and add
# a ctest that replays its committed corpus (tests/fuzz/corpus/fuzz_<name>/); the `fuzz` preset
# (RECUR_FUZZ=ON, clang) links them with libFuzzer instead, for scripts/fuzz.sh.
file(GLOB RECUR_FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_*.cpp)
foreach(src IN LISTS RECUR_FUZZ_TARGETS)
  get_filename_component(name ${src} NAME_WE)
  if(RECUR_FUZZ)
    add_executable(${name} ${src})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${name} ${src} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/driver.cpp)
    add_test(NAME fuzz.replay.${name}
      COMMAND ${name} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${name})
    # Under ASan: the same leak suppression as scripts/fuzz.sh (libhdf5's own error paths).
    set_tests_properties(fuzz.replay.${name} PROPERTIES
      ENVIRONMENT "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/fuzz/lsan.supp")
  endif()
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  # The public API, as a user's program would call it (and recur_io for the .npy reader).
  target_link_libraries(${name} PRIVATE recur_io recur::recur)
  if(TARGET recur_convert)
    target_link_libraries(${name} PRIVATE recur_convert)
  endif()
endforeach()
