# bench_dsp_worker: N real-time sessions on one dsp-worker host (a program,
# not a test). It plays the gateway with the integration tests' helper.
add_executable(bench_dsp_worker
  ${CMAKE_CURRENT_LIST_DIR}/bench_dsp_worker.c
  ${PROJECT_SOURCE_DIR}/tests/it_dsp_worker_util.c
  ${PROJECT_SOURCE_DIR}/tests/pyc_testproc.c)
target_include_directories(bench_dsp_worker PRIVATE ${PROJECT_SOURCE_DIR}/tests)
target_compile_definitions(bench_dsp_worker PRIVATE PYC_BINARY_DIR="${PROJECT_BINARY_DIR}")
target_link_libraries(bench_dsp_worker PRIVATE bench_util pyc_common nng::nng Threads::Threads m)
add_dependencies(bench_dsp_worker pyc-dsp-worker)
