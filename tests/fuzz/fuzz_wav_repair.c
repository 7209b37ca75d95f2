/* fuzz_wav_repair.c - fuzz target: the recorder's repair of a WAV file left
 * by a crash (recorder/rec_wav.c, rec_wav_repair).
 *
 * NOTES: the input is written as the whole file, in a private folder made
 * once per process (under /dev/shm when it exists, so the repair's fsync
 * costs nothing; removed at exit), and the real repair runs on it through
 * the folder's fd as the recorder's start-up does. Checks:
 * - a file the repair refuses is left exactly as it was;
 * - a repaired file is only cut, never grown; only its RIFF size (bytes
 *   4..7) and its data size (4 bytes) change; the RIFF size is the file
 *   size minus 8;
 * - libsndfile (rec_wav_probe, the recorder's own reader) opens the
 *   repaired file and finds the rate, channels and frame count the repair
 *   reported, so the data size agrees with the file size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "rec_wav.h"

#define NAME "rec_20260101T000000Z_AAAAAAAAAAAAAAAAAAAAAA.wav"

static char dir[256];
static int dirfd_ = -1;

static void cleanup(void)
{
	if (dirfd_ >= 0) {
		unlinkat(dirfd_, NAME, 0);
		close(dirfd_);
		rmdir(dir);
	}
}

static int folder(void)
{
	if (dirfd_ >= 0)
		return dirfd_;
	struct stat st;
	const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	        access("/dev/shm", W_OK) == 0 ? "/dev/shm" :
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	snprintf(dir, sizeof(dir), "%s/pyc-fuzz-wav-XXXXXX", base);
	FZ_ASSERT(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir, strerror(errno));
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FZ_ASSERT(dirfd_ >= 0, "open %s: %s", dir, strerror(errno));
	atexit(cleanup);
	return dirfd_;
}

static void put_file(int d, const uint8_t *data, size_t size)
{
	int fd = openat(d, NAME, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FZ_ASSERT(fd >= 0, "create: %s", strerror(errno));
	FZ_ASSERT(size == 0 || write(fd, data, size) == (ssize_t) size, "write: %s",
	    strerror(errno));
	close(fd);
}

static uint8_t *get_file(int d, size_t *n)
{
	int fd = openat(d, NAME, O_RDONLY | O_CLOEXEC);
	struct stat st;
	FZ_ASSERT(fd >= 0 && fstat(fd, &st) == 0, "reopen: %s", strerror(errno));
	*n = (size_t) st.st_size;
	uint8_t *b = malloc(*n + 1);
	FZ_ASSERT(b != NULL, "out of memory");
	FZ_ASSERT(*n == 0 || pread(fd, b, *n, 0) == (ssize_t) *n, "read back: %s",
	    strerror(errno));
	close(fd);
	return b;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
	    (uint32_t) p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rec_wav_info info, probe;
	size_t n;

	fz_quiet();
	int d = folder();
	put_file(d, data, size);
	memset(&info, 0, sizeof(info));
	pyc_err rv = rec_wav_repair(d, NAME, &info);
	uint8_t *after = get_file(d, &n);

	if (rv != PYC_OK) {
		FZ_ASSERT(rv == PYC_EPROTO, "repair returned %s", pyc_strerror(rv));
		FZ_ASSERT(n == size && (size == 0 || memcmp(after, data, size) == 0),
		    "a refused file was changed");
		free(after);
		return 0;
	}
	FZ_ASSERT(n <= size && n == info.size_bytes, "repaired to %zu bytes of %zu, reported %llu",
	    n, size, (unsigned long long) info.size_bytes);
	FZ_ASSERT(n >= 44 && le32(after + 4) == n - 8, "RIFF size %u for %zu bytes",
	    n >= 8 ? le32(after + 4) : 0, n);
	/* outside bytes 4..7, at most one 4-byte field changed */
	size_t lo = SIZE_MAX, hi = 0;
	for (size_t i = 0; i < n; i++) {
		if ((i < 4 || i >= 8) && after[i] != data[i]) {
			lo = i < lo ? i : lo;
			hi = i;
		}
	}
	FZ_ASSERT(lo == SIZE_MAX || hi - lo < 4, "bytes %zu..%zu changed", lo, hi);
	FZ_ASSERT((info.channels == 1 || info.channels == 2) && info.sample_rate > 0,
	    "repaired %u Hz, %u channels", info.sample_rate, info.channels);

	memset(&probe, 0, sizeof(probe));
	rv = rec_wav_probe(d, NAME, &probe);
	FZ_ASSERT(rv == PYC_OK, "libsndfile cannot read a repaired file (%u Hz, %u ch, %llu frames, "
	    "%zu bytes): %s", info.sample_rate, info.channels, (unsigned long long) info.frames, n,
	    pyc_strerror(rv));
	FZ_ASSERT(probe.sample_rate == info.sample_rate && probe.channels == info.channels &&
	        probe.frames == info.frames,
	    "libsndfile reads %u Hz, %u ch, %llu frames; the repair made %u Hz, %u ch, %llu frames",
	    probe.sample_rate, probe.channels, (unsigned long long) probe.frames, info.sample_rate,
	    info.channels, (unsigned long long) info.frames);
	free(after);
	return 0;
}
