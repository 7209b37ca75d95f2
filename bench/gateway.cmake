# bench_gateway: N real-time WebSocket sessions through the whole system
# (a program, not a test): latency, losses, CPU per chunk of each process.
add_executable(bench_gateway ${CMAKE_CURRENT_LIST_DIR}/bench_gateway.c
  ${PROJECT_SOURCE_DIR}/tests/pyc_testproc.c)
target_include_directories(bench_gateway PRIVATE ${PROJECT_SOURCE_DIR}/tests)
target_compile_definitions(bench_gateway PRIVATE PYC_BINARY_DIR="${PROJECT_BINARY_DIR}")
target_link_libraries(bench_gateway PRIVATE bench_util websockets m)
add_dependencies(bench_gateway pyc-gateway pyc-dsp-worker pyc-recorder)
