# recorder: the pyc-recorder service (WAV writing, SQLite metadata, clean-up).
# The modules are a static library so the Check tests can link them.
add_library(pyc_recorder STATIC
  ${CMAKE_CURRENT_LIST_DIR}/rec_name.c
  ${CMAKE_CURRENT_LIST_DIR}/rec_wav.c
  ${CMAKE_CURRENT_LIST_DIR}/rec_db.c
  ${CMAKE_CURRENT_LIST_DIR}/rec_json.c
  ${CMAKE_CURRENT_LIST_DIR}/rec_table.c
  ${CMAKE_CURRENT_LIST_DIR}/rec_writer.c
  ${CMAKE_CURRENT_LIST_DIR}/rec_stream.c
  ${CMAKE_CURRENT_LIST_DIR}/rec_ctl.c
  ${CMAKE_CURRENT_LIST_DIR}/rec_cleanup.c)
target_include_directories(pyc_recorder PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(pyc_recorder PUBLIC pyc_common pyc_cjson PkgConfig::SNDFILE
  SQLite::SQLite3 nng::nng Threads::Threads)

add_executable(pyc-recorder ${CMAKE_CURRENT_LIST_DIR}/main.c)
target_link_libraries(pyc-recorder PRIVATE pyc_recorder)
