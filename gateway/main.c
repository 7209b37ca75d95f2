/* main.c - pyc-gateway: loads the configuration, wires the modules, runs
 * the lws loop on this thread until SIGINT or SIGTERM, then shuts down.
 *
 * NOTES: the order matters. The recorder client comes first (sessions
 * tell it when they end), then the registry, the WebSocket context (whose
 * loop also handles what the worker socket received), the worker socket,
 * HTTP, and last the one public port (gw_listen: it hands each
 * connection to lws or MHD), so nothing public answers before the rest
 * is ready. On a signal the public port closes, then HTTP, the
 * sessions are ended (session_close to every worker, so recordings are
 * finalised), the loop keeps running until the workers confirmed or
 * REQUEST_TIMEOUT_MS passed, and the modules are destroyed in reverse.
 * The signal handler only sets a flag; the loop sees it within GW_TICK_US.
 * Everything but HTTP (MHD's threads), the recorder client's notice
 * thread and nng's own threads runs on this thread: WebSocket clients and
 * worker messages alike (nng hands them over, gw_workers.c).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_http.h"
#include "gw_listen.h"
#include "gw_recorder.h"
#include "gw_sessions.h"
#include "gw_workers.h"
#include "gw_ws.h"
#include "pyc_config.h"
#include "pyc_health.h"
#include "pyc_log.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void) sig;
	stop_requested = 1;
}

/* `--health`, for container healthchecks: the public port (and WS_PORT
 * when set) accepts a connection on this machine. Exit 0 healthy, 1 not,
 * 2 bad configuration. */
static int health_probe(void)
{
	pyc_config cfg;
	char err[512];
	pyc_err rv;
	if (pyc_config_load(&cfg, err, sizeof(err)) != PYC_OK) {
		fprintf(stderr, "pyc-gateway --health: bad configuration: %s\n", err);
		return 2;
	}
	if ((rv = pyc_health_tcp("127.0.0.1", cfg.backend_port, 3000)) != PYC_OK) {
		fprintf(stderr, "pyc-gateway --health: port %d: %s\n", cfg.backend_port,
		    pyc_strerror(rv));
		return 1;
	}
	if (cfg.ws_port > 0 && (rv = pyc_health_tcp("127.0.0.1", cfg.ws_port, 3000)) != PYC_OK) {
		fprintf(stderr, "pyc-gateway --health: WS_PORT %d: %s\n", cfg.ws_port,
		    pyc_strerror(rv));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	pyc_config cfg;
	gw_recorder *rec = NULL;
	gw_sessions *reg = NULL;
	gw_ws *ws = NULL;
	gw_workers *workers = NULL;
	gw_http *http = NULL;
	gw_listen *pub = NULL;
	int code = 1;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("pyc-gateway: the public WebSocket and HTTP process of Pycoustics.\n"
		       "Configured from the environment:\n\n| variable | default | meaning |\n"
		       "|---|---|---|\n");
		pyc_config_print_table(stdout);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--health") == 0)
		return health_probe();
	pyc_config_load_or_exit(&cfg, "gateway");
	pyc_config_log(&cfg);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (pyc_config_prepare_url(cfg.worker_listen) != PYC_OK) {
		pyc_log(PYC_LOG_ERROR, "cannot create the folder of WORKER_LISTEN_URL=%s",
		    cfg.worker_listen);
		return 1;
	}
	if (gw_recorder_create(&rec, cfg.recorder_ctl_url, cfg.request_timeout_ms) != PYC_OK)
		goto out;
	if (gw_sessions_create(&reg, &cfg, rec) != PYC_OK)
		goto out;
	{
		char list[sizeof(cfg.run_dir) + 32];
		snprintf(list, sizeof(list), "%s/gateway-sessions", cfg.run_dir);
		if (pyc_mkdirs(cfg.run_dir) != PYC_OK ||
		    gw_sessions_keep_list(reg, list) != PYC_OK)
			pyc_log(PYC_LOG_WARN, "no session list under RUN_DIR=%s: the recordings of "
			    "sessions cut by a crash will not be cleaned up", cfg.run_dir);
	}
	if (gw_ws_create(&ws, &cfg, reg) != PYC_OK)
		goto out;
	if (gw_workers_create(&workers, cfg.worker_listen, ws, gw_sessions_worker_ops(), reg) !=
	    PYC_OK)
		goto out;
	gw_sessions_set_io(reg, workers, ws);
	if (gw_http_create(&http, &cfg, rec) != PYC_OK)
		goto out;
	if (gw_listen_create(&pub, &cfg, ws, http) != PYC_OK)
		goto out;
	pyc_log(PYC_LOG_INFO, "gateway ready: http://%s:%d/ ws://%s:%d/ws/audio",
	    cfg.bind_address, cfg.backend_port, cfg.bind_address, cfg.backend_port);

	while (!stop_requested)
		gw_ws_service(ws);

	pyc_log(PYC_LOG_INFO, "stopping: ending %d session(s)", gw_sessions_count(reg));
	gw_listen_stop(pub);
	gw_http_destroy(http);
	http = NULL;
	gw_workers_bye(workers);
	gw_sessions_end_all(reg);
	int64_t deadline = gw_now_us() + (int64_t) cfg.request_timeout_ms * 1000 + 500000;
	while (gw_sessions_count(reg) > 0 && gw_now_us() < deadline)
		gw_ws_service(ws);
	if (gw_sessions_count(reg) > 0)
		pyc_log(PYC_LOG_WARN, "stopping: %d session(s) not confirmed by their workers",
		    gw_sessions_count(reg));
	code = 0;
out:
	gw_listen_stop(pub);
	gw_http_destroy(http); /* before pub: MHD's closes release pub's counts */
	gw_listen_destroy(pub);
	gw_workers_stop(workers); /* closes the worker socket */
	gw_ws_destroy(ws);        /* closes every connection */
	gw_workers_destroy(workers);
	gw_sessions_destroy(reg);
	gw_recorder_destroy(rec);
	pyc_log(PYC_LOG_INFO, "stopped");
	return code;
}
