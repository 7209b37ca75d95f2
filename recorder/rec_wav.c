/* rec_wav.c - WAV writing through libsndfile; header repair after a crash.
 *
 * NOTES: sndfile.h is included here and nowhere else (STYLE.md). libsndfile
 * writes straight through to the fd (sf_write_raw does one write() per
 * call), so a short count means the kernel refused bytes: errno is read at
 * once to tell a full disk from another failure. A short write may leave a
 * partial frame; close and repair both cut the file to its last whole frame
 * and write the sizes themselves (repair_fd), so the result never depends
 * on what libsndfile guessed from a file it could not finish. repair_fd
 * reads only the first 4 KiB: every chunk libsndfile puts before "data"
 * for 16-bit PCM fits there. Before it writes anything, repair_fd has
 * libsndfile read the file as it would be after the repair (the header
 * with the new sizes in memory, the data from the fd, through
 * sf_open_virtual): a header our own scan accepts but libsndfile does not
 * (a sample rate over INT_MAX, an extensible fmt without its extension, a
 * chunk libsndfile chokes on) is refused and the file left as it was, so a
 * repaired file is always one the recorder can read and serve.
 */
#include "rec_wav.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <sndfile.h>

#include "pyc_log.h"

#define HDR_SCAN 4096

struct rec_wav {
	SNDFILE *sf;
	int fd;
	uint32_t channels;
	uint32_t frame_bytes;
	uint64_t frames;
	uint64_t data_bytes;
	int failed;
};

/* A write failed with errnum: is the disk full? */
static pyc_err classify(int fd, int errnum)
{
	struct statvfs sv;

	if (errnum == ENOSPC || errnum == EDQUOT || errnum == EFBIG)
		return PYC_ENOSPC;
	if (fstatvfs(fd, &sv) == 0 && sv.f_bavail == 0)
		return PYC_ENOSPC;
	return errnum != 0 ? pyc_err_from_errno(errnum) : PYC_EIO;
}

pyc_err rec_wav_create(int dirfd, const char *name, uint32_t sample_rate,
    uint32_t channels, rec_wav **out)
{
	SF_INFO info;
	rec_wav *w;
	pyc_err rv;
	int fd, e;

	if (name == NULL || strchr(name, '/') != NULL || channels < 1 ||
	    channels > 2 || sample_rate == 0)
		return PYC_EINVAL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return PYC_ENOMEM;
	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		e = errno;
		free(w);
		rv = classify(dirfd, e);
		pyc_log(PYC_LOG_ERROR, "create %s: %s", name, strerror(e));
		return rv;
	}
	memset(&info, 0, sizeof(info));
	info.samplerate = (int) sample_rate;
	info.channels = (int) channels;
	info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
	errno = 0;
	w->sf = sf_open_fd(fd, SFM_WRITE, &info, 0);
	if (w->sf == NULL) {
		e = errno;
		pyc_log(PYC_LOG_ERROR, "create %s: libsndfile: %s", name, sf_strerror(NULL));
		rv = classify(fd, e);
		close(fd);
		unlinkat(dirfd, name, 0);
		free(w);
		return rv;
	}
	w->fd = fd;
	w->channels = channels;
	w->frame_bytes = 2u * channels;
	*out = w;
	return PYC_OK;
}

pyc_err rec_wav_append(rec_wav *w, const void *pcm, size_t len)
{
	sf_count_t n;
	pyc_err rv;
	int e;

	if (w->failed)
		return PYC_EIO;
	if (len % w->frame_bytes != 0)
		return PYC_EINVAL;
	if (len == 0)
		return PYC_OK;
	if (w->data_bytes + len > REC_WAV_MAX_DATA) {
		w->failed = 1;
		pyc_log(PYC_LOG_WARN, "recording reached the WAV size limit");
		return PYC_ENOSPC;
	}
	errno = 0;
	n = sf_write_raw(w->sf, pcm, (sf_count_t) len);
	e = errno;
	if (n > 0) {
		w->data_bytes += (uint64_t) n;
		w->frames = w->data_bytes / w->frame_bytes;
	}
	if (n == (sf_count_t) len)
		return PYC_OK;
	w->failed = 1;
	rv = classify(w->fd, e);
	pyc_log(PYC_LOG_ERROR, "wav write: %zu of %zu bytes: %s", (size_t) (n > 0 ? n : 0),
	    len, e != 0 ? strerror(e) : sf_strerror(w->sf));
	return rv;
}

