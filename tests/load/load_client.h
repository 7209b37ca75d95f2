/* load_client.h - many WebSocket sessions on one lws client context, for
 * the load tests (soak, churn, REST load).
 *
 * NOTES: one context, served by the test's own thread, carries every
 * session, so a generator of 50 real-time sessions costs a fraction of a
 * core (bench/bench_gateway.c works the same way). Messages to send wait
 * in a per-session list and are written one per WRITEABLE callback. What
 * comes back is counted rather than queued: meters (the newest seq, and
 * the send -> meter latency of each chunk whose seq a meter carries, into
 * the client's current histogram), ready events, recording_saved file
 * names (a small ring), errors by code, the close code. The test signal
 * is a function of (key, frame, channel), so a recording can be checked
 * sample by sample without keeping what was sent.
 */
#ifndef LOAD_CLIENT_H
#define LOAD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOAD_SEQ_RING 4096
#define LOAD_SAVED_RING 16
#define LOAD_HIST_BINS 100000 /* 50 µs each: up to 5 s */
#define LOAD_HIST_US 50

/* A latency histogram: 50 µs bins, the last one open-ended. */
typedef struct load_hist {
	uint32_t bin[LOAD_HIST_BINS];
	uint64_t n;
	uint64_t max_us;
} load_hist;

void load_hist_add(load_hist *h, uint64_t us);
/* The q-quantile (0..1) in µs (upper edge of its bin); 0 if empty. */
double load_hist_q_us(const load_hist *h, double q);

typedef struct load_client load_client;
typedef struct load_msg load_msg;

typedef enum load_state {
	LOAD_CONNECTING,
	LOAD_OPEN,
	LOAD_CLOSED,
} load_state;

/* One session's connection and what it received. Read its fields; change
 * them only through the functions below. */
typedef struct load_sess {
	load_client *cl;
	struct load_sess *prev, *next; /* the client's list */
	struct lws *wsi;
	char sid[130];
	int idx;             /* the test's own number for it */
	load_state state;
	bool failed;         /* the connection was refused or broke before opening */
	int close_code;      /* sent by the server; 0 if none */
	bool want_close;     /* a clean close once the queue is written */
	load_msg *oh, *ot;   /* to send */
	int queued;          /* messages waiting */
	uint64_t chunks;     /* binary messages written */
	uint64_t base_seq;   /* seq of the session before this connection (a resume) */
	int64_t sent_us[LOAD_SEQ_RING];
	uint64_t meters;     /* meter messages received */
	uint64_t last_seq;   /* highest seq a meter carried */
	int ready;           /* ready events */
	int saved;           /* recording_saved events */
	char saved_name[LOAD_SAVED_RING][160];
	double saved_duration[LOAD_SAVED_RING];
	int errors;          /* error events (any code) */
	int too_fast;        /* of which too_fast */
	char last_error[256];
	char *rx;            /* a text message being joined */
	size_t rx_len, rx_cap;
} load_sess;

/* A client for ws://127.0.0.1:port with room for max_sessions open
 * connections at once. NULL on failure. */
load_client *load_client_create(int port, int max_sessions);
/* Closes every connection and frees the sessions still held. Accepts NULL. */
void load_client_destroy(load_client *c);

/* Latencies go to h from now on (NULL: not recorded). */
void load_client_measure(load_client *c, load_hist *h);

/* Starts connecting to /ws/audio?session_id=sid. base_seq: the seq the
 * session reached before (0 for a new session; a resumed one carries on
 * from there). The session is the client's until load_sess_free. NULL if
 * the connect could not start. */
load_sess *load_sess_open(load_client *c, const char *sid, int idx, uint64_t base_seq);
/* Frees a session (closing its connection abruptly if still open). */
void load_sess_free(load_sess *s);

/* Queue a text or binary message (copied). 0 on success. */
int load_sess_text(load_sess *s, const char *text);
int load_sess_binary(load_sess *s, const void *data, size_t len);
/* Queues frames of the test signal starting at frame first. */
int load_sess_signal(load_sess *s, uint32_t key, uint64_t first, int frames, int channels);

/* A clean close (close frame 1000 after the queue is written) or an
 * abrupt one (the TCP connection is shut down, no close frame). */
void load_sess_close(load_sess *s, bool clean);

/* Serves the connections once, waiting at most max_wait_us for work. */
void load_client_service(load_client *c, int64_t max_wait_us);
/* Serves until ms have passed. */
void load_client_run(load_client *c, int ms);

/* The saved file name number k (0-based, k > saved - LOAD_SAVED_RING). */
const char *load_sess_saved(const load_sess *s, int k);

/* Microseconds from a monotonic clock. */
int64_t load_now_us(void);

/* The test signal: deterministic noise of amplitude 12000 from a key, the
 * absolute frame number and the channel. */
static inline int16_t load_sample(uint32_t key, uint64_t frame, int ch)
{
	uint64_t x = (frame * 2 + (uint64_t) ch + 1) * 0x9E3779B97F4A7C15ull ^
	    ((uint64_t) key + 1) * 0xC2B2AE3D27D4EB4Full;
	x ^= x >> 31;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 29;
	return (int16_t) ((int) (x % 24001u) - 12000);
}

#endif /* LOAD_CLIENT_H */
