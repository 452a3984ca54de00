# ctest: install recur and build a find_package(recur) consumer against it.
add_test(NAME consumer.find_package
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(consumer.find_package PROPERTIES TIMEOUT 300 LABELS no-asan)
