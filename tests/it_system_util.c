/* it_system_util.c - starting the whole system and making test signals
 * (it_system_util.h).
 *
 * NOTES: cJSON is used to read the JSON the server sends, as a browser's
 * JSON.parse would. Processes are started with PR_SET_PDEATHSIG (by
 * pyc_testproc) so a crashed test leaves nothing behind.
 */
#include "it_system_util.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

static void add_env(sys *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_env(sys *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->env[s->nenv], sizeof(s->env[0]), fmt, ap);
	va_end(ap);
	s->envp[s->nenv] = s->env[s->nenv];
	s->nenv++;
	s->envp[s->nenv] = NULL;
}

bool sys_start_gateway(sys *s)
{
	return pyc_proc_start(&s->gw, "gateway/pyc-gateway", NULL, s->envp) == 0;
}

static bool healthy(sys *s, int timeout_ms)
{
	long long end = pyc_now_ms() + timeout_ms;
	while (pyc_now_ms() < end) {
		gw_http_resp r;
		if (sys_http(s, "GET", "/health", NULL, &r) == 0) {
			bool ok = r.status == 200 && strstr(r.body, "\"idle\":0") == NULL;
			gw_http_free(&r);
			if (ok)
				return true;
		}
		pyc_sleep_ms(100);
	}
	return false;
}

bool sys_start_recorder(sys *s)
{
	return pyc_proc_start(&s->rec, "recorder/pyc-recorder", NULL, s->envp) == 0;
}

bool sys_start_host(sys *s)
{
	return pyc_proc_start(&s->host, "dsp-worker/pyc-dsp-worker", NULL, s->envp) == 0;
}

static bool start(sys *s, const char *const *extra, bool all)
{
	const char *lvl = getenv("PYC_TEST_LOG_LEVEL");
	setvbuf(stdout, NULL, _IONBF, 0);
	memset(s, 0, sizeof(*s));
	s->dir = pyc_tmpdir_new();
	s->http_port = pyc_free_port();
	s->ws_port = s->http_port; /* one public port: the WebSocket is on it too */
	add_env(s, "DATA_DIR=%s", s->dir);
	add_env(s, "RUN_DIR=%s/run", s->dir);
	add_env(s, "BACKEND_PORT=%d", s->http_port);
	add_env(s, "BIND_ADDRESS=%s", "127.0.0.1");
	add_env(s, "FRONTEND_URL=%s", SYS_ORIGIN);
	add_env(s, "LOG_LEVEL=%s", lvl ? lvl : "warn");
	add_env(s, "DSP_POOL_SPARE=%d", 4);
	add_env(s, "REQUEST_TIMEOUT_MS=%d", 10000);
	for (int i = 0; extra != NULL && extra[i] != NULL && s->nenv < 23; i++)
		add_env(s, "%s", extra[i]);
	if ((all && (!sys_start_recorder(s) || !sys_start_host(s))) || !sys_start_gateway(s)) {
		sys_stop(s);
		return false;
	}
	if (!pyc_wait_for_port(s->http_port, 10000) ||
	    (all && !healthy(s, 20000))) {
		fprintf(stderr, "system did not come up\n");
		sys_stop(s);
		return false;
	}
	return true;
}

bool sys_start(sys *s, const char *const *extra)
{
	return start(s, extra, true);
}

bool sys_start_gateway_alone(sys *s, const char *const *extra)
{
	return start(s, extra, false);
}

/* Stops one process; true if it exited by itself with status 0. */
bool sys_stop_one(pyc_proc *p, int timeout_ms)
{
	if (p->pid <= 0)
		return true;
	int st = pyc_proc_stop(p, SIGTERM, timeout_ms);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return true;
	if (WIFSIGNALED(st))
		fprintf(stderr, "%s (pid %d) ended on signal %d at shutdown\n", p->name,
		    (int) p->pid, WTERMSIG(st));
	else
		fprintf(stderr, "%s (pid %d) exited with status %d at shutdown\n", p->name,
		    (int) p->pid, WEXITSTATUS(st));
	return false;
}

bool sys_stop(sys *s)
{
	bool ok = sys_stop_one(&s->gw, 15000);
	/* the host gives its workers DW_HOST_GRACE_MS (10 s) and 2 s more
	 * after SIGKILL; under the sanitizers every worker's exit runs the
	 * leak check, which takes seconds on a loaded machine */
	ok = sys_stop_one(&s->host, 15000) && ok;
	ok = sys_stop_one(&s->rec, 10000) && ok;
	if (s->dir != NULL) {
		if (getenv("PYC_TEST_KEEP") == NULL)
			pyc_tmpdir_remove(s->dir);
		free(s->dir);
		s->dir = NULL;
	}
	return ok;
}

