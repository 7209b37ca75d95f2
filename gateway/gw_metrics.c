/* gw_metrics.c - counters and the Prometheus text format (gw_metrics.h).
 *
 * NOTES: error codes are counted in a fixed table of the public words
 * (docs/protocol.md) plus "other", so a hostile worker or client cannot grow
 * the label set. The exposition follows the Prometheus text format 0.0.4:
 * HELP and TYPE before each family, histogram buckets cumulative with le.
 */
#include "gw_metrics.h"
#include "gw_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

gw_metrics gw_stats;

const double gw_lat_bounds[GW_LAT_BUCKETS] = {0.0005, 0.001, 0.002, 0.005, 0.01,
    0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};

static const char *const codes[] = {"bad_json", "unknown_action", "out_of_range",
    "bad_type", "missing_field", "too_fast", "no_worker", "worker_restarted",
    "recording_failed", "message_too_big", "already_recording", "not_recording",
    "disk_full", "other"};
#define N_CODES (sizeof(codes) / sizeof(codes[0]))
static atomic_ulong code_count[N_CODES];

void gw_metrics_error(const char *code)
{
	size_t i;
	for (i = 0; i < N_CODES - 1; i++)
		if (code != NULL && strcmp(code, codes[i]) == 0)
			break;
	atomic_fetch_add_explicit(&code_count[i], 1, memory_order_relaxed);
}

void gw_metrics_latency(uint64_t us)
{
	double s = (double) us / 1e6;
	size_t i;
	for (i = 0; i < GW_LAT_BUCKETS; i++)
		if (s <= gw_lat_bounds[i])
			break;
	atomic_fetch_add_explicit(&gw_stats.lat_bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&gw_stats.lat_count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&gw_stats.lat_sum_us, us, memory_order_relaxed);
}

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static void family(gw_buf *b, const char *name, const char *type, const char *help)
{
	gw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(gw_buf *b, const char *name, const char *help, long v)
{
	family(b, name, "gauge", help);
	gw_buf_printf(b, "%s %ld\n", name, v);
}

static void counter(gw_buf *b, const char *name, const char *help, unsigned long v)
{
	family(b, name, "counter", help);
	gw_buf_printf(b, "%s %lu\n", name, v);
}

char *gw_metrics_render(size_t *len)
{
	gw_buf b = {0};
	gauge(&b, "pyc_gateway_sessions", "Sessions in the registry (connected or in grace).",
	    LD(gw_stats.sessions));
	gauge(&b, "pyc_gateway_connections", "Live WebSocket connections.",
	    LD(gw_stats.connections));
	counter(&b, "pyc_gateway_sessions_created_total", "Sessions created.",
	    LD(gw_stats.sessions_total));
	gauge(&b, "pyc_workers_hosts", "dsp-worker hosts connected.", LD(gw_stats.hosts));
	gauge(&b, "pyc_workers_idle", "Idle workers offered by the hosts.",
	    LD(gw_stats.workers_idle));
	gauge(&b, "pyc_workers_busy", "Workers serving a session.", LD(gw_stats.workers_busy));
	counter(&b, "pyc_worker_restarts_total",
	    "Sessions moved to a fresh worker after their worker died.",
	    LD(gw_stats.worker_restarts));
	counter(&b, "pyc_audio_chunks_total", "Audio chunks sent to workers.",
	    LD(gw_stats.chunks));
	counter(&b, "pyc_audio_bytes_total", "Audio bytes sent to workers.",
	    LD(gw_stats.audio_bytes));
	counter(&b, "pyc_audio_chunks_dropped_total",
	    "Audio chunks dropped (no worker, or a client sending too fast).",
	    LD(gw_stats.chunks_dropped));
	counter(&b, "pyc_worker_batches_total",
	    "Batch messages sent to workers (several queued messages of a session in one).",
	    LD(gw_stats.worker_batches));
	counter(&b, "pyc_meters_total", "Meter messages written to clients.",
	    LD(gw_stats.meters));
	counter(&b, "pyc_meters_dropped_total",
	    "Meter messages replaced by a newer one for a slow client.",
	    LD(gw_stats.meters_dropped));
	counter(&b, "pyc_meters_merged_total",
	    "Audio chunks answered together with later ones by one meter (the worker was behind).",
	    LD(gw_stats.meters_merged));
	counter(&b, "pyc_monitor_dropped_total", "Monitor audio frames dropped for a slow client.",
	    LD(gw_stats.monitor_dropped));
	counter(&b, "pyc_events_total", "Event messages (ready, recording_saved, error) written.",
	    LD(gw_stats.events));
	counter(&b, "pyc_recorder_bytes_total", "Recording bytes served over HTTP.",
	    LD(gw_stats.recorder_bytes));
	counter(&b, "pyc_http_requests_total", "HTTP requests answered.",
	    LD(gw_stats.http_requests));

	family(&b, "pyc_meter_latency_seconds", "histogram",
	    "Time from an audio chunk sent to a worker to its meter received.");
	unsigned long cum = 0;
	for (size_t i = 0; i < GW_LAT_BUCKETS; i++) {
		cum += LD(gw_stats.lat_bucket[i]);
		gw_buf_printf(&b, "pyc_meter_latency_seconds_bucket{le=\"%g\"} %lu\n",
		    gw_lat_bounds[i], cum);
	}
	cum += LD(gw_stats.lat_bucket[GW_LAT_BUCKETS]);
	gw_buf_printf(&b, "pyc_meter_latency_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
	gw_buf_printf(&b, "pyc_meter_latency_seconds_sum %.6f\n",
	    (double) LD(gw_stats.lat_sum_us) / 1e6);
	gw_buf_printf(&b, "pyc_meter_latency_seconds_count %lu\n", cum);

	family(&b, "pyc_errors_total", "counter", "Error messages sent to clients, by code.");
	for (size_t i = 0; i < N_CODES; i++)
		gw_buf_printf(&b, "pyc_errors_total{code=\"%s\"} %lu\n", codes[i],
		    LD(code_count[i]));
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
