/* check_rec_db.c - unit tests of rec_db (SQLite metadata, migrations) and rec_json.
 *
 * NOTES: each test opens a fresh database file in a temporary folder. The
 * tests use sqlite3 directly (linked for the test only) to look at what
 * rec_db cannot show: the journal mode, and a file whose schema version
 * is newer than the program's, which must be refused.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "pyc_testproc.h"
#include "rec_db.h"
#include "rec_json.h"

static char *dir;
static char path[1024];
static rec_db *db;

static void setup(void)
{
	dir = pyc_tmpdir_new();
	snprintf(path, sizeof(path), "%s/t.db", dir);
	ck_assert_int_eq(rec_db_open(path, &db), PYC_OK);
}

static void teardown(void)
{
	rec_db_close(db);
	pyc_tmpdir_remove(dir);
	free(dir);
}

static void make_row(rec_row *r, const char *name, const char *sid, int64_t us)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->filename, sizeof(r->filename), "%s", name);
	snprintf(r->session_id, sizeof(r->session_id), "%s", sid);
	snprintf(r->created, sizeof(r->created), "2026-11-24T05:00:00Z");
	r->created_us = us;
	r->sample_rate = 48000;
	r->channels = 2;
	snprintf(r->settings, sizeof(r->settings), "{\"gain\":3}");
	r->state = REC_STATE_RECORDING;
}

START_TEST(test_rec_db_schema_and_pragmas)
{
	sqlite3 *h;
	sqlite3_stmt *st;

	ck_assert_int_eq(rec_db_version(db), REC_DB_VERSION);
	ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *) sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(h);
	/* Reopening migrates nothing and keeps the version. */
	rec_db *again;
	ck_assert_int_eq(rec_db_open(path, &again), PYC_OK);
	ck_assert_int_eq(rec_db_version(again), REC_DB_VERSION);
	rec_db_close(again);
}
END_TEST

START_TEST(test_rec_db_newer_schema_refused)
{
	sqlite3 *h;
	rec_db *again = NULL;

	ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	ck_assert_int_eq(rec_db_open(path, &again), PYC_EVERSION);
	ck_assert(again == NULL);
}
END_TEST

