# Check suites of the DSP engine (dsp-worker/dw_*), against SciPy golden data
# in tests/golden (written by tests/golden/make_golden.py) and ffmpeg's
# loudness figures (tests/golden/make_loudness.py).
foreach(t check_dw_filter check_dw_fft check_dw_spectrum check_dw_levels check_dw_pipeline)
  pyc_check_test(${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/${t}.c LIBS dw_dsp TIMEOUT 120 LABELS dsp)
endforeach()
# The loudness suite also checks the meter JSON (dw_meter_json, in dw_hostlib).
pyc_check_test(check_dw_loudness SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_dw_loudness.c
  LIBS dw_hostlib TIMEOUT 120 LABELS dsp)
