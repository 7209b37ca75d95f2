/* check_pyc_config.c - configuration from the environment.
 *
 * NOTES: each test sets variables with setenv in a fixture and clears them
 * in teardown, so tests do not leak settings into each other (Check runs
 * each test in its own forked process anyway).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pyc_config.h"

static const char *const all_vars[] = {"DATA_DIR", "RUN_DIR", "LOG_LEVEL",
    "LOG_FORMAT", "BACKEND_PORT", "WS_PORT", "WORKER_LISTEN_URL",
    "GATEWAY_URL", "DSP_POOL_SPARE", "DSP_POOL_MAX", "DSP_MAX_BACKLOG_SECONDS",
    "RECORDINGS_DIR", "DSP_HOST_ID", "FRONTEND_URL", NULL};

static void setup(void)
{
	for (int i = 0; all_vars[i] != NULL; i++)
		unsetenv(all_vars[i]);
}

START_TEST(test_pyc_config_defaults)
{
	pyc_config c;
	char err[256] = "";
	char cwd[512];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(pyc_config_load(&c, err, sizeof(err)), PYC_OK);
	ck_assert_int_eq(c.backend_port, 8000);
	ck_assert_int_eq(c.ws_port, 0);
	ck_assert_int_eq(c.session_grace_s, 30);
	ck_assert_int_eq(c.log_level, PYC_LOG_INFO);
	ck_assert_int_eq(c.log_format, PYC_LOG_TEXT);
	/* relative defaults are made absolute against the working directory */
	char want[1024];
	snprintf(want, sizeof(want), "%s/data", cwd);
	ck_assert_str_eq(c.data_dir, want);
	snprintf(want, sizeof(want), "%s/data/recordings", cwd);
	ck_assert_str_eq(c.recordings_dir, want);
	snprintf(want, sizeof(want), "ipc://%s/run/workers.ipc", cwd);
	ck_assert_str_eq(c.worker_listen, want);
	ck_assert_str_eq(c.gateway_url, want);
	ck_assert_int_eq(c.retention_s, 0);
	ck_assert(c.host_id[0] != '\0');
}
END_TEST

START_TEST(test_pyc_config_overrides)
{
	pyc_config c;
	setenv("DATA_DIR", "/srv/pyc", 1);
	setenv("BACKEND_PORT", "9000", 1);
	setenv("LOG_FORMAT", "json", 1);
	setenv("LOG_LEVEL", "debug", 1);
	setenv("DSP_MAX_BACKLOG_SECONDS", "0.5", 1);
	setenv("GATEWAY_URL", "tcp://gateway:7000", 1);
	setenv("DSP_HOST_ID", "worker-7", 1);
	ck_assert_int_eq(pyc_config_load(&c, NULL, 0), PYC_OK);
	ck_assert_int_eq(c.backend_port, 9000);
	ck_assert_int_eq(c.log_format, PYC_LOG_JSON);
	ck_assert_int_eq(c.log_level, PYC_LOG_DEBUG);
	ck_assert_double_eq_tol(c.max_backlog_s, 0.5, 1e-12);
	ck_assert_str_eq(c.recordings_dir, "/srv/pyc/recordings");
	ck_assert_str_eq(c.db_path, "/srv/pyc/pycoustics.db");
	ck_assert_str_eq(c.gateway_url, "tcp://gateway:7000");
	ck_assert_str_eq(c.host_id, "worker-7");
}
END_TEST

static void expect_bad(const char *name, const char *value, const char *needle)
{
	pyc_config c;
	char err[256] = "";
	setup();
	setenv(name, value, 1);
	ck_assert_int_eq(pyc_config_load(&c, err, sizeof(err)), PYC_EINVAL);
	ck_assert_msg(strstr(err, name) != NULL, "message '%s' names %s", err, name);
	ck_assert_msg(strstr(err, needle) != NULL, "message '%s' says '%s'", err, needle);
	unsetenv(name);
}

