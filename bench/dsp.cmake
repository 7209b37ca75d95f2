# bench_dsp: throughput of the DSP engine's whole chain (a program, not a
# test); it runs bench/bench_dsp_scipy.py for the NumPy/SciPy comparison.
add_executable(bench_dsp ${CMAKE_CURRENT_LIST_DIR}/bench_dsp.c)
target_link_libraries(bench_dsp PRIVATE dw_dsp m)
target_compile_definitions(bench_dsp PRIVATE PYC_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