int sys_run(sys *s, Suite *suite)
{
	SRunner *sr = srunner_create(suite);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (!sys_stop(s)) {
		fprintf(stderr, "FAIL: a service did not exit with status 0 on SIGTERM\n");
		return EXIT_FAILURE;
	}
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

TCase *sys_tcase(Suite *suite, const char *name, double timeout_s)
{
	TCase *tc = tcase_create(name);
	tcase_set_timeout(tc, timeout_s);
	suite_add_tcase(suite, tc);
	return tc;
}

void sys_mksid(char *sid, size_t cap, const char *tag)
{
	static int n;
	snprintf(sid, cap, "%s-%d-%d-%lld", tag, (int) getpid(), ++n, pyc_now_ms() % 1000000);
}

gw_tc *sys_open_init(sys *s, const char *sid, int rate, int channels)
{
	char init[128];
	gw_tc *c = gw_tc_open(s->ws_port, sid, 5000);
	ck_assert_ptr_nonnull(c);
	snprintf(init, sizeof(init), "{\"action\":\"init\",\"sample_rate\":%d,\"channels\":%d}",
	    rate, channels);
	ck_assert_int_eq(gw_tc_send_text(c, init), 0);
	char *r = gw_tc_recv_match(c, "\"ready\"", 5000);
	ck_assert_ptr_nonnull(r);
	free(r);
	return c;
}

void sys_expect_raw_close(int fd, long long t0, int code, int min_ms, int max_ms)
{
	int got = gw_ws_raw_wait_close(fd, max_ms + 2000);
	long long took = pyc_now_ms() - t0;
	printf("closed with %d after %lld ms (expected %d after %d..%d ms)\n", got, took, code,
	    min_ms, max_ms);
	ck_assert_int_eq(got, code);
	ck_assert_int_ge(took, min_ms);
	ck_assert_int_le(took, max_ms);
}

void sys_expect_no_part_files(sys *s)
{
	char path[512];
	struct dirent *e;
	snprintf(path, sizeof(path), "%s/recordings", s->dir);
	DIR *d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		ck_assert_msg(strstr(e->d_name, ".part") == NULL, "%s left behind", e->d_name);
	closedir(d);
}

void sys_http_expect(sys *s, const char *method, const char *path, const char *extra,
    int status, const char *body)
{
	gw_http_resp r;
	ck_assert_int_eq(sys_http(s, method, path, extra, &r), 0);
	ck_assert_int_eq(r.status, status);
	if (body != NULL)
		ck_assert_str_eq(r.body, body);
	gw_http_free(&r);
}

int sys_http(sys *s, const char *method, const char *path, const char *extra,
    gw_http_resp *r)
{
	return gw_http(s->http_port, method, path, extra, r);
}

void sig_sine(int16_t *out, int frames, int channels, double rate, double freq, double amp,
    double rgain, double *phase)
{
	for (int i = 0; i < frames; i++) {
		double v = amp * sin(*phase);
		*phase += 2.0 * M_PI * freq / rate;
		if (*phase > 2.0 * M_PI)
			*phase -= 2.0 * M_PI;
		out[i * channels] = (int16_t) lrint(v * 32767.0);
		if (channels == 2)
			out[i * 2 + 1] = (int16_t) lrint(v * rgain * 32767.0);
	}
}

void sig_noise(int16_t *out, size_t samples, uint32_t *seed, int amp)
{
	for (size_t i = 0; i < samples; i++) {
		*seed = *seed * 1664525u + 1013904223u;
		out[i] = (int16_t) ((int) ((*seed >> 16) % (uint32_t) (2 * amp + 1)) - amp);
	}
}

bool json_num(const char *json, const char *field, double *out)
{
	cJSON *j = cJSON_Parse(json);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, field);
	bool ok = cJSON_IsNumber(v);
	if (ok)
		*out = v->valuedouble;
	cJSON_Delete(j);
	return ok;
}

bool json_str(const char *json, const char *field, char *out, size_t cap)
{
	cJSON *j = cJSON_Parse(json);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, field);
	bool ok = cJSON_IsString(v);
	if (ok)
		snprintf(out, cap, "%s", v->valuestring);
	cJSON_Delete(j);
	return ok;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

const uint8_t *wav_data(const char *body, size_t len, int *rate, int *channels,
    size_t *data_len)
{
	const uint8_t *p = (const uint8_t *) body;
	if (len < 12 || memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WAVE", 4) != 0)
		return NULL;
	size_t off = 12;
	while (off + 8 <= len) {
		uint32_t cl = le32(p + off + 4);
		if (memcmp(p + off, "fmt ", 4) == 0 && off + 8 + 16 <= len) {
			*channels = p[off + 10] | p[off + 11] << 8;
			*rate = (int) le32(p + off + 12);
		} else if (memcmp(p + off, "data", 4) == 0) {
			size_t n = cl;
			if (off + 8 + n > len)
				n = len - off - 8;
			*data_len = n;
			return p + off + 8;
		}
		off += 8 + cl + (cl & 1);
	}
	return NULL;
}
