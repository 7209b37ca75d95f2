/* check_rec_wav.c - unit tests of rec_wav (libsndfile writer, repair) and rec_name.
 *
 * NOTES: files go to a fresh temporary folder opened as a directory fd,
 * as the recorder does. Torn files are made by hand (a stale header, a
 * partial trailing frame, a header cut short) to check that repair trusts
 * the file's length and keeps only whole frames.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "pyc_testproc.h"
#include "rec_name.h"
#include "rec_wav.h"

static char *dir;
static int dirfd_;

static void setup(void)
{
	dir = pyc_tmpdir_new();
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert(dirfd_ >= 0);
}

static void teardown(void)
{
	close(dirfd_);
	pyc_tmpdir_remove(dir);
	free(dir);
}

static void fill(int16_t *p, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (int16_t) ((int) (i * 31 + (size_t) seed * 977) % 60000 - 30000);
}

static long read_back(const char *name, SF_INFO *info, int16_t *out, size_t cap)
{
	char path[1024];
	SNDFILE *sf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	memset(info, 0, sizeof(*info));
	if ((sf = sf_open(path, SFM_READ, info)) == NULL)
		return -1;
	n = (long) sf_read_short(sf, out, (sf_count_t) cap);
	sf_close(sf);
	return n;
}

START_TEST(test_rec_wav_write_and_read)
{
	rec_wav *w;
	rec_wav_info info;
	SF_INFO si;
	int16_t in[4800], out[4800];

	fill(in, 4800, 1);
	ck_assert_int_eq(rec_wav_create(dirfd_, "a.wav", 48000, 2, &w), PYC_OK);
	ck_assert_int_eq(rec_wav_append(w, in, 1000 * 4), PYC_OK);
	ck_assert_int_eq(rec_wav_checkpoint(w, 1), PYC_OK);
	ck_assert_int_eq(rec_wav_append(w, in + 2000, 1400 * 4), PYC_OK);
	ck_assert_uint_eq(rec_wav_frames(w), 2400);
	ck_assert_int_eq(rec_wav_close(w, &info), PYC_OK);
	ck_assert_uint_eq(info.frames, 2400);
	ck_assert_uint_eq(info.size_bytes, 44 + 2400 * 4);
	ck_assert_uint_eq(info.sample_rate, 48000);
	ck_assert_uint_eq(info.channels, 2);
	ck_assert_int_eq(read_back("a.wav", &si, out, 4800), 4800);
	ck_assert_int_eq(si.frames, 2400);
	ck_assert_int_eq(si.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	ck_assert(memcmp(in, out, sizeof(in)) == 0);
	ck_assert_int_eq(rec_wav_probe(dirfd_, "a.wav", &info), PYC_OK);
	ck_assert_uint_eq(info.frames, 2400);
}
END_TEST

START_TEST(test_rec_wav_header_valid_while_growing)
{
	rec_wav *w;
	SF_INFO si;
	int16_t in[960], out[960];

	fill(in, 960, 2);
	ck_assert_int_eq(rec_wav_create(dirfd_, "g.wav", 8000, 1, &w), PYC_OK);
	ck_assert_int_eq(read_back("g.wav", &si, out, 960), 0); /* empty but valid */
	ck_assert_int_eq(rec_wav_append(w, in, sizeof(in)), PYC_OK);
	ck_assert_int_eq(rec_wav_checkpoint(w, 0), PYC_OK);
	ck_assert_int_eq(read_back("g.wav", &si, out, 960), 960);
	ck_assert(memcmp(in, out, sizeof(in)) == 0);
	rec_wav_close(w, NULL);
}
END_TEST

START_TEST(test_rec_wav_repair_torn_file)
{
	rec_wav *w;
	rec_wav_info info;
	SF_INFO si;
	int16_t in[4000], out[4000];
	uint8_t stale[4] = {4, 0, 0, 0};
	char path[1024];
	int fd;

	fill(in, 4000, 3);
	ck_assert_int_eq(rec_wav_create(dirfd_, "t.wav.part", 44100, 2, &w), PYC_OK);
	ck_assert_int_eq(rec_wav_append(w, in, sizeof(in)), PYC_OK);
	ck_assert_int_eq(rec_wav_checkpoint(w, 0), PYC_OK);
	/* Simulate a crash: the writer is gone (free it without closing by
	 * closing a copy later), the header is stale and a frame is torn. */
	snprintf(path, sizeof(path), "%s/t.wav.part", dir);
	fd = open(path, O_WRONLY);
	ck_assert_int_eq(pwrite(fd, stale, 4, 40), 4);
	ck_assert_int_eq(pwrite(fd, stale, 3, 44 + sizeof(in)), 3);
	close(fd);
	ck_assert_int_eq(rec_wav_repair(dirfd_, "t.wav.part", &info), PYC_OK);
	ck_assert_uint_eq(info.frames, 2000);
	ck_assert_uint_eq(info.size_bytes, 44 + sizeof(in));
	ck_assert_int_eq(read_back("t.wav.part", &si, out, 4000), 4000);
	ck_assert(memcmp(in, out, sizeof(in)) == 0);
	/* Repairing a good file changes nothing. */
	ck_assert_int_eq(rec_wav_repair(dirfd_, "t.wav.part", &info), PYC_OK);
	ck_assert_uint_eq(info.frames, 2000);
	rec_wav_close(w, NULL); /* rewrites the same, consistent header */
}
END_TEST

