# Whole-system tests: the real recorder, dsp-worker host and gateway,
# driven over WebSocket and HTTP as a browser would (it_system_*.c).
add_library(it_system_util STATIC
  ${CMAKE_CURRENT_LIST_DIR}/it_system_util.c
  ${CMAKE_CURRENT_LIST_DIR}/gw_testclient.c)
target_include_directories(it_system_util PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(it_system_util PUBLIC PkgConfig::CHECK pyc_testproc pyc_common pyc_cjson websockets m)

file(GLOB _it_system ${CMAKE_CURRENT_LIST_DIR}/it_system_*.c)
list(FILTER _it_system EXCLUDE REGEX "it_system_util\\.c$")
foreach(src ${_it_system})
  get_filename_component(t ${src} NAME_WE)
  pyc_check_test(${t} SOURCES ${src} LIBS it_system_util TIMEOUT 120 LABELS system)
  add_dependencies(${t} pyc-gateway pyc-dsp-worker pyc-recorder)
endforeach()
