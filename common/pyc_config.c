/* pyc_config.c - the table of environment variables and their checks.
 *
 * NOTES: the table is the documentation: name, default, bounds, meaning.
 * README's settings table is written from it. Defaults may refer to the
 * data or run folder with "@DATA" and "@RUN", expanded after those two are
 * read (they come first in the table). Relative folders are made absolute
 * against the working directory at start, so forked children and ipc://
 * paths agree whatever their own working directory.
 */
#include "pyc_config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum { T_INT, T_DBL, T_STR, T_URL, T_PATH, T_LEVEL, T_FORMAT } vtype;

typedef struct var {
	const char *name;
	vtype type;
	size_t off;
	size_t size; /* for strings */
	const char *def;
	double lo, hi;
	const char *help;
} var;

#define OFF(f) offsetof(pyc_config, f)
#define SZ(f) sizeof(((pyc_config *) 0)->f)
#define I(n, f, d, lo, hi, h) {n, T_INT, OFF(f), 0, d, lo, hi, h}
#define D(n, f, d, lo, hi, h) {n, T_DBL, OFF(f), 0, d, lo, hi, h}
#define S(n, t, f, d, h) {n, t, OFF(f), SZ(f), d, 0, 0, h}

static const var vars[] = {
	S("DATA_DIR", T_PATH, data_dir, "./data", "folder for recordings and the database"),
	S("RUN_DIR", T_PATH, run_dir, "./run", "folder for local ipc:// sockets and the gateway's list of live sessions"),
	{"LOG_LEVEL", T_LEVEL, OFF(log_level), 0, "info", 0, 0, "debug, info, warn or error"},
	{"LOG_FORMAT", T_FORMAT, OFF(log_format), 0, "text", 0, 0, "text or json"},
	S("WORKER_LISTEN_URL", T_URL, worker_listen, "ipc://@RUN/workers.ipc",
	    "where the gateway accepts dsp-worker hosts and workers"),
	S("GATEWAY_URL", T_URL, gateway_url, "ipc://@RUN/workers.ipc",
	    "where dsp-worker hosts and workers reach the gateway"),
	S("RECORDER_LISTEN_URL", T_URL, recorder_listen, "ipc://@RUN/recorder.ipc",
	    "where the recorder accepts workers' recording streams"),
	S("RECORDER_URL", T_URL, recorder_url, "ipc://@RUN/recorder.ipc",
	    "where workers reach the recorder"),
	S("RECORDER_CTL_LISTEN_URL", T_URL, recorder_ctl_listen,
	    "ipc://@RUN/recorder-ctl.ipc", "where the recorder answers the gateway's requests"),
	S("RECORDER_CTL_URL", T_URL, recorder_ctl_url, "ipc://@RUN/recorder-ctl.ipc",
	    "where the gateway reaches the recorder"),
	I("BACKEND_PORT", backend_port, "8000", 1, 65535,
	    "the public port: HTTP API, dashboard and WebSocket /ws/audio"),
	I("WS_PORT", ws_port, "0", 0, 65535,
	    "optional extra WebSocket-only port (0: none; the WebSocket is on BACKEND_PORT)"),
	S("BIND_ADDRESS", T_STR, bind_address, "0.0.0.0", "address the public ports bind to"),
	S("FRONTEND_URL", T_STR, frontend_url,
	    "http://localhost:3000,http://127.0.0.1:3000,http://localhost:8000,http://127.0.0.1:8000",
	    "allowed browser origins (CORS and WebSocket Origin), comma-separated"),
	S("FRONTEND_DIR", T_STR, frontend_dir, "", "built dashboard served at / (empty: none)"),
	S("TRUSTED_PROXIES", T_STR, trusted_proxies, "127.0.0.1,::1",
	    "addresses whose X-Forwarded-For is believed, comma-separated"),
	I("SESSION_GRACE_SECONDS", session_grace_s, "30", 0, 86400,
	    "how long a dropped session waits for a reconnect"),
	I("MAX_SESSIONS", max_sessions, "1000", 1, 100000, "live WebSocket sessions at most"),
	I("MAX_SESSIONS_PER_IP", max_sessions_per_ip, "64", 1, 100000,
	    "live WebSocket connections per client address"),
	I("WS_MAX_MESSAGE_BYTES", ws_max_message, "1048576", 1024, 16777216,
	    "largest WebSocket message, after reassembly"),
	I("WS_IDLE_TIMEOUT_SECONDS", ws_idle_timeout_s, "60", 5, 86400,
	    "a WebSocket silent this long (no data, no pong) is closed"),
	I("HTTP_MAX_CONNECTIONS", http_max_connections, "256", 1, 65536, "HTTP connections at most"),
	I("HTTP_MAX_PER_IP", http_max_per_ip, "32", 1, 65536, "HTTP connections per client address"),
	I("HTTP_TIMEOUT_SECONDS", http_timeout_s, "30", 1, 3600, "idle HTTP connection timeout"),
	I("REQUEST_TIMEOUT_MS", request_timeout_ms, "5000", 10, 600000,
	    "longest wait for an internal request's reply"),
	S("DSP_HOST_ID", T_STR, host_id, "", "name of this dsp-worker host (empty: hostname)"),
	I("DSP_POOL_SPARE", pool_spare, "4", 0, 1024, "pre-started idle workers kept ready"),
	I("DSP_POOL_MAX", pool_max, "512", 1, 16384, "worker processes per host at most"),
	I("DSP_MAX_CHUNK_FRAMES", max_chunk_frames, "65536", 1, 1048576,
	    "largest audio chunk a worker accepts, in frames"),
	D("DSP_MAX_BACKLOG_SECONDS", max_backlog_s, "2", 0.05, 60,
	    "audio ahead of real time a session may send before it is dropped"),
	S("RECORDINGS_DIR", T_PATH, recordings_dir, "@DATA/recordings", "folder of the WAV files"),
	S("DB_PATH", T_PATH, db_path, "@DATA/pycoustics.db", "SQLite database file"),
	I("RECORDING_RETENTION_SECONDS", retention_s, "0", 0, 315360000,
	    "keep recordings this long after their session ends (0: delete at session end)"),
	I("RECORDING_SWEEP_SECONDS", sweep_interval_s, "60", 1, 86400,
	    "how often expired recordings are swept"),
	I("RECORDER_QUEUE_MAX", recorder_queue_max, "256", 4, 65536,
	    "audio blocks queued per recording before it is failed"),
};