START_TEST(test_rec_wav_repair_refuses_garbage)
{
	rec_wav_info info;
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/junk.wav", dir);
	f = fopen(path, "w");
	fputs("RIFF....WAVEdata", f);
	fclose(f);
	ck_assert_int_eq(rec_wav_repair(dirfd_, "junk.wav", &info), PYC_EPROTO);
	ck_assert_int_eq(rec_wav_repair(dirfd_, "absent.wav", &info), PYC_ENOENT);
	ck_assert_int_eq(rec_wav_repair(dirfd_, "../x.wav", &info), PYC_EINVAL);
	ck_assert_int_eq(rec_wav_probe(dirfd_, "junk.wav", &info), PYC_EPROTO);
}
END_TEST

START_TEST(test_rec_wav_no_symlink_no_overwrite)
{
	rec_wav *w;
	char path[1024];

	snprintf(path, sizeof(path), "%s/link.wav", dir);
	ck_assert_int_eq(symlink("/tmp/pyc-never-created.wav", path), 0);
	ck_assert_int_ne(rec_wav_create(dirfd_, "link.wav", 48000, 2, &w), PYC_OK);
	ck_assert_int_ne(access("/tmp/pyc-never-created.wav", F_OK), 0);
	ck_assert_int_eq(rec_wav_create(dirfd_, "x.wav", 48000, 2, &w), PYC_OK);
	rec_wav_close(w, NULL);
	ck_assert_int_eq(rec_wav_create(dirfd_, "x.wav", 48000, 2, &w), PYC_EEXIST);
	ck_assert_int_eq(rec_wav_create(dirfd_, "a/b.wav", 48000, 2, &w), PYC_EINVAL);
	ck_assert_int_eq(rec_wav_create(dirfd_, "y.wav", 48000, 3, &w), PYC_EINVAL);
	snprintf(path, sizeof(path), "%s/link.wav", dir);
	ck_assert_int_eq(rec_wav_repair(dirfd_, "link.wav", NULL), PYC_EIO); /* ELOOP */
}
END_TEST

START_TEST(test_rec_wav_partial_frame_refused)
{
	rec_wav *w;
	int16_t in[3] = {1, 2, 3};
	ck_assert_int_eq(rec_wav_create(dirfd_, "p.wav", 48000, 2, &w), PYC_OK);
	ck_assert_int_eq(rec_wav_append(w, in, 6), PYC_EINVAL);
	ck_assert_int_eq(rec_wav_append(w, in, 0), PYC_OK);
	rec_wav_close(w, NULL);
}
END_TEST

START_TEST(test_rec_name_shapes)
{
	char name[REC_NAME_MAX + 1], other[REC_NAME_MAX + 1], base[REC_NAME_MAX + 1];
	char part[REC_NAME_MAX + 1], iso[REC_TIME_MAX];

	ck_assert_int_eq(rec_name_new(1795464900, name), PYC_OK); /* 2026-11-23T20:15:00Z */
	ck_assert_int_eq(strlen(name), REC_NAME_LEN);
	ck_assert(strncmp(name, "rec_20261123T201500Z_", 21) == 0);
	ck_assert(rec_name_valid(name));
	ck_assert_int_eq(rec_name_new(1795464900, other), PYC_OK);
	ck_assert_str_ne(name, other);
	rec_name_part(name, part);
	ck_assert(!rec_name_valid(part));
	ck_assert(rec_name_is_part(part, base));
	ck_assert_str_eq(base, name);
	ck_assert(!rec_name_is_part(name, NULL));
	rec_time_iso(1795464900, iso);
	ck_assert_str_eq(iso, "2026-11-23T20:15:00Z");

	ck_assert(rec_name_valid("rec_20261123T201500Z_Ab0_-Ab0_-Ab0_-Ab0_-Ab.wav"));
	ck_assert(!rec_name_valid(NULL));
	ck_assert(!rec_name_valid(""));
	ck_assert(!rec_name_valid("rec_20261123T201500Z_Ab0_-Ab0_-Ab0_-Ab0_-A/.wav"));
	ck_assert(!rec_name_valid("rec_20261123T201500Z_Ab0_-Ab0_-Ab0_-Ab0_-A..wav"));
	ck_assert(!rec_name_valid("rec_20261123T201500Z_Ab0_-Ab0_-Ab0_-Ab0_-Ab.wav "));
	ck_assert(!rec_name_valid("rec_20261123T201500Z_Ab0_-Ab0_-Ab0_-Ab0_-Ab.wa"));
	ck_assert(!rec_name_valid("rec_20261123X201500Z_Ab0_-Ab0_-Ab0_-Ab0_-Ab.wav"));
	ck_assert(!rec_name_valid("../20261123T201500Z_Ab0_-Ab0_-Ab0_-Ab0_-Ab.wav"));
	ck_assert(!rec_name_valid("/ec_20261123T201500Z_Ab0_-Ab0_-Ab0_-Ab0_-Ab.wav"));
}
END_TEST

static Suite *rec_wav_suite(void)
{
	Suite *s = suite_create("rec_wav");
	TCase *core = tcase_create("core");
	TCase *errors = tcase_create("errors");

	tcase_add_checked_fixture(core, setup, teardown);
	tcase_add_test(core, test_rec_wav_write_and_read);
	tcase_add_test(core, test_rec_wav_header_valid_while_growing);
	tcase_add_test(core, test_rec_wav_repair_torn_file);
	tcase_add_test(core, test_rec_name_shapes);
	suite_add_tcase(s, core);
	tcase_add_checked_fixture(errors, setup, teardown);
	tcase_add_test(errors, test_rec_wav_repair_refuses_garbage);
	tcase_add_test(errors, test_rec_wav_no_symlink_no_overwrite);
	tcase_add_test(errors, test_rec_wav_partial_frame_refused);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	return pyc_check_run(rec_wav_suite());
}
