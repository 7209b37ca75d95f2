/* it_recorder_util.h - driving a real pyc-recorder in tests, as a worker and as the gateway.
 *
 * NOTES: the recorder integration tests and the benchmark's checks talk
 * to the real binary over nng exactly like the dsp-worker (a pair1 dialer
 * per worker process on the stream socket) and the gateway (a req dialer
 * on the control socket) will. Every receive has a timeout, so a recorder
 * that stops answering fails the test instead of hanging it.
 */
#ifndef IT_RECORDER_UTIL_H
#define IT_RECORDER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "pyc_testproc.h"
#include "pyc_wire.h"

#define RF_TIMEOUT_MS 5000

typedef struct rf_recorder {
	char *dir;               /* temporary folder (owned) */
	char rec_dir[512];
	char db_path[512];
	char url[600];
	char ctl_url[600];
	char envbuf[12][700];
	char *env[13];
	int nenv;
	int nextra;
	pyc_proc proc;
	bool running;
} rf_recorder;

/* Prepares a temporary folder and the environment; extra is a
 * NULL-terminated list of "NAME=value" (may be NULL). rec_dir may be
 * overridden before rf_start. */
void rf_init(rf_recorder *r, const char *const *extra);
/* Starts the binary and waits until both sockets answer. */
bool rf_start(rf_recorder *r);
/* Sends sig, waits (bounded); returns the waitpid status. */
int rf_stop(rf_recorder *r, int sig);
/* Stops the recorder if it runs and removes the folder. */
void rf_fini(rf_recorder *r);

/* A worker process's socket (pair1 dialer) and the gateway's (req). */
nng_socket rf_worker(const rf_recorder *r);
nng_socket rf_gateway(const rf_recorder *r);

/* Sends a raw envelope. */
int rf_send(nng_socket s, unsigned type, const char *sid, uint64_t seq,
    const void *payload, size_t len);

/* Worker side. Each returns the reply's status (a pyc_err) or -1 if no
 * reply came; res (may be NULL) gets the rec_result. */
int rf_rec_start(nng_socket s, const char *sid, uint32_t rate, uint32_t channels,
    const char *settings, pyc_rec_result *res);
int rf_append(nng_socket s, const char *sid, const int16_t *pcm, size_t samples);
int rf_rec_stop(nng_socket s, const char *sid, pyc_rec_result *res);
/* Waits for the next message of type on a worker socket (others are
 * skipped); res gets its rec_result. -1 on timeout. */
int rf_wait_result(nng_socket s, unsigned type, int timeout_ms, pyc_rec_result *res);

/* Gateway side: one request, its status_rep; json (may be NULL) gets a
 * malloc'd NUL-terminated copy of the JSON. Returns the status or -1. */
int rf_status_request(nng_socket s, unsigned type, const char *sid, const void *payload,
    size_t len, uint64_t *value, char **json);
int rf_list(nng_socket s, const char *sid, uint32_t skip, uint32_t limit, char **json);
int rf_meta(nng_socket s, const char *name, uint64_t *size, char **json);
int rf_delete(nng_socket s, const char *name);
int rf_session_ended(nng_socket s, const char *sid, uint64_t *deleted);
int rf_health(nng_socket s, char **json);
/* rec_read: status, total size, and up to cap bytes into buf (*got). */
int rf_read(nng_socket s, const char *name, uint64_t offset, uint32_t length,
    uint64_t *total, void *buf, size_t cap, size_t *got);

/* A test signal: sample k of channel c of signal number id. */
int16_t rf_sample(int id, uint64_t k, int c);
/* Fills pcm with frames frames of signal id starting at frame first. */
void rf_fill(int16_t *pcm, int id, uint64_t first, size_t frames, int channels);

/* Reads a WAV with libsndfile; returns frames or -1; *pcm malloc'd. */
long rf_wav_read(const char *path, int *rate, int *channels, int16_t **pcm);

#endif /* IT_RECORDER_UTIL_H */