START_TEST(test_pyc_config_bad_values)
{
	expect_bad("BACKEND_PORT", "abc", "from 1 to 65535");
	expect_bad("BACKEND_PORT", "0", "from 1 to 65535");
	expect_bad("BACKEND_PORT", "65536", "from 1 to 65535");
	expect_bad("BACKEND_PORT", "80x", "integer");
	expect_bad("BACKEND_PORT", "", "integer");
	expect_bad("WS_PORT", "99999999999999999999", "integer");
	expect_bad("LOG_LEVEL", "loud", "debug, info, warn, error");
	expect_bad("LOG_FORMAT", "xml", "text or json");
	expect_bad("DSP_MAX_BACKLOG_SECONDS", "nan", "number from");
	expect_bad("DSP_MAX_BACKLOG_SECONDS", "inf", "number from");
	expect_bad("DSP_MAX_BACKLOG_SECONDS", "1000", "number from");
	expect_bad("WORKER_LISTEN_URL", "http://x", "nng URL");
	expect_bad("WORKER_LISTEN_URL", "tcp://", "nng URL");
	expect_bad("RECORDINGS_DIR", "", "non-empty");
	char longpath[700];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	expect_bad("FRONTEND_URL", longpath, "at most");
	char longipc[200] = "ipc:///";
	memset(longipc + 7, 'b', 150);
	longipc[157] = '\0';
	expect_bad("GATEWAY_URL", longipc, "107 bytes");
	/* a DATA_DIR so long that the derived defaults no longer fit */
	longpath[500] = '\0';
	longpath[0] = '/';
	expect_bad("DATA_DIR", longpath, "shorter");
}
END_TEST

START_TEST(test_pyc_config_cross_check)
{
	pyc_config c;
	char err[256];
	setenv("DSP_POOL_SPARE", "10", 1);
	setenv("DSP_POOL_MAX", "5", 1);
	ck_assert_int_eq(pyc_config_load(&c, err, sizeof(err)), PYC_EINVAL);
	ck_assert(strstr(err, "DSP_POOL_SPARE") != NULL);
}
END_TEST

START_TEST(test_pyc_config_exit_code)
{
	/* A bad value stops a service with exit code 2 and a message. */
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pyc_config c;
		setenv("WS_PORT", "-3", 1);
		freopen("/dev/null", "w", stderr);
		pyc_config_load_or_exit(&c, "test");
		_exit(0);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 2);
}
END_TEST

START_TEST(test_pyc_config_mkdirs)
{
	char tmpl[] = "/tmp/pyc-cfg-XXXXXX";
	char path[256];
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(path, sizeof(path), "%s/a/b/c", tmpl);
	ck_assert_int_eq(pyc_mkdirs(path), PYC_OK);
	ck_assert_int_eq(pyc_mkdirs(path), PYC_OK);
	snprintf(path, sizeof(path), "ipc://%s/x/y/sock.ipc", tmpl);
	ck_assert_int_eq(pyc_config_prepare_url(path), PYC_OK);
	snprintf(path, sizeof(path), "%s/x/y", tmpl);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(pyc_config_prepare_url("tcp://127.0.0.1:5000"), PYC_OK);
	/* a file in the way */
	snprintf(path, sizeof(path), "%s/file", tmpl);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_ne(pyc_mkdirs(path), PYC_OK);
	ck_assert_int_eq(pyc_mkdirs(""), PYC_EINVAL);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_pyc_config_table_and_log)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	pyc_config c;
	pyc_config_print_table(f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "| `BACKEND_PORT` | `8000` |"));
	ck_assert_ptr_nonnull(strstr(text, "`SESSION_GRACE_SECONDS`"));
	free(text);
	ck_assert_int_eq(pyc_config_load(&c, NULL, 0), PYC_OK);
	pyc_log_init("test", PYC_LOG_WARN, PYC_LOG_TEXT);
	pyc_config_log(&c); /* below the level: nothing written */
}
END_TEST

static Suite *pyc_config_suite(void)
{
	Suite *s = suite_create("pyc_config");
	TCase *core = tcase_create("core");
	TCase *errors = tcase_create("errors");
	tcase_add_checked_fixture(core, setup, NULL);
	tcase_add_checked_fixture(errors, setup, NULL);
	tcase_add_test(core, test_pyc_config_defaults);
	tcase_add_test(core, test_pyc_config_overrides);
	tcase_add_test(core, test_pyc_config_mkdirs);
	tcase_add_test(core, test_pyc_config_table_and_log);
	tcase_add_test(errors, test_pyc_config_bad_values);
	tcase_add_test(errors, test_pyc_config_cross_check);
	tcase_add_test(errors, test_pyc_config_exit_code);
	suite_add_tcase(s, core);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	SRunner *sr = srunner_create(pyc_config_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
