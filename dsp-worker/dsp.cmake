# dw_dsp: the DSP engine (pipeline, filter, FFT, levels, loudness, spectrum,
# waveform), a static library the worker executable, the tests and the
# benchmark link.
add_library(dw_dsp STATIC
  ${CMAKE_CURRENT_LIST_DIR}/dw_pipeline.c
  ${CMAKE_CURRENT_LIST_DIR}/dw_filter.c
  ${CMAKE_CURRENT_LIST_DIR}/dw_fft.c
  ${CMAKE_CURRENT_LIST_DIR}/dw_levels.c
  ${CMAKE_CURRENT_LIST_DIR}/dw_loudness.c
  ${CMAKE_CURRENT_LIST_DIR}/dw_spectrum.c
  ${CMAKE_CURRENT_LIST_DIR}/dw_waveform.c)
target_include_directories(dw_dsp PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(dw_dsp PUBLIC pyc_common kissfft::kissfft-float
  PkgConfig::EBUR128 m)
# No errno from libm calls in the hot paths; -O3 for the block loops
# (coverage builds keep their -O0).
target_compile_options(dw_dsp PRIVATE -fno-math-errno)
if(NOT PYC_COVERAGE)
  target_compile_options(dw_dsp PRIVATE -O3)
endif()
