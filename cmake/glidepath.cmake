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
include(GoogleTest)
function(glidepath_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;ENV" ${ARGN})
  if(GLIDEPATH_FUZZ)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
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
