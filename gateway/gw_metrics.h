/* gw_metrics.h - the gateway's counters and their Prometheus text.
 *
 * NOTES: the lws thread counts (chunks, meters, drops, latencies), the MHD
 * threads read (GET /metrics, /health). Every counter is a C11 atomic with
 * relaxed ordering: no lock on the audio path, and a scrape sees each
 * value whole (not a consistent snapshot of all of them, which Prometheus
 * does not need).
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define GW_LAT_BUCKETS 12

typedef struct gw_metrics {
	atomic_long sessions;         /* gauge: sessions in the registry */
	atomic_long connections;      /* gauge: live WebSocket connections */
	atomic_ulong sessions_total;  /* counter: sessions created */
	atomic_long hosts;            /* gauge: dsp-worker hosts connected */
	atomic_long workers_idle;     /* gauge: idle workers offered */
	atomic_long workers_busy;     /* gauge: workers serving a session */
	atomic_ulong worker_restarts; /* counter: sessions given a fresh worker after a death */
	atomic_ulong chunks;          /* counter: audio chunks sent to workers */
	atomic_ulong audio_bytes;     /* counter: audio bytes sent to workers */
	atomic_ulong chunks_dropped;  /* counter: audio chunks dropped (no worker, too fast) */
	atomic_ulong worker_batches;  /* counter: batch messages sent to workers */
	atomic_ulong meters;          /* counter: meter messages written to clients */
	atomic_ulong meters_dropped;  /* counter: meters replaced by a newer one */
	atomic_ulong meters_merged;   /* counter: chunks answered by a later chunk's meter */
	atomic_ulong monitor_dropped; /* counter: monitor frames replaced */
	atomic_ulong events;          /* counter: event messages written */
	atomic_ulong recorder_bytes;  /* counter: recording bytes served over HTTP */
	atomic_ulong http_requests;   /* counter: HTTP requests answered */
	atomic_ulong lat_bucket[GW_LAT_BUCKETS + 1]; /* meter latency histogram (+Inf last) */
	atomic_ulong lat_count;
	atomic_ullong lat_sum_us;
} gw_metrics;

extern gw_metrics gw_stats;

/* Upper bounds of the latency buckets, in seconds. */
extern const double gw_lat_bounds[GW_LAT_BUCKETS];

/* Counts one error sent to a client, by public code. */
void gw_metrics_error(const char *code);

/* Records one meter latency (audio forwarded -> meter received), in µs. */
void gw_metrics_latency(uint64_t us);

/* Renders the Prometheus text exposition into a malloc'd string (caller
 * frees), *len its length; NULL on OOM. */
char *gw_metrics_render(size_t *len);

#endif /* GW_METRICS_H */