#define N_VARS (sizeof(vars) / sizeof(vars[0]))

static void expand(char *dst, size_t cap, const char *def, const pyc_config *c,
    int *overflow)
{
	size_t n = 0;
	*overflow = 0;
	while (*def != '\0') {
		const char *sub = NULL;
		if (strncmp(def, "@DATA", 5) == 0) {
			sub = c->data_dir;
			def += 5;
		} else if (strncmp(def, "@RUN", 4) == 0) {
			sub = c->run_dir;
			def += 4;
		}
		if (sub != NULL) {
			size_t l = strlen(sub);
			if (n + l >= cap) {
				*overflow = 1;
				return;
			}
			memcpy(dst + n, sub, l);
			n += l;
		} else {
			if (n + 1 >= cap) {
				*overflow = 1;
				return;
			}
			dst[n++] = *def++;
		}
	}
	dst[n] = '\0';
}

static int url_ok(const char *u, const char **why)
{
	static const char *const schemes[] = {"ipc://", "tcp://", "tcp4://",
	    "tcp6://", "inproc://"};
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t l = strlen(schemes[i]);
		if (strncmp(u, schemes[i], l) == 0 && u[l] != '\0') {
			if (i == 0 && strlen(u + l) > 107) {
				*why = "an ipc:// path of at most 107 bytes";
				return 0;
			}
			return 1;
		}
	}
	*why = "an nng URL: ipc://PATH, tcp://HOST:PORT or inproc://NAME";
	return 0;
}

static int make_absolute(char *path, size_t cap)
{
	char cwd[PATH_MAX];
	char tmp[PYC_CFG_STR_MAX];
	if (path[0] == '/')
		return 1;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return 0;
	const char *rel = path;
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	if (strcmp(rel, ".") == 0)
		rel = "";
	int n = snprintf(tmp, sizeof(tmp), "%s%s%s", cwd, rel[0] ? "/" : "", rel);
	if (n < 0 || (size_t) n >= sizeof(tmp) || (size_t) n >= cap)
		return 0;
	memcpy(path, tmp, (size_t) n + 1);
	return 1;
}

static pyc_err fail(char *errbuf, size_t errlen, const var *v, const char *val,
    const char *expect)
{
	if (errbuf != NULL && errlen > 0)
		snprintf(errbuf, errlen, "%s=%.200s: expected %s", v->name, val, expect);
	return PYC_EINVAL;
}

