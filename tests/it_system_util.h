/* it_system_util.h - the whole system for a test: the real recorder,
 * dsp-worker host and gateway on free loopback ports and ipc:// sockets in
 * a temporary folder, plus test signals.
 *
 * NOTES: sys_start waits (bounded) until /health says a worker host is
 * connected and the recorder answers, so a test starts from a working
 * system. FRONTEND_URL is http://allowed.example; LOG_LEVEL is warn unless
 * the environment sets PYC_TEST_LOG_LEVEL.
 */
#ifndef IT_SYSTEM_UTIL_H
#define IT_SYSTEM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "gw_testclient.h"
#include "pyc_testproc.h"

#define SYS_ORIGIN "http://allowed.example"

typedef struct sys {
	char *dir;
	int http_port, ws_port; /* the same: the one public port (BACKEND_PORT) */
	pyc_proc rec, host, gw;
	char env[24][600];
	char *envp[25];
	int nenv;
} sys;

/* Starts the three processes; extra is a NULL-terminated list of more
 * "NAME=value" settings (may be NULL). false if the system did not come
 * up within 20 s (everything started is stopped; the reason is printed).
 * Makes stdout unbuffered so Check's lines and the services' logs keep
 * their order. */
bool sys_start(sys *s, const char *const *extra);

/* SIGTERM to each (gateway first), SIGKILL after a bounded wait; removes
 * the folder. True only if each process that was started exited by itself
 * with status 0: a crash or a hang at shutdown is a failure (the reason is
 * printed). */
bool sys_stop(sys *s);

/* Runs the suite (forked tests), then sys_stop; EXIT_SUCCESS only if every
 * test passed and every process exited 0 on SIGTERM. */
int sys_run(sys *s, Suite *suite);

/* A TCase with a timeout, added to the suite. */
TCase *sys_tcase(Suite *suite, const char *name, double timeout_s);

/* A fresh session id "tag-pid-n-time". */
void sys_mksid(char *sid, size_t cap, const char *tag);

/* Opens /ws/audio?session_id=sid, sends init (rate, channels) and waits
 * for ready (Check-asserted; for use inside a test). */
gw_tc *sys_open_init(sys *s, const char *sid, int rate, int channels);

/* Waits on a raw WebSocket (gw_ws_raw_upgrade) for the server's close
 * frame: it must carry code and come min_ms..max_ms after t0. */
void sys_expect_raw_close(int fd, long long t0, int code, int min_ms, int max_ms);

/* A request whose answer must have this status (and this body unless
 * body is NULL); Check-asserted. */
void sys_http_expect(sys *s, const char *method, const char *path, const char *extra,
    int status, const char *body);

/* Like sys_start, but only the gateway: waits for its ports, not for
 * /health (there is no worker host and no recorder yet). */
bool sys_start_gateway_alone(sys *s, const char *const *extra);

/* No "*.part" file (a recording not finalised) is left in the recordings
 * folder; Check-asserted. */
void sys_expect_no_part_files(sys *s);

/* Starts or restarts one process (after a kill). */
bool sys_start_gateway(sys *s);
bool sys_start_recorder(sys *s);
bool sys_start_host(sys *s);

/* SIGTERM, SIGKILL after timeout_ms; true if it exited by itself with
 * status 0 (otherwise prints how it ended). */
bool sys_stop_one(pyc_proc *p, int timeout_ms);

/* GET/DELETE helpers on the HTTP port. */
int sys_http(sys *s, const char *method, const char *path, const char *extra,
    gw_http_resp *r);

/* Interleaved int16 stereo (or mono) sine of amplitude amp (0..1) at freq
 * Hz; right channel scaled by rgain. phase is advanced by frames. */
void sig_sine(int16_t *out, int frames, int channels, double rate, double freq, double amp,
    double rgain, double *phase);

/* Deterministic pseudo-random int16 samples (a per-seed LCG). */
void sig_noise(int16_t *out, size_t samples, uint32_t *seed, int amp);

/* A JSON number field of a message ("rms" -> value); false if absent. */
bool json_num(const char *json, const char *field, double *out);

/* A JSON string field, copied into out. */
bool json_str(const char *json, const char *field, char *out, size_t cap);

/* Counts the data frames of a WAV file body (16-bit PCM), checks the
 * header; returns a pointer to the data chunk and its length. */
const uint8_t *wav_data(const char *body, size_t len, int *rate, int *channels,
    size_t *data_len);

#endif /* IT_SYSTEM_UTIL_H */
