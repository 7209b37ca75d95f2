# Load tests (tests/load/): soak, churn and REST load against the whole
# system. The short forms run in ctest (label "load"); scripts/soak.sh runs
# the long forms of the same programs (make soak). In a sanitizer build the
# programs default to fewer sessions and cycles (PYC_LOAD_SANITIZED).
add_library(load_util STATIC
  ${CMAKE_CURRENT_LIST_DIR}/load/load_client.c
  ${CMAKE_CURRENT_LIST_DIR}/load/load_util.c)
target_include_directories(load_util PUBLIC ${CMAKE_CURRENT_LIST_DIR}/load)
target_link_libraries(load_util PUBLIC it_system_util SQLite::SQLite3 Threads::Threads)
if(PYC_SANITIZE)
  target_compile_definitions(load_util PUBLIC PYC_LOAD_SANITIZED=1)
endif()

foreach(t load_soak load_churn load_rest)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/load/${t}.c)
    pyc_check_test(${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/load/${t}.c LIBS load_util
      TIMEOUT 300 LABELS load)
    add_dependencies(${t} pyc-gateway pyc-dsp-worker pyc-recorder)
    # one load test at a time: each one wants the machine's two cores
    set_tests_properties(pycoustics.${t} PROPERTIES RESOURCE_LOCK pyc_load)
  endif()
endforeach()
