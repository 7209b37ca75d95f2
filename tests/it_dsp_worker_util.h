/* it_dsp_worker_util.h - a stand-in gateway (and recorder) for the
 * dsp-worker integration tests and the benchmark.
 *
 * NOTES: the tests run the real pyc-dsp-worker host on ipc:// addresses in
 * a temporary folder and play the gateway: a pair1 polyamorous socket
 * listening at GATEWAY_URL, exactly as docs/wire.md describes. Messages
 * are received through one inbox: worker_hello and host_hello are absorbed
 * into the idle-worker list and the last host status; a message for
 * another pipe than the one waited for is kept for later, so several
 * sessions can be driven from one thread. Pipe removals are recorded with
 * their time. Every wait is bounded.
 */
#ifndef IT_DSP_WORKER_UTIL_H
#define IT_DSP_WORKER_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "pyc_params.h"
#include "pyc_testproc.h"
#include "pyc_wire.h"

#define FGW_MAX_WORKERS 1024
#define FGW_MAX_REMS 4096

typedef struct fmsg {
	nng_msg *raw;
	pyc_wire_msg m; /* points into raw */
	uint32_t pipe;
	long long t_us; /* when it was received (monotonic) */
} fmsg;

typedef struct fworker {
	uint32_t pipe;
	uint32_t pid;
	bool taken;
} fworker;

typedef struct fgw {
	nng_socket s;
	bool open;
	pthread_mutex_t mu;
	uint32_t rem_pipe[FGW_MAX_REMS];
	long long rem_ms[FGW_MAX_REMS];
	int nrem;
	int adds;
	fworker workers[FGW_MAX_WORKERS];
	int nworkers;
	pyc_host_hello host; /* last host_hello */
	int host_hellos;
	uint32_t host_pipe; /* the pipe the last host_hello came on */
	uint32_t ans_pipe[FGW_MAX_WORKERS]; /* highest audio seq answered per pipe */
	uint64_t ans_seq[FGW_MAX_WORKERS];
	int nans;
	uint64_t cmd_acks; /* acks of commands (reply flag), absorbed */
	bool keep_cmd_acks; /* return them too (counted all the same) */
	fmsg *stash;
	int nstash, capstash;
	uint64_t bad;
} fgw;

/* Listens at url (pair1 poly). 0 on success. */
int fgw_open(fgw *g, const char *url);
void fgw_close(fgw *g);

/* Next message from pipe (0: any pipe) within timeout_ms: 0 and *out (free
 * with fmsg_free), or -1 on timeout. Hellos and, unless keep_cmd_acks is
 * set, the acks that complete commands (reply flag) are absorbed, never
 * returned. */
int fgw_next(fgw *g, uint32_t pipe, fmsg *out, int timeout_ms);
void fmsg_free(fmsg *m);

/* Receives and absorbs for up to ms (hellos, stashing the rest). */
void fgw_pump(fgw *g, int ms);

/* Waits until at least n untaken idle workers have said hello. */
bool fgw_wait_workers(fgw *g, int n, int timeout_ms);
/* Takes an idle worker (waiting up to timeout_ms); 0 if none. */
uint32_t fgw_take_worker(fgw *g, int timeout_ms, uint32_t *pid);
/* Untaken idle workers known. */
int fgw_idle(fgw *g);

/* True if pipe was removed; *when_ms gets the time. */
bool fgw_removed(fgw *g, uint32_t pipe, long long *when_ms);

int fgw_send(fgw *g, uint32_t pipe, unsigned type, const char *sid, uint64_t seq,
    const void *p, size_t n);
int fgw_send_params(fgw *g, uint32_t pipe, unsigned type, const char *sid,
    const pyc_params *p);
int fgw_send_raw(fgw *g, uint32_t pipe, const void *p, size_t n);

/* Sends audio chunk seq on pipe, first waiting (bounded, 3 s) until no
 * more than window earlier chunks of the pipe are unanswered (no meter or
 * ack seen for them). NOTES: nng 1.5's polyamorous pair1 queues at most 2
 * messages per pipe and silently drops beyond that (pair1_poly.c), so a
 * gateway must not burst; this is the window the tests keep. */
int fgw_send_audio(fgw *g, uint32_t pipe, const char *sid, uint64_t seq,
    const void *p, size_t n, int window);

/* Highest audio seq answered (meter or ack) on pipe so far. */
uint64_t fgw_answered(fgw *g, uint32_t pipe);

/* A test environment: temp folder, URLs, the fake gateway, the host. */
typedef struct dwenv {
	char *dir;
	char gw_url[256];
	char rec_url[256];
	char env[16][300];
	char *envp[17];
	int nenv;
	pyc_proc host;
	fgw gw;
	bool host_started;
} dwenv;

/* Creates the folder and URLs and opens the fake gateway; extra is a
 * NULL-terminated list of "NAME=value" (may be NULL). Does not start the
 * host. 0 on success. */
int dwenv_init(dwenv *e, int spare, int max, const char *const *extra);
/* Starts the host and waits for `spare` worker hellos. */
int dwenv_start_host(dwenv *e, int wait_workers, int timeout_ms);
/* Starts the real recorder (recorder/pyc-recorder) at rec_url, its files
 * under <dir>/recordings and <dir>/db, and waits (5 s) until it listens.
 * 0 on success; -1 if it did not come up (then it is stopped). The
 * caller stops it with pyc_proc_stop. */
int dwenv_start_recorder(dwenv *e, pyc_proc *rec);
void dwenv_fini(dwenv *e);

/* Params with only the bits of mask set (others: defaults, mask cleared). */
void dw_params_masked(pyc_params *p, uint32_t mask);

/* Opens a session on an idle worker: session_open with open_p, then (if
 * init_p) session_init. Returns the pipe, 0 on failure. */
uint32_t dw_open(dwenv *e, const char *sid, const pyc_params *open_p,
    const pyc_params *init_p, uint32_t *pid);

/* Fills pcm (frames*ch int16) with sines: channel c gets freq[c] Hz at
 * amp[c] (0..1 of full scale), starting at frame offset start. */
void dw_sines(int16_t *pcm, size_t frames, int ch, double rate, const double *freq,
    const double *amp, uint64_t start);

/* Reads /proc/pid/cmdline into buf (NULs between args become spaces,
 * trailing NULs dropped). 0 on success. */
int dw_cmdline(int pid, char *buf, size_t cap);

/* True if a process with this pid exists (not a zombie). */
bool dw_pid_alive(int pid);

/* Waits until pid is gone. */
bool dw_pid_wait_gone(int pid, int timeout_ms);

/* Pids of the host's children (reads /proc/PID/task/PID/children). */
int dw_children(int pid, int *out, int cap);

/* Microseconds from a monotonic clock. */
long long dw_now_us(void);

#endif /* IT_DSP_WORKER_UTIL_H */