static pyc_err load_one(pyc_config *cfg, const var *v, char *errbuf, size_t errlen)
{
	char defbuf[PYC_CFG_STR_MAX];
	char expect[160];
	const char *env = getenv(v->name);
	const char *val;
	char *end;
	int overflow;

	expand(defbuf, sizeof(defbuf), v->def, cfg, &overflow);
	if (overflow)
		return fail(errbuf, errlen, v, v->def, "a shorter DATA_DIR or RUN_DIR");
	val = env != NULL ? env : defbuf;

	switch (v->type) {
	case T_INT: {
		errno = 0;
		long l = strtol(val, &end, 10);
		snprintf(expect, sizeof(expect), "an integer from %.0f to %.0f", v->lo, v->hi);
		if (val[0] == '\0' || *end != '\0' || errno != 0 || l < v->lo || l > v->hi)
			return fail(errbuf, errlen, v, val, expect);
		*(int *) ((char *) cfg + v->off) = (int) l;
		break;
	}
	case T_DBL: {
		errno = 0;
		double d = strtod(val, &end);
		snprintf(expect, sizeof(expect), "a number from %g to %g", v->lo, v->hi);
		if (val[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(d) ||
		    d < v->lo || d > v->hi)
			return fail(errbuf, errlen, v, val, expect);
		*(double *) ((char *) cfg + v->off) = d;
		break;
	}
	case T_LEVEL: {
		int lv = pyc_log_level_parse(val);
		if (lv < 0)
			return fail(errbuf, errlen, v, val, "one of debug, info, warn, error");
		cfg->log_level = lv;
		break;
	}
	case T_FORMAT:
		if (strcmp(val, "text") == 0)
			cfg->log_format = PYC_LOG_TEXT;
		else if (strcmp(val, "json") == 0)
			cfg->log_format = PYC_LOG_JSON;
		else
			return fail(errbuf, errlen, v, val, "text or json");
		break;
	case T_STR:
	case T_URL:
	case T_PATH: {
		char *dst = (char *) cfg + v->off;
		const char *why = NULL;
		if (strlen(val) >= v->size) {
			snprintf(expect, sizeof(expect), "at most %zu bytes", v->size - 1);
			return fail(errbuf, errlen, v, val, expect);
		}
		strcpy(dst, val);
		if (v->type == T_URL && !url_ok(dst, &why))
			return fail(errbuf, errlen, v, val, why);
		if (v->type == T_PATH) {
			if (dst[0] == '\0')
				return fail(errbuf, errlen, v, val, "a non-empty path");
			if (!make_absolute(dst, v->size))
				return fail(errbuf, errlen, v, val, "a path that can be made absolute");
		}
		break;
	}
	}
	return PYC_OK;
}

pyc_err pyc_config_load(pyc_config *cfg, char *errbuf, size_t errlen)
{
	pyc_err rv;
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < N_VARS; i++)
		if ((rv = load_one(cfg, &vars[i], errbuf, errlen)) != PYC_OK)
			return rv;
	if (cfg->host_id[0] == '\0' && gethostname(cfg->host_id, sizeof(cfg->host_id)) != 0)
		strcpy(cfg->host_id, "dsp-worker");
	cfg->host_id[sizeof(cfg->host_id) - 1] = '\0';
	if (cfg->pool_spare > cfg->pool_max) {
		if (errbuf != NULL && errlen > 0)
			snprintf(errbuf, errlen,
			    "DSP_POOL_SPARE=%d: expected at most DSP_POOL_MAX (%d)",
			    cfg->pool_spare, cfg->pool_max);
		return PYC_EINVAL;
	}
	return PYC_OK;
}

void pyc_config_log(const pyc_config *c)
{
	pyc_log(PYC_LOG_INFO,
	    "config: data=%s run=%s workers=%s/%s recorder=%s/%s ctl=%s/%s "
	    "ports http=%d ws=%d bind=%s origins=%s grace=%ds pool=%d/%d "
	    "retention=%ds log=%d",
	    c->data_dir, c->run_dir, c->worker_listen, c->gateway_url,
	    c->recorder_listen, c->recorder_url, c->recorder_ctl_listen,
	    c->recorder_ctl_url, c->backend_port, c->ws_port, c->bind_address,
	    c->frontend_url, c->session_grace_s, c->pool_spare, c->pool_max,
	    c->retention_s, c->log_level);
}

void pyc_config_load_or_exit(pyc_config *cfg, const char *service)
{
	char err[512];
	if (pyc_config_load(cfg, err, sizeof(err)) != PYC_OK) {
		fprintf(stderr, "%s: bad configuration: %s\n", service, err);
		exit(2);
	}
	pyc_log_init(service, (pyc_log_level) cfg->log_level,
	    (pyc_log_format) cfg->log_format);
}

pyc_err pyc_mkdirs(const char *path)
{
	char tmp[PYC_CFG_STR_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(tmp))
		return PYC_EINVAL;
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] == '/' || tmp[i] == '\0') {
			char c = tmp[i];
			tmp[i] = '\0';
			if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
				return pyc_err_from_errno(errno);
			tmp[i] = c;
		}
	}
	struct stat st;
	if (stat(path, &st) != 0)
		return pyc_err_from_errno(errno);
	return S_ISDIR(st.st_mode) ? PYC_OK : PYC_EINVAL;
}

pyc_err pyc_config_prepare_url(const char *url)
{
	char dir[PYC_CFG_STR_MAX];
	if (strncmp(url, "ipc://", 6) != 0)
		return PYC_OK;
	snprintf(dir, sizeof(dir), "%s", url + 6);
	char *slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return PYC_OK;
	*slash = '\0';
	return pyc_mkdirs(dir);
}

void pyc_config_print_table(FILE *f)
{
	for (size_t i = 0; i < N_VARS; i++)
		fprintf(f, "| `%s` | `%s` | %s |\n", vars[i].name, vars[i].def, vars[i].help);
}
