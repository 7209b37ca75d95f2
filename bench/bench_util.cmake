# bench_util: the benchmarks' /proc readers (CPU time, memory), one library for all.
add_library(bench_util STATIC ${CMAKE_CURRENT_LIST_DIR}/bench_util.c)
target_include_directories(bench_util PUBLIC ${CMAKE_CURRENT_LIST_DIR})
