# Hostile-client tests (tests/hostile/): raw WebSocket frames against RFC 6455
# (in the Autobahn testsuite's categories), WebSocket and HTTP attacks, slow
# clients (Debian's slowhttptest) and connection exhaustion, each against the
# real recorder, dsp-worker host and gateway with a canary session streaming.
set(_hostile_dir ${CMAKE_CURRENT_LIST_DIR}/hostile)
foreach(t ws_conformance hostile_ws hostile_http hostile_exhaust)
  add_test(NAME pycoustics.${t}
    COMMAND /usr/bin/python3 ${_hostile_dir}/${t}.py ${PROJECT_BINARY_DIR})
  set_tests_properties(pycoustics.${t} PROPERTIES TIMEOUT 180 LABELS "system;hostile")
endforeach()
