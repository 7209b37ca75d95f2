# bench_recorder: N concurrent 48 kHz stereo recordings against the real pyc-recorder.
add_executable(bench_recorder ${CMAKE_CURRENT_LIST_DIR}/bench_recorder.c)
target_link_libraries(bench_recorder PRIVATE bench_util pyc_common nng::nng Threads::Threads)
target_compile_definitions(bench_recorder PRIVATE PYC_BINARY_DIR="${PROJECT_BINARY_DIR}")
add_dependencies(bench_recorder pyc-recorder)