pyc_err rec_wav_checkpoint(rec_wav *w, int sync)
{
	if (w->failed)
		return PYC_EIO;
	sf_command(w->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
	if (sync && fdatasync(w->fd) != 0) {
		int e = errno;
		pyc_log(PYC_LOG_ERROR, "fdatasync: %s", strerror(e));
		return classify(w->fd, e);
	}
	return PYC_OK;
}

uint64_t rec_wav_frames(const rec_wav *w)
{
	return w->frames;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
	    (uint32_t) p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t) (p[0] | p[1] << 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

/* The file as repair_fd would leave it, for libsndfile: hdr (the header
 * up to the data, with its sizes rewritten) then the fd's bytes up to len. */
typedef struct vfile {
	int fd;
	const uint8_t *hdr;
	sf_count_t hlen, len, pos;
} vfile;

static sf_count_t vf_len(void *u)
{
	return ((vfile *) u)->len;
}

static sf_count_t vf_seek(sf_count_t off, int whence, void *u)
{
	vfile *v = u;
	sf_count_t base = whence == SEEK_CUR ? v->pos : whence == SEEK_END ? v->len : 0;
	if (base + off < 0)
		return -1;
	v->pos = base + off;
	return v->pos;
}

static sf_count_t vf_read(void *ptr, sf_count_t n, void *u)
{
	vfile *v = u;
	uint8_t *out = ptr;
	sf_count_t done = 0;
	if (v->pos >= v->len || n <= 0)
		return 0;
	if (n > v->len - v->pos)
		n = v->len - v->pos;
	if (v->pos < v->hlen) {
		done = n < v->hlen - v->pos ? n : v->hlen - v->pos;
		memcpy(out, v->hdr + v->pos, (size_t) done);
	}
	if (done < n) {
		ssize_t got = pread(v->fd, out + done, (size_t) (n - done), (off_t) (v->pos + done));
		if (got > 0)
			done += got;
	}
	v->pos += done;
	return done;
}

static sf_count_t vf_write(const void *ptr, sf_count_t n, void *u)
{
	(void) ptr;
	(void) n;
	(void) u;
	return 0;
}

static sf_count_t vf_tell(void *u)
{
	return ((vfile *) u)->pos;
}

/* True if libsndfile reads the repaired file as rate, channels, frames. */
static int readable(int fd, const uint8_t *hdr, size_t hlen, uint64_t len, uint32_t rate,
    uint32_t channels, uint64_t frames)
{
	SF_VIRTUAL_IO io = {vf_len, vf_seek, vf_read, vf_write, vf_tell};
	vfile v = {fd, hdr, (sf_count_t) hlen, (sf_count_t) len, 0};
	SF_INFO si;
	SNDFILE *sf;
	int ok;

	memset(&si, 0, sizeof(si));
	if ((sf = sf_open_virtual(&io, SFM_READ, &si, &v)) == NULL)
		return 0;
	ok = si.samplerate > 0 && (uint32_t) si.samplerate == rate &&
	    (uint32_t) si.channels == channels && si.frames >= 0 &&
	    (uint64_t) si.frames == frames;
	sf_close(sf);
	return ok;
}

/* Finds the format and the data offset in the header, checks that
 * libsndfile will read the result, cuts the file to its last whole frame
 * and writes the RIFF and data sizes. */
static pyc_err repair_fd(int fd, rec_wav_info *info)
{
	uint8_t h[HDR_SCAN];
	uint8_t b[4];
	struct stat st;
	ssize_t got;
	size_t pos = 12, data_off = 0;
	uint32_t rate = 0, channels = 0, align = 0, old_riff, old_data;
	uint64_t frames, want;

	got = pread(fd, h, sizeof(h), 0);
	if (got < 0)
		return pyc_err_from_errno(errno);
	if (got < 44 || memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0)
		return PYC_EPROTO;
	while (pos + 8 <= (size_t) got) {
		uint32_t csize = le32(h + pos + 4);
		if (memcmp(h + pos, "fmt ", 4) == 0) {
			if (csize < 16 || pos + 8 + 16 > (size_t) got)
				return PYC_EPROTO;
			uint16_t tag = le16(h + pos + 8);
			channels = le16(h + pos + 10);
			rate = le32(h + pos + 12);
			align = le16(h + pos + 20);
			if ((tag != 1 && tag != 0xFFFE) || le16(h + pos + 22) != 16 ||
			    channels < 1 || channels > 2 || align != 2 * channels ||
			    rate == 0)
				return PYC_EPROTO;
		} else if (memcmp(h + pos, "data", 4) == 0) {
			data_off = pos + 8;
			break;
		}
		if (csize > sizeof(h))
			return PYC_EPROTO;
		pos += 8 + (size_t) csize + (csize & 1u);
	}
	if (data_off == 0 || align == 0)
		return PYC_EPROTO;
	if (fstat(fd, &st) != 0)
		return pyc_err_from_errno(errno);
	frames = (uint64_t) st.st_size > data_off ?
	    ((uint64_t) st.st_size - data_off) / align : 0;
	if (frames * align > REC_WAV_MAX_DATA)
		frames = REC_WAV_MAX_DATA / align;
	want = data_off + frames * align;
	old_riff = le32(h + 4);
	old_data = le32(h + data_off - 4);
	put32(h + 4, (uint32_t) (want - 8));
	put32(h + data_off - 4, (uint32_t) (frames * align));
	if (!readable(fd, h, data_off, want, rate, channels, frames))
		return PYC_EPROTO;
	if ((uint64_t) st.st_size != want && ftruncate(fd, (off_t) want) != 0)
		return pyc_err_from_errno(errno);
	put32(b, (uint32_t) (want - 8));
	if (old_riff != want - 8 && pwrite(fd, b, 4, 4) != 4)
		return pyc_err_from_errno(errno);
	put32(b, (uint32_t) (frames * align));
	if (old_data != frames * align && pwrite(fd, b, 4, (off_t) data_off - 4) != 4)
		return pyc_err_from_errno(errno);
	if (info != NULL) {
		info->sample_rate = rate;
		info->channels = channels;
		info->frames = frames;
		info->size_bytes = want;
	}
	return PYC_OK;
}

pyc_err rec_wav_close(rec_wav *w, rec_wav_info *info)
{
	pyc_err rv;

	if (w == NULL)
		return PYC_OK;
	/* sf_close rewrites the header; repair_fd then makes sure of it. */
	if (sf_close(w->sf) != 0)
		pyc_log(PYC_LOG_WARN, "wav close: %s", sf_strerror(NULL));
	rv = repair_fd(w->fd, info);
	if (rv == PYC_OK && fsync(w->fd) != 0) {
		int e = errno;
		pyc_log(PYC_LOG_ERROR, "fsync: %s", strerror(e));
		rv = classify(w->fd, e);
	}
	close(w->fd);
	free(w);
	return rv;
}

pyc_err rec_wav_repair(int dirfd, const char *name, rec_wav_info *info)
{
	pyc_err rv;
	int fd;

	if (name == NULL || strchr(name, '/') != NULL)
		return PYC_EINVAL;
	fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return pyc_err_from_errno(errno);
	rv = repair_fd(fd, info);
	if (rv == PYC_OK && fsync(fd) != 0)
		rv = pyc_err_from_errno(errno);
	close(fd);
	return rv;
}

pyc_err rec_wav_probe(int dirfd, const char *name, rec_wav_info *info)
{
	SF_INFO si;
	SNDFILE *sf;
	struct stat st;
	int fd;

	if (name == NULL || strchr(name, '/') != NULL)
		return PYC_EINVAL;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return pyc_err_from_errno(errno);
	memset(&si, 0, sizeof(si));
	if (fstat(fd, &st) != 0 || (sf = sf_open_fd(fd, SFM_READ, &si, 0)) == NULL) {
		close(fd);
		return PYC_EPROTO;
	}
	info->sample_rate = (uint32_t) si.samplerate;
	info->channels = (uint32_t) si.channels;
	info->frames = (uint64_t) si.frames;
	info->size_bytes = (uint64_t) st.st_size;
	sf_close(sf);
	close(fd);
	return PYC_OK;
}
