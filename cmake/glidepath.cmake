# Helpers so that each module's CMakeLists.txt says only what it is made of.

# glidepath_module(NAME SOURCES a.cpp ... DEPS other_lib ...)
# A static library glidepath_NAME, with src/ on its public include path, so code includes
# "core/clock.h", "deploy/reconcile.h" and so on: the path is the namespace.
function(glidepath_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(glidepath_${name} STATIC ${ARG_SOURCES})
  target_include_directories(glidepath_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(glidepath_${name} PUBLIC ${ARG_DEPS})
endfunction()

# glidepath_test(NAME SOURCES a_test.cpp ... DEPS glidepath_x ... [ENV VAR=value ...])
# One GoogleTest binary per module; each TEST becomes its own CTest entry so ctest -j
# spreads them over the cores. Every test sees GLIDEPATH_SOURCE_DIR; ENV adds more.
#
# Test code is built for compile speed, not run speed: the product's libraries keep the
# build type's optimisation, while test sources compile at -O0 with line tables only
# (halves their compile time in the release build), and every test target reuses one
# precompiled header of GoogleTest, GoogleMock, nlohmann-json and the standard library,
# built once by glidepath_test_pch. -Winvalid-pch makes a PCH that silently stopped
# applying a warning, so CI (-Werror) notices.
include(GoogleTest)
set(GLIDEPATH_TEST_FLAGS -O0 -g1 -Winvalid-pch)
set(GLIDEPATH_TEST_PCH_HEADERS
    <gtest/gtest.h> <gmock/gmock.h> <nlohmann/json.hpp>
    <algorithm> <atomic> <chrono> <cstdint> <filesystem> <functional> <map> <memory>
    <optional> <set> <string> <string_view> <thread> <unordered_map> <utility> <vector>)
if(NOT GLIDEPATH_FUZZ AND NOT TARGET glidepath_test_pch)
  file(WRITE ${CMAKE_BINARY_DIR}/glidepath_test_pch.cpp "// the test PCH's own object\n")
  add_library(glidepath_test_pch OBJECT ${CMAKE_BINARY_DIR}/glidepath_test_pch.cpp)
  target_link_libraries(glidepath_test_pch PRIVATE GTest::gtest GTest::gmock
                        nlohmann_json::nlohmann_json)
  target_compile_options(glidepath_test_pch PRIVATE ${GLIDEPATH_TEST_FLAGS})
  target_precompile_headers(glidepath_test_pch PRIVATE ${GLIDEPATH_TEST_PCH_HEADERS})
endif()

# Tests that only drive the real binary through processes and sockets (tests/integration)
# link none of the product's libraries, so in the sanitizer build instrumenting their own
# code checks nothing of the product's — the binary under test is instrumented — and
# doubled their compile time (a third of that build). A directory says so with
# set(GLIDEPATH_TEST_UNINSTRUMENTED ON); its test code then builds with -fno-sanitize=all
# and its own precompiled header (GCC refuses a PCH made with other sanitizer flags).
if(GLIDEPATH_SANITIZE AND NOT TARGET glidepath_test_pch_uninstrumented)
  add_library(glidepath_test_pch_uninstrumented OBJECT ${CMAKE_BINARY_DIR}/glidepath_test_pch.cpp)
  target_link_libraries(glidepath_test_pch_uninstrumented PRIVATE GTest::gtest GTest::gmock
                        nlohmann_json::nlohmann_json)
  target_compile_options(glidepath_test_pch_uninstrumented PRIVATE ${GLIDEPATH_TEST_FLAGS}
                         -fno-sanitize=all)
  target_precompile_headers(glidepath_test_pch_uninstrumented PRIVATE ${GLIDEPATH_TEST_PCH_HEADERS})
endif()

# glidepath_test_code(TARGET): the flags and PCH above, for a test binary or a test
# support library.
function(glidepath_test_code target)
  if(GLIDEPATH_FUZZ)
    return()
  endif()
  target_link_libraries(${target} PRIVATE GTest::gtest GTest::gmock nlohmann_json::nlohmann_json)
  if(GLIDEPATH_SANITIZE AND GLIDEPATH_TEST_UNINSTRUMENTED)
    target_compile_options(${target} PRIVATE ${GLIDEPATH_TEST_FLAGS} -fno-sanitize=all)
    target_precompile_headers(${target} REUSE_FROM glidepath_test_pch_uninstrumented)
  else()
    target_compile_options(${target} PRIVATE ${GLIDEPATH_TEST_FLAGS})
    target_precompile_headers(${target} REUSE_FROM glidepath_test_pch)
  endif()
endfunction()

function(glidepath_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;ENV" ${ARGN})
  if(GLIDEPATH_FUZZ)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  glidepath_test_code(${name})
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST
                       PROPERTIES ENVIRONMENT "GLIDEPATH_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  # gtest_discover_tests (CMake 3.25) re-splits property values on ';', so a second
  # variable would become a property name: set the whole list once the tests are known.
  if(ARG_ENV)
    set(script "${CMAKE_CURRENT_BINARY_DIR}/${name}_environment.cmake")
    string(JOIN ";" environment "GLIDEPATH_SOURCE_DIR=${PROJECT_SOURCE_DIR}" ${ARG_ENV})
    file(GENERATE OUTPUT "${script}" CONTENT
         "if(${name}_TESTS)\n  set_tests_properties(\${${name}_TESTS} PROPERTIES ENVIRONMENT [==[${environment}]==])\nendif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${script}")
  endif()
endfunction()

# glidepath_fuzzer(NAME SOURCE fuzz_x.cpp DEPS ...)
# With GLIDEPATH_FUZZ a libFuzzer binary fuzz_NAME; otherwise the same entry point linked
# with a replay driver, run by CTest over the seed corpus tests/fuzz/corpus/NAME so a
# regression on any committed input fails `make test`.
if(NOT TARGET fuzz_targets)
  add_custom_target(fuzz_targets)
endif()
function(glidepath_fuzzer name)
  cmake_parse_arguments(ARG "" "SOURCE" "DEPS" ${ARGN})
  add_executable(fuzz_${name} ${ARG_SOURCE})
  target_link_libraries(fuzz_${name} PRIVATE ${ARG_DEPS})
  add_dependencies(fuzz_targets fuzz_${name})
  set(corpus ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
  if(GLIDEPATH_FUZZ)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  else()
    target_sources(fuzz_${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cpp)
    add_test(NAME fuzz_replay.${name} COMMAND fuzz_${name} ${corpus})
  endif()
endfunction()
