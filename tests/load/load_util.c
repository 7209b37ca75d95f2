/* load_util.c - /proc, /metrics, folder, database and recording checks of
 * the load tests (load_util.h).
 *
 * NOTES: a stat line is "pid (comm) state ppid ...": comm may hold spaces
 * and parentheses, so the fields are read after the last ')'. The
 * database is opened read-only beside the running recorder, as any
 * reader of a WAL database may; SQLite is used in this file only.
 */
#include "load_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "gw_testclient.h"
#include "it_system_util.h"
#include "load_client.h"

long load_env_long(const char *name, long def)
{
	const char *v = getenv(name);
	char *end;
	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0) {
		fprintf(stderr, "%s=%s is not a count; using %ld\n", name, v, def);
		return def;
	}
	return n;
}

long load_rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

int load_fd_count(int pid)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor is not pid's */
}

void load_fd_print(int pid, FILE *out)
{
	char path[300], target[300];
	struct dirent *e;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, e->d_name);
		ssize_t k = readlink(path, target, sizeof(target) - 1);
		target[k > 0 ? k : 0] = '\0';
		fprintf(out, "  fd %s -> %s\n", e->d_name, target);
	}
	closedir(d);
}

int load_children(int ppid, int *pids, int cap, int *zombies)
{
	struct dirent *e;
	int n = 0, z = 0;
	DIR *d = opendir("/proc");
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		int pid = atoi(e->d_name);
		pid_t pp;
		char st;
		if (!pyc_proc_stat(pid, &st, &pp) || pp != ppid)
			continue;
		if (pids != NULL && n < cap)
			pids[n] = pid;
		n++;
		z += st == 'Z';
	}
	if (d != NULL)
		closedir(d);
	if (zombies != NULL)
		*zombies = z;
	return n;
}

void load_series_add(load_series *s, double t, long kb)
{
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 64;
		double *nt = realloc(s->t, (size_t) cap * sizeof(*nt));
		if (nt == NULL)
			return;
		s->t = nt;
		long *nk = realloc(s->kb, (size_t) cap * sizeof(*nk));
		if (nk == NULL)
			return;
		s->kb = nk;
		s->cap = cap;
	}
	s->t[s->n] = t;
	s->kb[s->n] = kb;
	s->n++;
}

void load_series_free(load_series *s)
{
	free(s->t);
	free(s->kb);
	s->t = NULL;
	s->kb = NULL;
	s->n = s->cap = 0;
}

long load_series_growth(const load_series *s, double warm_s, long limit_kb, bool *ok,
    char *summary, size_t cap)
{
	int w = 0;
	while (w < s->n && s->t[w] < warm_s)
		w++;
	int m = s->n - w;
	long mn = -1, mx = -1, max1 = -1, max2 = -1;
	for (int i = 0; i < s->n; i++) {
		if (mn < 0 || s->kb[i] < mn)
			mn = s->kb[i];
		if (s->kb[i] > mx)
			mx = s->kb[i];
	}
	for (int i = w; i < s->n; i++) {
		long *h = i - w < m / 2 ? &max1 : &max2;
		if (s->kb[i] > *h)
			*h = s->kb[i];
	}
	long growth = m >= 4 ? max2 - max1 : 0;
	*ok = m >= 4 && growth <= limit_kb;
	snprintf(summary, cap,
	    "%-14s pid %-7d RSS KiB: first %ld, at warm-up %ld, min %ld, max %ld, last %ld; "
	    "growth over the second half %+ld (limit %ld, %d samples)",
	    s->name, s->pid, s->n ? s->kb[0] : -1, w < s->n ? s->kb[w] : -1, mn, mx,
	    s->n ? s->kb[s->n - 1] : -1, growth, limit_kb, s->n);
	return growth;
}

char *load_metrics(int http_port)
{
	gw_http_resp r;
	if (gw_http(http_port, "GET", "/metrics", NULL, &r) != 0)
		return NULL;
	char *body = r.status == 200 ? r.body : NULL;
	if (body != NULL)
		r.body = NULL;
	gw_http_free(&r);
	return body;
}

