# dsp-worker host: the pyc-dsp-worker executable (host, workers, health probe).
# The DSP engine comes from dsp.cmake as the static library dw_dsp.
add_library(dw_hostlib STATIC
  ${CMAKE_CURRENT_LIST_DIR}/dw_host.c
  ${CMAKE_CURRENT_LIST_DIR}/dw_session.c
  ${CMAKE_CURRENT_LIST_DIR}/dw_meter_json.c
  ${CMAKE_CURRENT_LIST_DIR}/dw_proctitle.c)
target_include_directories(dw_hostlib PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(dw_hostlib PUBLIC pyc_common pyc_cjson nng::nng Threads::Threads m)
if(TARGET dw_dsp)
  target_link_libraries(dw_hostlib PUBLIC dw_dsp)
endif()

add_executable(pyc-dsp-worker ${CMAKE_CURRENT_LIST_DIR}/main.c)
target_link_libraries(pyc-dsp-worker PRIVATE dw_hostlib)
