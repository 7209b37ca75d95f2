/* load_util.h - what the load tests measure: memory, descriptors and
 * children of the services from /proc, the gateway's /metrics, the
 * recordings folder and database, and recordings read back over HTTP.
 *
 * NOTES: everything here reads the kernel's or the service's own account
 * (VmRSS, /proc/PID/fd, /proc/PID/stat, the Prometheus text, the SQLite
 * file) rather than trusting the test's bookkeeping, so a leak or a
 * leftover shows even when the client believes all went well. Nothing
 * here uses Check, so the functions can run on a helper thread.
 */
#ifndef LOAD_UTIL_H
#define LOAD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Settings of a load test from the environment: the integer value of
 * name, or def when unset (bad values too, with a message). */
long load_env_long(const char *name, long def);

/* ---- /proc ---- */

/* VmRSS of pid in KiB; -1 if it cannot be read. */
long load_rss_kb(int pid);
/* Open descriptors of pid; -1 if they cannot be counted. */
int load_fd_count(int pid);
/* Prints pid's descriptors (number -> target), for a diagnosis. */
void load_fd_print(int pid, FILE *out);
/* Children of ppid: up to cap pids into pids (may be NULL); returns how
 * many there are; *zombies (may be NULL) counts those in state Z. */
int load_children(int ppid, int *pids, int cap, int *zombies);

/* RSS samples of one process. */
typedef struct load_series {
	char name[48];
	int pid;
	int n, cap;
	double *t; /* seconds since the start */
	long *kb;
} load_series;

void load_series_add(load_series *s, double t, long kb);
void load_series_free(load_series *s);
/* The flatness criterion: of the samples taken after warm_s, the highest
 * of the second half minus the highest of the first half (KiB); a steady
 * leak of r KiB/s over a window W shows as about r*W/2. Writes a one-line
 * summary (first, at warm-up, min, max, last, growth). *ok is false when
 * the growth is over limit_kb or there are fewer than 4 samples after
 * warm-up. */
long load_series_growth(const load_series *s, double warm_s, long limit_kb, bool *ok,
    char *summary, size_t cap);

/* ---- the system ---- */

/* GET /metrics (malloc'd body, caller frees); NULL on failure. */
char *load_metrics(int http_port);
/* The value of the sample line "name value" (name includes any labels);
 * -1 if absent. */
double load_metric(const char *text, const char *name);
/* The q-quantile (seconds) of pyc_meter_latency_seconds between two
 * scrapes: the upper bound of the bucket it falls in (+Inf as 1e9); -1
 * if no observation. */
double load_metric_lat_q(const char *before, const char *after, double q);

/* Prints the buckets of pyc_meter_latency_seconds between two scrapes
 * (observations per bucket, not cumulative) on one line. */
void load_metric_lat_print(const char *before, const char *after, FILE *out);

/* Waits (bounded) until the gateway reports an idle worker; false on
 * timeout. */
bool load_wait_idle_worker(int http_port, int timeout_ms);

struct load_client;
struct load_sess;
/* Opens session idx of cl under a fresh id tagged tag once a worker is
 * idle (a session that had to wait would be told no_worker, which the load
 * tests count as an error), sends the init the load tests use (44.1 kHz
 * stereo, 0 dB, filter off) and waits (20 s) for ready. Check-asserted. */
struct load_sess *load_open_ready(struct load_client *cl, int http_port, const char *tag,
    int idx);

/* Regular files in dir; -1 if it cannot be read. */
int load_count_files(const char *dir);
/* Rows of the recordings table in the SQLite file (read-only); -1 on error. */
long load_db_rows(const char *db_path);

/* Reads a recording back: its list entry (state complete, frames,
 * sample_rate, channels) and its WAV over HTTP (header, data length,
 * every sample against the test signal of key from frame first). true if
 * it holds exactly frames frames of that signal; otherwise err says why. */
bool load_check_recording(int http_port, const char *sid, const char *fname, uint32_t key,
    uint64_t first, uint64_t frames, int rate, int channels, char *err, size_t cap);

/* DELETE /recordings/fname; the HTTP status (-1 if no answer). */
int load_delete_recording(int http_port, const char *fname);

/* Entries in GET /recordings?session_id=sid; -1 on failure. */
int load_list_count(int http_port, const char *sid);

#endif /* LOAD_UTIL_H */