double load_metric(const char *text, const char *name)
{
	size_t nl = strlen(name);
	const char *p = text;
	while (p != NULL && *p) {
		if (strncmp(p, name, nl) == 0 && p[nl] == ' ')
			return strtod(p + nl + 1, NULL);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

#define LAT_BUCKETS 13

/* The cumulative latency buckets of a scrape (le "+Inf" as 1e9). */
static int lat_buckets(const char *text, double *le, double *cum)
{
	static const char pre[] = "pyc_meter_latency_seconds_bucket{le=\"";
	int n = 0;
	const char *p = text;
	while (p != NULL && *p && n < LAT_BUCKETS) {
		if (strncmp(p, pre, sizeof(pre) - 1) == 0) {
			const char *v = p + sizeof(pre) - 1;
			le[n] = strncmp(v, "+Inf", 4) == 0 ? 1e9 : strtod(v, NULL);
			const char *sp = strchr(v, ' ');
			cum[n] = sp != NULL ? strtod(sp + 1, NULL) : 0;
			n++;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return n;
}

double load_metric_lat_q(const char *before, const char *after, double q)
{
	double le0[LAT_BUCKETS], c0[LAT_BUCKETS], le1[LAT_BUCKETS], c1[LAT_BUCKETS];
	int n0 = before != NULL ? lat_buckets(before, le0, c0) : 0;
	int n1 = lat_buckets(after, le1, c1);
	if (n1 == 0)
		return -1;
	double total = c1[n1 - 1] - (n0 == n1 ? c0[n0 - 1] : 0);
	if (total <= 0)
		return -1;
	for (int i = 0; i < n1; i++) {
		double c = c1[i] - (n0 == n1 ? c0[i] : 0);
		if (c >= q * total)
			return le1[i];
	}
	return le1[n1 - 1];
}

void load_metric_lat_print(const char *before, const char *after, FILE *out)
{
	double le0[LAT_BUCKETS], c0[LAT_BUCKETS], le1[LAT_BUCKETS], c1[LAT_BUCKETS];
	int n0 = before != NULL ? lat_buckets(before, le0, c0) : 0;
	int n1 = lat_buckets(after, le1, c1);
	double prev = 0;
	fprintf(out, "gateway latency histogram (le ms: count):");
	for (int i = 0; i < n1; i++) {
		double c = c1[i] - (n0 == n1 ? c0[i] : 0);
		if (le1[i] >= 1e9)
			fprintf(out, " +Inf: %.0f", c - prev);
		else
			fprintf(out, " %g: %.0f", le1[i] * 1000, c - prev);
		prev = c;
	}
	fprintf(out, "\n");
}

load_sess *load_open_ready(load_client *cl, int http_port, const char *tag, int idx)
{
	char sid[64];
	ck_assert_msg(load_wait_idle_worker(http_port, 20000), "no idle worker");
	sys_mksid(sid, sizeof(sid), tag);
	load_sess *ls = load_sess_open(cl, sid, idx, 0);
	ck_assert_ptr_nonnull(ls);
	load_sess_text(ls, "{\"action\":\"init\",\"sample_rate\":44100,\"channels\":2,\"gain\":0,"
	                   "\"filter_enabled\":false}");
	int64_t end = load_now_us() + 20000000;
	while (ls->ready == 0 && ls->state != LOAD_CLOSED && load_now_us() < end)
		load_client_service(cl, 5000);
	ck_assert_msg(ls->ready == 1, "session %d not ready (state %d, close %d, %s)", idx,
	    ls->state, ls->close_code, ls->last_error);
	return ls;
}

bool load_wait_idle_worker(int http_port, int timeout_ms)
{
	int64_t end = load_now_us() + (int64_t) timeout_ms * 1000;
	for (;;) {
		char *m = load_metrics(http_port);
		double idle = m != NULL ? load_metric(m, "pyc_workers_idle") : -1;
		free(m);
		if (idle > 0)
			return true;
		if (load_now_us() > end)
			return false;
		usleep(20000);
	}
}

int load_count_files(const char *dir)
{
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || strcmp(e->d_name, "..") == 0))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			n++;
	}
	closedir(d);
	return n;
}

long load_db_rows(const char *db_path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long n = -1;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto done;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM recordings", -1, &st, NULL) !=
	    SQLITE_OK)
		goto done;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long) sqlite3_column_int64(st, 0);
