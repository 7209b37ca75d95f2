# The dashboard's unit tests (Vitest) and browser tests (playwright-core
# driving Debian's Chromium against the real backend). `make test` runs
# `npm ci` and the Vite build before ctest.
find_program(PYC_NPM npm)
if(PYC_NPM)
  add_test(NAME pycoustics.frontend_unit
    COMMAND ${PYC_NPM} test
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/frontend)
  set_tests_properties(pycoustics.frontend_unit PROPERTIES TIMEOUT 300 LABELS frontend)
  add_test(NAME pycoustics.frontend_e2e
    COMMAND ${PYC_NPM} run test:e2e
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/frontend)
  set_tests_properties(pycoustics.frontend_e2e PROPERTIES TIMEOUT 400 LABELS "frontend;system"
    RUN_SERIAL TRUE
    ENVIRONMENT "PYC_BUILD_DIR=${PROJECT_BINARY_DIR};PYC_E2E_REQUIRED=1")
endif()
