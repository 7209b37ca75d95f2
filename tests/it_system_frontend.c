/* it_system_frontend.c - the dashboard's files from FRONTEND_DIR: index at
 * /, assets with their MIME types, the index for the app's own routes, and
 * no way out of the folder.
 *
 * NOTES: the folder is made here before the system starts (index.html,
 * assets/app.js, assets/style.css, logo.svg), with a file beside it
 * (secret.txt) that a path traversal would reach.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "it_system_util.h"

#define INDEX "<!doctype html><title>pycoustics</title><div id=root></div>"
#define SECRET "secret-outside-the-folder"

static sys S;
static char *root;

static void put(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "w");
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* GET path: the status, Content-Type in ct, and whether the body is b. */
static int get(const char *path, char *ct, size_t cap, const char *b, bool *same)
{
	gw_http_resp r;
	ck_assert_int_eq(sys_http(&S, "GET", path, NULL, &r), 0);
	int st = r.status;
	ct[0] = '\0';
	gw_http_header(&r, "Content-Type", ct, cap);
	*same = b != NULL && strcmp(r.body, b) == 0;
	ck_assert_msg(strstr(r.body, SECRET) == NULL, "%s leaked the file outside", path);
	gw_http_free(&r);
	return st;
}

START_TEST(test_system_frontend_index_and_assets)
{
	static const struct {
		const char *path, *type, *body;
	} t[] = {
		{"/", "text/html", INDEX},
		{"/index.html", "text/html", INDEX},
		{"/assets/app.js", "javascript", "console.log(1);\n"},
		{"/assets/style.css", "text/css", "body{color:red}\n"},
		{"/logo.svg", "image/svg+xml", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n"},
		{"/session/abc", "text/html", INDEX}, /* the app's own route */
	};
	char ct[128];
	bool same;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_int_eq(get(t[i].path, ct, sizeof(ct), t[i].body, &same), 200);
		ck_assert_msg(same, "%s: wrong body", t[i].path);
		ck_assert_msg(strstr(ct, t[i].type) != NULL, "%s: Content-Type %s", t[i].path, ct);
		if (strcmp(t[i].type, "javascript") == 0)
			ck_assert(strncmp(ct, "text/javascript", 15) == 0 ||
			    strncmp(ct, "application/javascript", 22) == 0);
	}
	/* a missing asset is a 404, not the index */
	ck_assert_int_eq(get("/assets/missing.js", ct, sizeof(ct), NULL, &same), 404);
}
END_TEST

START_TEST(test_system_frontend_no_traversal)
{
	static const char *const paths[] = {"/../secret.txt", "/../../etc/passwd",
		"/%2e%2e/secret.txt", "/%2e%2e/%2e%2e/etc/passwd", "/assets/../../secret.txt",
		"/assets/..%2f..%2fsecret.txt", "/..%2fsecret.txt", "/%2E%2E%2Fsecret.txt",
		"/assets/%2e%2e/%2e%2e/secret.txt", "/..\\secret.txt", "/.%2e/secret.txt"};
	char ct[128];
	bool same;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int st = get(paths[i], ct, sizeof(ct), NULL, &same);
		ck_assert_msg(st == 404, "%s: status %d", paths[i], st);
	}
}
END_TEST

int main(void)
{
	char dir[600], site[700], assets[800];
	char *base = pyc_tmpdir_new();
	if (base == NULL)
		return EXIT_FAILURE;
	snprintf(dir, sizeof(dir), "%s", base);
	snprintf(site, sizeof(site), "%s/site", dir);
	snprintf(assets, sizeof(assets), "%s/assets", site);
	mkdir(site, 0755);
	mkdir(assets, 0755);
	root = site;
	put("index.html", INDEX);
	put("assets/app.js", "console.log(1);\n");
	put("assets/style.css", "body{color:red}\n");
	put("logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n");
	root = dir;
	put("secret.txt", SECRET "\n");
	root = site;

	char fe[800];
	snprintf(fe, sizeof(fe), "FRONTEND_DIR=%s", site);
	const char *const extra[] = {fe, NULL};
	int rc = EXIT_FAILURE;
	if (sys_start(&S, extra)) {
		Suite *s = suite_create("system_frontend");
		TCase *tc = sys_tcase(s, "frontend", 20);
		tcase_add_test(tc, test_system_frontend_index_and_assets);
		tcase_add_test(tc, test_system_frontend_no_traversal);
		rc = sys_run(&S, s);
	}
	pyc_tmpdir_remove(base);
	free(base);
	return rc;
}
