/* it_health.c - the `--health` modes the container healthchecks run.
 *
 * NOTES: runs the real binaries: `pyc-recorder --health` and
 * `pyc-gateway --health` must say 1 while the service is down and 0 once
 * it answers; the TCP probe must tell an open
 * port from a closed one.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pyc_health.h"
#include "pyc_testproc.h"

static char *dir;
static char env_run[600], env_data[600], env_level[] = "LOG_LEVEL=warn";

static void setup(void)
{
	dir = pyc_tmpdir_new();
	ck_assert_ptr_nonnull(dir);
	snprintf(env_run, sizeof(env_run), "RUN_DIR=%s/run", dir);
	snprintf(env_data, sizeof(env_data), "DATA_DIR=%s/data", dir);
}

static void teardown(void)
{
	pyc_tmpdir_remove(dir);
	free(dir);
}

static int run_health_of(const char *path, char **env)
{
	char *argv[] = {(char *) path, "--health", NULL};
	pyc_proc p;
	ck_assert_int_eq(pyc_proc_start(&p, path, argv, env), 0);
	ck_assert(pyc_proc_wait(&p, 10000));
	ck_assert(WIFEXITED(p.status));
	return WEXITSTATUS(p.status);
}

static int run_health(void)
{
	char *env[] = {env_run, env_data, env_level, NULL};
	return run_health_of("recorder/pyc-recorder", env);
}

START_TEST(test_health_recorder_probe)
{
	char *env[] = {env_run, env_data, env_level, NULL};
	char url[700], json[512];
	pyc_proc rec;

	ck_assert_int_eq(run_health(), 1);
	ck_assert_int_eq(pyc_proc_start(&rec, "recorder/pyc-recorder", NULL, env), 0);
	snprintf(url, sizeof(url), "%s/run/recorder-ctl.ipc", dir);
	ck_assert(pyc_wait_for_path(url, 5000));
	ck_assert_int_eq(run_health(), 0);
	snprintf(url, sizeof(url), "ipc://%s/run/recorder-ctl.ipc", dir);
	ck_assert_int_eq(pyc_health_request(url, 3000, json, sizeof(json)), PYC_OK);
	ck_assert_ptr_nonnull(strstr(json, "\"status\":\"ok\""));
	pyc_proc_stop(&rec, SIGTERM, 10000);
	ck_assert(WIFEXITED(rec.status) && WEXITSTATUS(rec.status) == 0);
	ck_assert_int_eq(run_health(), 1);
}
END_TEST

/* The gateway's one public port: --health probes it. */
START_TEST(test_health_gateway_probe)
{
	char http[32], bind[] = "BIND_ADDRESS=127.0.0.1";
	int hp = pyc_free_port();
	pyc_proc gw;
	snprintf(http, sizeof(http), "BACKEND_PORT=%d", hp);
	char *env[] = {env_run, env_data, env_level, http, bind, NULL};

	ck_assert_int_eq(run_health_of("gateway/pyc-gateway", env), 1);
	ck_assert_int_eq(pyc_proc_start(&gw, "gateway/pyc-gateway", NULL, env), 0);
	ck_assert(pyc_wait_for_port(hp, 5000));
	ck_assert_int_eq(run_health_of("gateway/pyc-gateway", env), 0);
	pyc_proc_stop(&gw, SIGTERM, 10000);
	ck_assert(WIFEXITED(gw.status) && WEXITSTATUS(gw.status) == 0);
	ck_assert_int_eq(run_health_of("gateway/pyc-gateway", env), 1);
}
END_TEST

/* With the optional extra WebSocket listener (WS_PORT), the gateway
 * listens there too and --health probes both: unhealthy while another
 * gateway's WS_PORT is not up. */
START_TEST(test_health_gateway_probe_extra_ws_port)
{
	char http[32], ws[32], bind[] = "BIND_ADDRESS=127.0.0.1";
	int hp = pyc_free_port(), wp;
	do
		wp = pyc_free_port();
	while (wp == hp);
	pyc_proc gw;
	snprintf(http, sizeof(http), "BACKEND_PORT=%d", hp);
	snprintf(ws, sizeof(ws), "WS_PORT=%d", wp);
	char *env[] = {env_run, env_data, env_level, http, ws, bind, NULL};
	char *env_one[] = {env_run, env_data, env_level, http, bind, NULL};

	ck_assert_int_eq(pyc_proc_start(&gw, "gateway/pyc-gateway", NULL, env_one), 0);
	ck_assert(pyc_wait_for_port(hp, 5000));
	ck_assert_int_eq(run_health_of("gateway/pyc-gateway", env), 1); /* WS_PORT not up */
	pyc_proc_stop(&gw, SIGTERM, 10000);
	ck_assert_int_eq(pyc_proc_start(&gw, "gateway/pyc-gateway", NULL, env), 0);
	ck_assert(pyc_wait_for_port(hp, 5000));
	ck_assert(pyc_wait_for_port(wp, 5000));
	ck_assert_int_eq(run_health_of("gateway/pyc-gateway", env), 0);
	pyc_proc_stop(&gw, SIGTERM, 10000);
	ck_assert(WIFEXITED(gw.status) && WEXITSTATUS(gw.status) == 0);
	ck_assert_int_eq(run_health_of("gateway/pyc-gateway", env), 1);
}
END_TEST

START_TEST(test_health_tcp_probe)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &a, &len), 0);
	int port = ntohs(a.sin_port);
	ck_assert_int_eq(pyc_health_tcp("127.0.0.1", port, 1000), PYC_OK);
	close(fd);
	ck_assert_int_ne(pyc_health_tcp("127.0.0.1", port, 1000), PYC_OK);
	ck_assert_int_eq(pyc_health_tcp("no such host name.invalid", 1, 100), PYC_EINVAL);
}
END_TEST

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	Suite *s = suite_create("health");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_health_recorder_probe);
	tcase_add_test(tc, test_health_gateway_probe);
	tcase_add_test(tc, test_health_gateway_probe_extra_ws_port);
	tcase_add_test(tc, test_health_tcp_probe);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
