/* main.c - pyc-dsp-worker: the dsp-worker host, a worker, or the health probe.
 *
 * NOTES: one binary, three roles. Without arguments it is the host (the
 * supervisor of the pool, dw_host.c). The host starts each worker by
 * exec'ing this same binary with `--worker FD PPID` (dw_session.c), so a
 * worker starts from a clean address space. `--health` checks the
 * configuration and that the gateway can be dialled, for a container
 * healthcheck. Configuration comes from the environment only
 * (pyc_config.c); a worker inherits its host's.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dw_host.h"
#include "dw_proctitle.h"
#include "dw_session.h"
#include "pyc_config.h"
#include "pyc_log.h"

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: pyc-dsp-worker            run the worker host (pool supervisor)\n"
	    "       pyc-dsp-worker --health   exit 0 if the gateway can be dialled\n"
	    "       pyc-dsp-worker --worker FD PPID   (started by the host)\n"
	    "\nSettings come from the environment:\n\n"
	    "| variable | default | meaning |\n|---|---|---|\n");
	pyc_config_print_table(f);
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static pyc_config cfg;
	char err[512];

	dw_proctitle_init(argc, argv);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "--worker") == 0) {
		long fd, ppid;
		if (argc != 4 || parse_int(argv[2], 0, INT_MAX, &fd) != 0 ||
		    parse_int(argv[3], 0, INT_MAX, &ppid) != 0) {
			fprintf(stderr, "pyc-dsp-worker: --worker needs FD and PPID\n");
			return 2;
		}
		if (pyc_config_load(&cfg, err, sizeof(err)) != PYC_OK) {
			fprintf(stderr, "dsp-worker: bad configuration: %s\n", err);
			return 2;
		}
		pyc_log_init("dsp-worker", (pyc_log_level) cfg.log_level,
		    (pyc_log_format) cfg.log_format);
		return dw_session_main(&cfg, (int) fd, (pid_t) ppid);
	}
	if (argc >= 2 && strcmp(argv[1], "--health") == 0) {
		if (pyc_config_load(&cfg, err, sizeof(err)) != PYC_OK) {
			fprintf(stderr, "pyc-dsp-worker --health: bad configuration: %s\n", err);
			return 2;
		}
		int t = cfg.request_timeout_ms < 3000 ? cfg.request_timeout_ms : 3000;
		return dw_host_health(&cfg, t);
	}
	if (argc >= 2) {
		fprintf(stderr, "pyc-dsp-worker: unknown argument '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	pyc_config_load_or_exit(&cfg, "dsp-host");
	pyc_config_log(&cfg);
	return dw_host_main(&cfg, "/proc/self/exe");
}
