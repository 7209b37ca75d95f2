# Fuzz targets of the input parsers (tests/fuzz/fuzz_<name>.c).
#
# Each target compiles the project sources it exercises into its own
# executable, so those sources carry the target's instrumentation:
#  - PYC_FUZZ=ON (clang, scripts/fuzz.sh): fuzz_<name>, a libFuzzer binary
#    with ASan + UBSan, run on a scratch copy of its seed corpus;
#  - otherwise: fuzz_<name>_replay, the same target with a plain main()
#    (fuzz_replay.c) that runs every committed seed and crasher once;
#    registered with ctest as pycoustics.fuzz_<name> (label "fuzz"), so the
#    normal and the sanitizer builds both replay them.
set(PYC_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR}/fuzz)
set(_pyc_common_src
  ${PROJECT_SOURCE_DIR}/common/pyc_err.c
  ${PROJECT_SOURCE_DIR}/common/pyc_log.c
  ${PROJECT_SOURCE_DIR}/common/pyc_config.c
  ${PROJECT_SOURCE_DIR}/common/pyc_id.c
  ${PROJECT_SOURCE_DIR}/common/pyc_wire.c
  ${PROJECT_SOURCE_DIR}/common/pyc_params.c)
set(_pyc_gw_src
  ${PROJECT_SOURCE_DIR}/gateway/gw_sessions.c
  ${PROJECT_SOURCE_DIR}/gateway/gw_proto.c
  ${PROJECT_SOURCE_DIR}/gateway/gw_metrics.c
  ${PROJECT_SOURCE_DIR}/gateway/gw_buf.c
  ${PYC_FUZZ_DIR}/fuzz_gw_fakes.c)
set(_pyc_dsp_src
  ${PROJECT_SOURCE_DIR}/dsp-worker/dw_pipeline.c
  ${PROJECT_SOURCE_DIR}/dsp-worker/dw_filter.c
  ${PROJECT_SOURCE_DIR}/dsp-worker/dw_fft.c
  ${PROJECT_SOURCE_DIR}/dsp-worker/dw_levels.c
  ${PROJECT_SOURCE_DIR}/dsp-worker/dw_loudness.c
  ${PROJECT_SOURCE_DIR}/dsp-worker/dw_spectrum.c
  ${PROJECT_SOURCE_DIR}/dsp-worker/dw_waveform.c
  ${PROJECT_SOURCE_DIR}/dsp-worker/dw_meter_json.c)

# pyc_fuzz_target(NAME SOURCES... LIBS...)
function(pyc_fuzz_target name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  if(PYC_FUZZ)
    set(exe fuzz_${name})
    add_executable(${exe} ${PYC_FUZZ_DIR}/fuzz_${name}.c ${F_SOURCES})
    target_compile_options(${exe} PRIVATE -O1 -g -fno-omit-frame-pointer
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
    target_link_options(${exe} PRIVATE -fsanitize=fuzzer,address,undefined)
  else()
    set(exe fuzz_${name}_replay)
    add_executable(${exe} ${PYC_FUZZ_DIR}/fuzz_${name}.c ${PYC_FUZZ_DIR}/fuzz_replay.c
      ${F_SOURCES})
    add_test(NAME pycoustics.fuzz_${name} COMMAND ${exe}
      ${PYC_FUZZ_DIR}/corpus/${name} ${PYC_FUZZ_DIR}/crashers/${name})
    set_tests_properties(pycoustics.fuzz_${name} PROPERTIES TIMEOUT 120 LABELS fuzz)
  endif()
  target_include_directories(${exe} PRIVATE ${PYC_FUZZ_DIR} ${PROJECT_SOURCE_DIR}/common
    ${PROJECT_SOURCE_DIR}/gateway ${PROJECT_SOURCE_DIR}/recorder
    ${PROJECT_SOURCE_DIR}/dsp-worker)
  target_link_libraries(${exe} PRIVATE ${F_LIBS} nng::nng Threads::Threads m)
endfunction()

pyc_fuzz_target(ws_command SOURCES ${_pyc_gw_src} ${_pyc_common_src} LIBS pyc_cjson)
pyc_fuzz_target(ws_binary SOURCES ${_pyc_gw_src} ${_pyc_dsp_src} ${_pyc_common_src}
  LIBS pyc_cjson kissfft::kissfft-float PkgConfig::EBUR128)
pyc_fuzz_target(wire SOURCES ${_pyc_common_src} LIBS pyc_cjson)
pyc_fuzz_target(link SOURCES ${PROJECT_SOURCE_DIR}/common/pyc_link.c
  ${PROJECT_SOURCE_DIR}/common/pyc_sock.c ${_pyc_common_src}
  LIBS pyc_cjson)
pyc_fuzz_target(http_route SOURCES ${PROJECT_SOURCE_DIR}/gateway/gw_route.c
  ${PROJECT_SOURCE_DIR}/gateway/gw_proto.c ${PROJECT_SOURCE_DIR}/recorder/rec_name.c
  ${_pyc_common_src} LIBS pyc_cjson)
pyc_fuzz_target(listen_head SOURCES ${PROJECT_SOURCE_DIR}/gateway/gw_head.c
  ${_pyc_common_src} LIBS pyc_cjson)
pyc_fuzz_target(wav_repair SOURCES ${PROJECT_SOURCE_DIR}/recorder/rec_wav.c
  ${_pyc_common_src} LIBS pyc_cjson PkgConfig::SNDFILE)

# The seed writer (tests/fuzz/fuzz_seeds.c): not a test, run by
# scripts/fuzz.sh --seeds to regenerate tests/fuzz/corpus.
if(NOT PYC_FUZZ)
  add_executable(fuzz_seeds ${PYC_FUZZ_DIR}/fuzz_seeds.c ${PROJECT_SOURCE_DIR}/recorder/rec_wav.c
    ${_pyc_common_src})
  target_include_directories(fuzz_seeds PRIVATE ${PROJECT_SOURCE_DIR}/common
    ${PROJECT_SOURCE_DIR}/recorder)
  target_link_libraries(fuzz_seeds PRIVATE pyc_cjson PkgConfig::SNDFILE nng::nng Threads::Threads m)
endif()
