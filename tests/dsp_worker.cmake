# Integration suites of the dsp-worker host: the real pyc-dsp-worker with a
# stand-in gateway (it_dsp_worker_util.c). They need the binary built first.
add_library(it_dsp_worker_util STATIC ${CMAKE_CURRENT_LIST_DIR}/it_dsp_worker_util.c)
target_link_libraries(it_dsp_worker_util PUBLIC pyc_common pyc_testproc nng::nng Threads::Threads m)
target_include_directories(it_dsp_worker_util PUBLIC ${CMAKE_CURRENT_LIST_DIR})

foreach(t it_dsp_worker_pool it_dsp_worker_stream it_dsp_worker_record it_dsp_worker_crash)
  pyc_check_test(${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/${t}.c
    LIBS it_dsp_worker_util pyc_testproc dw_dsp pyc_cjson TIMEOUT 200 LABELS integration)
  add_dependencies(${t} pyc-dsp-worker)
endforeach()
