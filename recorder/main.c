/* main.c - pyc-recorder: wires the recorder's modules and runs its loop.
 *
 * NOTES: start-up order matters: the folder and the database first, then
 * crash recovery (before any writer can touch a file), then the writers,
 * then the sockets. The loop is the stream socket's; SIGTERM/SIGINT only
 * set a flag. Shutdown stops the control socket, hands every open
 * recording to its writer to finalise (state "complete"), waits for the
 * writers (bounded), and exits 0. Exit 1 is an orderly failure (logged),
 * 2 a bad configuration (pyc_config_load_or_exit).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyc_config.h"
#include "pyc_health.h"
#include "pyc_log.h"
#include "rec_cleanup.h"
#include "rec_ctl.h"
#include "rec_db.h"
#include "rec_stream.h"
#include "rec_table.h"
#include "rec_writer.h"

#define SHUTDOWN_WAIT_MS 30000

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void) sig;
	stop_requested = 1;
}

static int setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

static int prepare_dirs(const pyc_config *cfg)
{
	char dbdir[PYC_CFG_STR_MAX];
	pyc_err rv;

	if ((rv = pyc_mkdirs(cfg->recordings_dir)) != PYC_OK) {
		pyc_log(PYC_LOG_ERROR, "RECORDINGS_DIR %s: %s", cfg->recordings_dir,
		    pyc_strerror(rv));
		return -1;
	}
	snprintf(dbdir, sizeof(dbdir), "%s", cfg->db_path);
	if ((rv = pyc_mkdirs(dirname(dbdir))) != PYC_OK) {
		pyc_log(PYC_LOG_ERROR, "DB_PATH %s: %s", cfg->db_path, pyc_strerror(rv));
		return -1;
	}
	if ((rv = pyc_config_prepare_url(cfg->recorder_listen)) != PYC_OK ||
	    (rv = pyc_config_prepare_url(cfg->recorder_ctl_listen)) != PYC_OK) {
		pyc_log(PYC_LOG_ERROR, "ipc folder: %s", pyc_strerror(rv));
		return -1;
	}
	return 0;
}

/* Hands every open recording to its writer to finalise. */
static void stop_all(rec_table *table, rec_writer *writer)
{
	rec_recording *recs[64];
	size_t n;

	do {
		rec_table_lock(table);
		n = rec_table_take(table, 0, recs, 64);
		for (size_t i = 0; i < n; i++)
			rec_writer_stop(writer, recs[i], REC_STATE_COMPLETE, 0, 0, NULL);
		rec_table_unlock(table);
	} while (n == 64);
}

int main(int argc, char **argv)
{
	pyc_config cfg;
	rec_db *db = NULL;
	rec_table *table = NULL;
	rec_stream *stream = NULL;
	rec_writer *writer = NULL;
	rec_ctl *ctl = NULL;
	rec_recovery rcv;
	rec_writer_cfg wcfg;
	rec_ctl_cfg ccfg;
	int dirfd = -1, code = 1;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: pyc-recorder [--health]\nSettings come from the environment:\n");
		pyc_config_print_table(stdout);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--health") == 0) {
		char err[512];
		pyc_err rv;
		if (pyc_config_load(&cfg, err, sizeof(err)) != PYC_OK) {
			fprintf(stderr, "pyc-recorder --health: bad configuration: %s\n", err);
			return 2;
		}
		rv = pyc_health_request(cfg.recorder_ctl_url,
		    cfg.request_timeout_ms < 3000 ? cfg.request_timeout_ms : 3000, NULL, 0);
		if (rv != PYC_OK)
			fprintf(stderr, "pyc-recorder --health: %s: %s\n", cfg.recorder_ctl_url,
			    pyc_strerror(rv));
		return rv == PYC_OK ? 0 : 1;
	}
	if (argc > 1) {
		fprintf(stderr, "pyc-recorder: unexpected argument %s (try --help)\n", argv[1]);
		return 2;
	}
	pyc_config_load_or_exit(&cfg, "recorder");
	pyc_config_log(&cfg);
	if (setup_signals() != 0) {
		pyc_log(PYC_LOG_ERROR, "signals: %s", strerror(errno));
		return 1;
	}
	if (prepare_dirs(&cfg) != 0)
		return 1;
	dirfd = open(cfg.recordings_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		pyc_log(PYC_LOG_ERROR, "open %s: %s", cfg.recordings_dir, strerror(errno));
		return 1;
	}
	if (rec_db_open(cfg.db_path, &db) != PYC_OK) {
		pyc_log(PYC_LOG_ERROR, "cannot open the database %s", cfg.db_path);
		goto out;
	}
	if (rec_cleanup_recover(db, dirfd, &rcv) != PYC_OK)
		pyc_log(PYC_LOG_WARN, "recovery did not complete; continuing");
	if (rec_table_create(&table) != PYC_OK || rec_stream_create(&stream) != PYC_OK)
		goto out;
	memset(&wcfg, 0, sizeof(wcfg));
	wcfg.db_path = cfg.db_path;
	wcfg.dirfd = dirfd;
	wcfg.sock = rec_stream_socket(stream);
	wcfg.threads = REC_WRITER_THREADS;
	wcfg.queue_max = (size_t) cfg.recorder_queue_max;
	wcfg.queue_bytes_max = REC_QUEUE_BYTES_MAX;
	if (rec_writer_create(&wcfg, &writer) != PYC_OK) {
		pyc_log(PYC_LOG_ERROR, "cannot start the writer threads");
		goto out;
	}
	if (rec_stream_start(stream, cfg.recorder_listen, table, writer, db) != PYC_OK)
		goto out;
	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.url = cfg.recorder_ctl_listen;
	ccfg.db_path = cfg.db_path;
	ccfg.dirfd = dirfd;
	ccfg.retention_s = cfg.retention_s;
	ccfg.sweep_s = cfg.sweep_interval_s;
	ccfg.table = table;
	ccfg.writer = writer;
	ccfg.stream = stream;
	if (rec_ctl_create(&ccfg, &ctl) != PYC_OK)
		goto out;
	pyc_log(PYC_LOG_INFO, "recorder ready: recordings in %s, database %s",
	    cfg.recordings_dir, cfg.db_path);

	while (!stop_requested)
		rec_stream_poll(stream, 100);

	pyc_log(PYC_LOG_INFO, "shutting down: finalising open recordings");
	code = 0;
out:
	rec_ctl_destroy(ctl);
	if (writer != NULL) {
		stop_all(table, writer);
		if (rec_writer_destroy(writer, SHUTDOWN_WAIT_MS) != PYC_OK) {
			pyc_log(PYC_LOG_ERROR, "writers did not finish in time");
			_exit(1);
		}
	}
	rec_stream_destroy(stream);
	rec_table_destroy(table);
	rec_db_close(db);
	if (dirfd >= 0)
		close(dirfd);
	if (code == 0)
		pyc_log(PYC_LOG_INFO, "recorder stopped");
	return code;
}
