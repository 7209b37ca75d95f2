# gateway: pyc-gateway and gw_core, the static library of its testable modules.

# The OpenAPI document is compiled in as a byte array.
set(_openapi ${CMAKE_CURRENT_SOURCE_DIR}/openapi.json)
set(_openapi_c ${CMAKE_CURRENT_BINARY_DIR}/gw_openapi_data.c)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_openapi})
file(READ ${_openapi} _hex HEX)
string(LENGTH "${_hex}" _hexlen)
math(EXPR _len "${_hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _bytes "${_hex}")
file(WRITE ${_openapi_c}.tmp
  "/* gw_openapi_data.c - generated from gateway/openapi.json; do not edit. */\n"
  "#include <stddef.h>\n"
  "const unsigned char gw_openapi_json[] = {${_bytes} 0x00};\n"
  "const size_t gw_openapi_json_len = ${_len};\n")
configure_file(${_openapi_c}.tmp ${_openapi_c} COPYONLY)

add_library(gw_core STATIC
  gw_proto.c
  gw_metrics.c
  gw_recorder.c
  gw_workers.c
  gw_sessions.c
  gw_ws.c
  gw_http.c
  gw_listen.c
  gw_head.c
  gw_route.c
  gw_docs.c
  gw_buf.c
  ${_openapi_c})
target_include_directories(gw_core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(gw_core PUBLIC pyc_common pyc_cjson websockets PkgConfig::MHD
  nng::nng Threads::Threads)

add_executable(pyc-gateway main.c)
target_link_libraries(pyc-gateway PRIVATE gw_core)
