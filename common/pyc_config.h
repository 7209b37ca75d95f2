/* pyc_config.h - every setting of every service, from the environment.
 *
 * NOTES: only pyc_config.c calls getenv. One table lists each variable
 * with its default and bounds; pyc_config_load validates all of them and
 * names the first bad variable and its accepted range. Every service loads
 * the same struct and uses the part it needs, so a deployment sets one
 * environment for all. Defaults run locally without any setting: data
 * under ./data, ipc:// sockets under ./run.
 */
#ifndef PYC_CONFIG_H
#define PYC_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "pyc_err.h"
#include "pyc_log.h"

#define PYC_CFG_STR_MAX 512

typedef struct pyc_config {
	/* all services */
	int log_level;                  /* LOG_LEVEL */
	int log_format;                 /* LOG_FORMAT */
	char data_dir[PYC_CFG_STR_MAX]; /* DATA_DIR */
	char run_dir[PYC_CFG_STR_MAX];  /* RUN_DIR */

	/* nng addresses: *_LISTEN where a service binds, *_URL where peers dial */
	char worker_listen[PYC_CFG_STR_MAX];   /* WORKER_LISTEN_URL (gateway) */
	char gateway_url[PYC_CFG_STR_MAX];     /* GATEWAY_URL (dsp-worker) */
	char recorder_listen[PYC_CFG_STR_MAX]; /* RECORDER_LISTEN_URL (recorder) */
	char recorder_url[PYC_CFG_STR_MAX];    /* RECORDER_URL (dsp-worker) */
	char recorder_ctl_listen[PYC_CFG_STR_MAX]; /* RECORDER_CTL_LISTEN_URL */
	char recorder_ctl_url[PYC_CFG_STR_MAX];    /* RECORDER_CTL_URL (gateway) */

	/* gateway */
	int backend_port;                    /* BACKEND_PORT */
	int ws_port;                         /* WS_PORT (0: none) */
	char bind_address[PYC_CFG_STR_MAX];  /* BIND_ADDRESS */
	char frontend_url[PYC_CFG_STR_MAX];  /* FRONTEND_URL, comma-separated */
	char frontend_dir[PYC_CFG_STR_MAX];  /* FRONTEND_DIR, "" = none */
	char trusted_proxies[PYC_CFG_STR_MAX]; /* TRUSTED_PROXIES, comma-separated */
	int session_grace_s;                 /* SESSION_GRACE_SECONDS */
	int max_sessions;                    /* MAX_SESSIONS */
	int max_sessions_per_ip;             /* MAX_SESSIONS_PER_IP */
	int ws_max_message;                  /* WS_MAX_MESSAGE_BYTES */
	int ws_idle_timeout_s;               /* WS_IDLE_TIMEOUT_SECONDS */
	int http_max_connections;            /* HTTP_MAX_CONNECTIONS */
	int http_max_per_ip;                 /* HTTP_MAX_PER_IP */
	int http_timeout_s;                  /* HTTP_TIMEOUT_SECONDS */
	int request_timeout_ms;              /* REQUEST_TIMEOUT_MS (internal requests) */

	/* dsp-worker */
	char host_id[64];         /* DSP_HOST_ID, "" = the machine's hostname */
	int pool_spare;           /* DSP_POOL_SPARE */
	int pool_max;             /* DSP_POOL_MAX */
	int max_chunk_frames;     /* DSP_MAX_CHUNK_FRAMES */
	double max_backlog_s;     /* DSP_MAX_BACKLOG_SECONDS */

	/* recorder */
	char recordings_dir[PYC_CFG_STR_MAX]; /* RECORDINGS_DIR */
	char db_path[PYC_CFG_STR_MAX];        /* DB_PATH */
	int retention_s;          /* RECORDING_RETENTION_SECONDS, 0 = delete at session end */
	int sweep_interval_s;     /* RECORDING_SWEEP_SECONDS */
	int recorder_queue_max;   /* RECORDER_QUEUE_MAX (appends queued per recording) */
} pyc_config;

/* Loads every variable; a missing one takes its default. On PYC_EINVAL,
 * errbuf (if not NULL) holds "NAME=value: expected ..." naming the first
 * bad variable. */
pyc_err pyc_config_load(pyc_config *cfg, char *errbuf, size_t errlen);

/* Logs the effective configuration at info level, one line. */
void pyc_config_log(const pyc_config *cfg);

/* Helper for every main: loads the config, on error prints the message to
 * stderr and exits 2; then initialises logging for service. */
void pyc_config_load_or_exit(pyc_config *cfg, const char *service);

/* Creates path and its missing parents (mode 0750); PYC_OK if it exists. */
pyc_err pyc_mkdirs(const char *path);

/* The directory part of an ipc:// URL is created (so a socket can be bound
 * there); other transports need nothing. */
pyc_err pyc_config_prepare_url(const char *url);

/* Prints the variables as Markdown table rows (name, default, meaning),
 * for the README and for a service's --help. */
void pyc_config_print_table(FILE *f);

#endif /* PYC_CONFIG_H */
