# recorder tests: module unit tests and integration tests against the real pyc-recorder.
add_library(it_recorder_util STATIC ${CMAKE_CURRENT_LIST_DIR}/it_recorder_util.c)
target_link_libraries(it_recorder_util PUBLIC pyc_testproc pyc_common PkgConfig::SNDFILE nng::nng)
target_include_directories(it_recorder_util PUBLIC ${CMAKE_CURRENT_LIST_DIR})

pyc_check_test(check_rec_wav SOURCES check_rec_wav.c
  LIBS pyc_recorder pyc_testproc PkgConfig::SNDFILE TIMEOUT 30 LABELS recorder)
pyc_check_test(check_rec_db SOURCES check_rec_db.c
  LIBS pyc_recorder pyc_testproc pyc_cjson SQLite::SQLite3 TIMEOUT 30 LABELS recorder)

pyc_check_test(it_recorder_basic SOURCES it_recorder_basic.c
  LIBS it_recorder_util pyc_cjson TIMEOUT 240 LABELS recorder)
add_dependencies(it_recorder_basic pyc-recorder)

pyc_check_test(it_recorder_crash SOURCES it_recorder_crash.c
  LIBS it_recorder_util pyc_cjson TIMEOUT 180 LABELS recorder)
add_dependencies(it_recorder_crash pyc-recorder)

pyc_check_test(it_recorder_bad SOURCES it_recorder_bad.c
  LIBS it_recorder_util TIMEOUT 120 LABELS recorder)
add_dependencies(it_recorder_bad pyc-recorder)

pyc_check_test(it_recorder_enospc SOURCES it_recorder_enospc.c
  LIBS it_recorder_util TIMEOUT 90 LABELS recorder)
add_dependencies(it_recorder_enospc pyc-recorder)
set_tests_properties(pycoustics.it_recorder_enospc PROPERTIES SKIP_RETURN_CODE 77)
