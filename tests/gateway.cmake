# Unit tests of the gateway's modules (gw_core).
pyc_check_test(check_gw_proto SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_gw_proto.c
  LIBS gw_core TIMEOUT 30)
pyc_check_test(check_gw_head SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_gw_head.c
  LIBS gw_core TIMEOUT 30)
