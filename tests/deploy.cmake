# Deployment checks: compose files and Dockerfiles (no Docker engine needed).
add_test(NAME pycoustics.deploy_compose
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/deploy/check_deploy.py)
set_tests_properties(pycoustics.deploy_compose PROPERTIES TIMEOUT 300 LABELS deploy)

# Needs the real binaries; the nginx test also needs the built dashboard
# (make test builds it first).
add_test(NAME pycoustics.deploy_nginx_proxy
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/deploy/it_nginx_proxy.py ${PROJECT_BINARY_DIR})
set_tests_properties(pycoustics.deploy_nginx_proxy PROPERTIES TIMEOUT 120 LABELS "deploy;system")
add_test(NAME pycoustics.deploy_multihost
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/deploy/it_multihost.py ${PROJECT_BINARY_DIR})
set_tests_properties(pycoustics.deploy_multihost PROPERTIES TIMEOUT 180 SKIP_RETURN_CODE 77
  LABELS "deploy;system" RUN_SERIAL TRUE)
# `make run`'s supervisor on a non-default port, used by a client with one
# base URL for HTTP and the WebSocket (the earlier system's way).
add_test(NAME pycoustics.deploy_run_local
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/deploy/it_run_local.py ${PROJECT_BINARY_DIR})
set_tests_properties(pycoustics.deploy_run_local PROPERTIES TIMEOUT 120 LABELS "deploy;system")
