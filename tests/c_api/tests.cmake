# The C API test: a C program (compiled as C, not C++) that loads models written by a small
# C++ helper, run first as a test fixture.
set(RECUR_C_API_DIR ${CMAKE_CURRENT_BINARY_DIR}/c_api_models)

add_executable(make_c_api_models ${CMAKE_CURRENT_LIST_DIR}/make_c_api_models.cpp)
target_include_directories(make_c_api_models PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(make_c_api_models PRIVATE recur::recur)

add_executable(test_c_api ${CMAKE_CURRENT_LIST_DIR}/test_c_api.c)
set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/test_c_api.c PROPERTIES LANGUAGE C)
set_target_properties(test_c_api PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF
                                            LINKER_LANGUAGE C)
target_compile_options(test_c_api PRIVATE -pedantic -Werror)
target_link_libraries(test_c_api PRIVATE recur::recur)

file(MAKE_DIRECTORY ${RECUR_C_API_DIR})
add_test(NAME c_api.make_models COMMAND make_c_api_models ${RECUR_C_API_DIR})
set_tests_properties(c_api.make_models PROPERTIES FIXTURES_SETUP c_api_models)
add_test(NAME c_api.test COMMAND test_c_api ${RECUR_C_API_DIR})
set_tests_properties(c_api.test PROPERTIES FIXTURES_REQUIRED c_api_models)
