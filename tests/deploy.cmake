# Deployment checks: compose files and Dockerfiles (no Docker engine needed).
add_test(NAME pycoustics.deploy_compose
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/deploy/check_deploy.py)
set_tests_properties(pycoustics.deploy_compose PROPERTIES TIMEOUT 300 LABELS deploy)
