# Fault injection: processes killed and stopped, disk full and I/O errors,
# power loss, allocation failure (tests/faults/). Short forms run by ctest
# under the label "faults"; PYC_FAULTS_LONG=1 runs the long forms.
set(_fdir ${CMAKE_CURRENT_LIST_DIR}/faults)

# LD_PRELOAD shims: never sanitized themselves (they run inside sanitized
# binaries, and an instrumented malloc wrapper would recurse).
foreach(shim failio failmalloc powercut)
  add_library(pyc_${shim} MODULE ${_fdir}/${shim}.c)
  set_target_properties(pyc_${shim} PROPERTIES PREFIX "" OUTPUT_NAME ${shim}
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/faults)
  target_compile_options(pyc_${shim} PRIVATE -fno-sanitize=all -fno-profile-arcs -fno-test-coverage -Wno-pedantic)
  target_link_options(pyc_${shim} PRIVATE -fno-sanitize=all)
  target_link_libraries(pyc_${shim} PRIVATE dl pthread)
endforeach()

set(_fsan 0)
if(PYC_SANITIZE)
  set(_fsan 1)
endif()

foreach(t it_faults_disk)
  pyc_check_test(${t} SOURCES ${_fdir}/${t}.c LIBS it_system_util SQLite::SQLite3 PkgConfig::SNDFILE
    TIMEOUT 150 LABELS faults)
  target_include_directories(${t} PRIVATE ${_fdir})
  target_compile_definitions(${t} PRIVATE PYC_FAULTS_SANITIZE=${_fsan})
  add_dependencies(${t} pyc-gateway pyc-dsp-worker pyc-recorder pyc_failio)
endforeach()

pyc_check_test(it_faults_power SOURCES ${_fdir}/it_faults_power.c
  LIBS it_recorder_util SQLite::SQLite3 PkgConfig::SNDFILE TIMEOUT 150 LABELS faults)
target_include_directories(it_faults_power PRIVATE ${_fdir})
target_compile_definitions(it_faults_power PRIVATE PYC_FAULTS_SANITIZE=${_fsan})
add_dependencies(it_faults_power pyc-recorder pyc_powercut)

# Allocation failure at start-up and session open (main-thread count, so
# the same N fails the same call each run).
pyc_check_test(it_faults_oom SOURCES ${_fdir}/it_faults_oom.c
  LIBS it_system_util it_recorder_util TIMEOUT 200 LABELS faults)
target_include_directories(it_faults_oom PRIVATE ${_fdir})
target_compile_definitions(it_faults_oom PRIVATE PYC_FAULTS_SANITIZE=${_fsan})
add_dependencies(it_faults_oom pyc-gateway pyc-dsp-worker pyc-recorder pyc_failmalloc)
# the shim unwinds the failing call's stack: libgcc's unwinder linked in
target_link_libraries(pyc_failmalloc PRIVATE gcc_s)

# Processes killed and stopped: a worker, a worker host, the recorder, the
# gateway (SIGKILL, SIGSTOP/SIGCONT, SIGTERM), each test on its own system.
pyc_check_test(it_faults_kill SOURCES ${_fdir}/it_faults_kill.c
  LIBS it_system_util SQLite::SQLite3 PkgConfig::SNDFILE TIMEOUT 240 LABELS faults)
target_include_directories(it_faults_kill PRIVATE ${_fdir})
target_compile_definitions(it_faults_kill PRIVATE PYC_FAULTS_SANITIZE=${_fsan})
add_dependencies(it_faults_kill pyc-gateway pyc-dsp-worker pyc-recorder)
