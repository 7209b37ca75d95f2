# pyc_check_test(NAME SOURCES... [LIBS ...] [TIMEOUT s] [LABELS ...])
# Builds tests/NAME from SOURCES, links Check and LIBS, and registers it with
# CTest as pycoustics.NAME with a timeout, like nng's nng_test().
function(pyc_check_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_SOURCES)
    set(T_SOURCES ${name}.c)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 60)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE PkgConfig::CHECK pyc_common ${T_LIBS})
  target_compile_definitions(${name} PRIVATE
    PYC_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    PYC_BINARY_DIR="${PROJECT_BINARY_DIR}")
  add_test(NAME pycoustics.${name} COMMAND ${name})
  set_tests_properties(pycoustics.${name} PROPERTIES TIMEOUT ${T_TIMEOUT})
  if(T_LABELS)
    set_tests_properties(pycoustics.${name} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()

# Process helpers for integration tests (tests/pyc_testproc.c).
add_library(pyc_testproc STATIC ${PROJECT_SOURCE_DIR}/tests/pyc_testproc.c)
target_include_directories(pyc_testproc PUBLIC ${PROJECT_SOURCE_DIR}/tests)
target_compile_definitions(pyc_testproc PRIVATE PYC_BINARY_DIR="${PROJECT_BINARY_DIR}")
