# Check suites of common/.
pyc_check_test(check_pyc_wire LABELS unit)
pyc_check_test(check_pyc_config LABELS unit)
pyc_check_test(check_pyc_util LABELS unit)
pyc_check_test(check_pyc_sock LIBS pyc_testproc TIMEOUT 60 LABELS unit)
pyc_check_test(it_health LIBS pyc_testproc TIMEOUT 60 LABELS integration)
pyc_check_test(check_pyc_link LIBS pyc_testproc TIMEOUT 120 LABELS unit)