done:
	if (n < 0)
		fprintf(stderr, "%s: %s\n", db_path, db ? sqlite3_errmsg(db) : "cannot open");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static const cJSON *find_entry(const cJSON *list, const char *fname)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, list)
	{
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "filename");
		if (cJSON_IsString(f) && strcmp(f->valuestring, fname) == 0)
			return e;
	}
	return NULL;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

bool load_check_recording(int http_port, const char *sid, const char *fname, uint32_t key,
    uint64_t first, uint64_t frames, int rate, int channels, char *err, size_t cap)
{
	char path[400];
	gw_http_resp r = {0};
	cJSON *list = NULL;
	bool ok = false;
	int wrate = 0, wch = 0;
	size_t dlen = 0;

	snprintf(path, sizeof(path), "/recordings?session_id=%s&limit=100", sid);
	if (gw_http(http_port, "GET", path, NULL, &r) != 0 || r.status != 200) {
		snprintf(err, cap, "list: status %d", r.status);
		goto done;
	}
	list = cJSON_Parse(r.body);
	const cJSON *e = find_entry(list, fname);
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(e, "state");
	if (e == NULL) {
		snprintf(err, cap, "%s not in the list of %s", fname, sid);
		goto done;
	}
	if (!cJSON_IsString(state) || strcmp(state->valuestring, "complete") != 0 ||
	    num(e, "frames") != (double) frames || num(e, "sample_rate") != rate ||
	    num(e, "channels") != channels) {
		snprintf(err, cap, "%s listed as state %s, %.0f frames at %.0f Hz x %.0f (sent %llu)",
		    fname, cJSON_IsString(state) ? state->valuestring : "?", num(e, "frames"),
		    num(e, "sample_rate"), num(e, "channels"), (unsigned long long) frames);
		goto done;
	}
	gw_http_free(&r);

	snprintf(path, sizeof(path), "/recordings/%s", fname);
	if (gw_http(http_port, "GET", path, NULL, &r) != 0 || r.status != 200) {
		snprintf(err, cap, "download %s: status %d", fname, r.status);
		goto done;
	}
	const uint8_t *d = wav_data(r.body, r.body_len, &wrate, &wch, &dlen);
	if (d == NULL || wrate != rate || wch != channels) {
		snprintf(err, cap, "%s: not a %d Hz x %d WAV", fname, rate, channels);
		goto done;
	}
	size_t fb = (size_t) channels * 2;
	if (dlen != frames * fb) {
		snprintf(err, cap, "%s: %zu frames in the file, %llu sent", fname, dlen / fb,
		    (unsigned long long) frames);
		goto done;
	}
	for (uint64_t i = 0; i < frames; i++)
		for (int ch = 0; ch < channels; ch++) {
			const uint8_t *p = d + i * fb + (size_t) ch * 2;
			int16_t got = (int16_t) (p[0] | p[1] << 8);
			if (got != load_sample(key, first + i, ch)) {
				snprintf(err, cap, "%s: frame %llu channel %d is %d, sent %d", fname,
				    (unsigned long long) i, ch, got, load_sample(key, first + i, ch));
				goto done;
			}
		}
	ok = true;
done:
	cJSON_Delete(list);
	gw_http_free(&r);
	return ok;
}

int load_delete_recording(int http_port, const char *fname)
{
	char path[300];
	gw_http_resp r;
	snprintf(path, sizeof(path), "/recordings/%s", fname);
	if (gw_http(http_port, "DELETE", path, NULL, &r) != 0)
		return -1;
	int st = r.status;
	gw_http_free(&r);
	return st;
}

int load_list_count(int http_port, const char *sid)
{
	char path[300];
	gw_http_resp r;
	int n = -1;
	snprintf(path, sizeof(path), "/recordings?session_id=%s&limit=1000", sid);
	if (gw_http(http_port, "GET", path, NULL, &r) != 0)
		return -1;
	if (r.status == 200) {
		cJSON *j = cJSON_Parse(r.body);
		if (cJSON_IsArray(j))
			n = cJSON_GetArraySize(j);
		cJSON_Delete(j);
	}
	gw_http_free(&r);
	return n;
}
