# Check suites of the DSP engine (dsp-worker/dw_*), against SciPy golden data
# in tests/golden (written by tests/golden/make_golden.py).
foreach(t check_dw_filter check_dw_fft check_dw_spectrum check_dw_levels check_dw_pipeline)
  pyc_check_test(${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/${t}.c LIBS dw_dsp TIMEOUT 120 LABELS dsp)
endforeach()
