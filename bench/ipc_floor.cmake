# bench_ipc_floor: the cost of one chunk's round trip between two processes
# over a Unix socket, nng pair1 and nng's stream API (a program, not a test).
add_executable(bench_ipc_floor ${CMAKE_CURRENT_LIST_DIR}/bench_ipc_floor.c)
target_link_libraries(bench_ipc_floor PRIVATE bench_util nng::nng Threads::Threads)