START_TEST(test_rec_db_insert_list_finish_delete)
{
	rec_row r, *rows;
	size_t n;

	make_row(&r, "rec_a.wav", "s1", 100);
	ck_assert_int_eq(rec_db_insert(db, &r), PYC_OK);
	ck_assert(r.id > 0);
	make_row(&r, "rec_b.wav", "s1", 200);
	ck_assert_int_eq(rec_db_insert(db, &r), PYC_OK);
	make_row(&r, "rec_c.wav", "s2", 300);
	ck_assert_int_eq(rec_db_insert(db, &r), PYC_OK);
	make_row(&r, "rec_c.wav", "s2", 300);
	ck_assert_int_eq(rec_db_insert(db, &r), PYC_EEXIST);

	ck_assert_int_eq(rec_db_list(db, "s1", 0, 10, &rows, &n), PYC_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(rows[0].filename, "rec_b.wav"); /* newest first */
	ck_assert_str_eq(rows[1].filename, "rec_a.wav");
	ck_assert_int_eq(rows[0].state, REC_STATE_RECORDING);
	free(rows);
	ck_assert_int_eq(rec_db_list(db, "s1", 1, 10, &rows, &n), PYC_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(rows[0].filename, "rec_a.wav");
	free(rows);
	ck_assert_int_eq(rec_db_list(db, "s1", 0, 0, &rows, &n), PYC_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert(rows == NULL);

	ck_assert_int_eq(rec_db_finish(db, "rec_a.wav", REC_STATE_COMPLETE, 480, 0.01, 1964),
	    PYC_OK);
	ck_assert_int_eq(rec_db_get(db, "rec_a.wav", &r), PYC_OK);
	ck_assert_int_eq(r.state, REC_STATE_COMPLETE);
	ck_assert_uint_eq(r.frames, 480);
	ck_assert_uint_eq(r.size_bytes, 1964);
	ck_assert_str_eq(r.settings, "{\"gain\":3}");
	ck_assert_int_eq(rec_db_finish(db, "rec_zz.wav", REC_STATE_COMPLETE, 0, 0, 0), PYC_ENOENT);
	ck_assert_int_eq(rec_db_delete(db, "rec_a.wav"), PYC_OK);
	ck_assert_int_eq(rec_db_delete(db, "rec_a.wav"), PYC_ENOENT);
	ck_assert_int_eq(rec_db_get(db, "rec_a.wav", &r), PYC_ENOENT);
	ck_assert_int_eq(rec_db_ping(db), PYC_OK);
}
END_TEST

START_TEST(test_rec_db_expiry)
{
	rec_row r, *rows;
	size_t n;

	make_row(&r, "rec_a.wav", "s1", 100);
	rec_db_insert(db, &r);
	make_row(&r, "rec_b.wav", "s1", 200);
	rec_db_insert(db, &r);
	rec_db_finish(db, "rec_a.wav", REC_STATE_COMPLETE, 0, 0, 44);
	ck_assert_int_eq(rec_db_expire_session(db, "s1", 1000, &n), PYC_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(rec_db_expire_session(db, "s1", 5000, &n), PYC_OK);
	ck_assert_uint_eq(n, 0); /* an expiry once set is kept */
	ck_assert_int_eq(rec_db_expired(db, 999, 10, &rows, &n), PYC_OK);
	ck_assert_uint_eq(n, 0);
	/* Only finished recordings are swept. */
	ck_assert_int_eq(rec_db_expired(db, 1000, 10, &rows, &n), PYC_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(rows[0].filename, "rec_a.wav");
	ck_assert_int_eq(rows[0].expires_at, 1000);
	free(rows);
}
END_TEST

START_TEST(test_rec_json_row_and_list)
{
	rec_row r[2];
	char *out;
	size_t len;
	cJSON *a, *o;

	make_row(&r[0], "rec_a.wav", "s\"1", 100);
	r[0].id = 7;
	r[0].frames = 72000;
	r[0].duration_s = 1.5;
	r[0].size_bytes = 288044;
	r[0].state = REC_STATE_RECOVERED;
	make_row(&r[1], "rec_b.wav", "s1", 100);
	snprintf(r[1].settings, sizeof(r[1].settings), "broken{");
	ck_assert_int_eq(rec_json_list(r, 2, &out, &len), PYC_OK);
	ck_assert_uint_eq(len, strlen(out));
	a = cJSON_Parse(out);
	free(out);
	ck_assert(cJSON_IsArray(a));
	o = cJSON_GetArrayItem(a, 0);
	ck_assert_int_eq(cJSON_GetObjectItem(o, "id")->valueint, 7);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "session_id")->valuestring, "s\"1");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "state")->valuestring, "recovered");
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "settings"), "gain")->valueint, 3);
	ck_assert_int_eq(cJSON_GetObjectItem(o, "size_bytes")->valueint, 288044);
	o = cJSON_GetArrayItem(a, 1);
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(o, "settings")));
	cJSON_Delete(a);
	ck_assert_int_eq(rec_json_list(r, 0, &out, &len), PYC_OK);
	ck_assert_str_eq(out, "[]");
	free(out);
	ck_assert_int_eq(rec_json_settings_check("{\"a\":1}"), PYC_OK);
	ck_assert_int_eq(rec_json_settings_check("[]"), PYC_EINVAL);
	ck_assert_int_eq(rec_json_settings_check("{"), PYC_EINVAL);
	ck_assert_int_eq(rec_json_settings_check(""), PYC_EINVAL);
	ck_assert_int_eq(rec_json_settings_check("{} x"), PYC_EINVAL);
}
END_TEST

static Suite *rec_db_suite(void)
{
	Suite *s = suite_create("rec_db");
	TCase *core = tcase_create("core");
	TCase *errors = tcase_create("errors");

	tcase_add_checked_fixture(core, setup, teardown);
	tcase_add_test(core, test_rec_db_schema_and_pragmas);
	tcase_add_test(core, test_rec_db_insert_list_finish_delete);
	tcase_add_test(core, test_rec_db_expiry);
	tcase_add_test(core, test_rec_json_row_and_list);
	suite_add_tcase(s, core);
	tcase_add_checked_fixture(errors, setup, teardown);
	tcase_add_test(errors, test_rec_db_newer_schema_refused);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	return pyc_check_run(rec_db_suite());
}
