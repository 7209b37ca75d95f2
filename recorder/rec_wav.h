/* rec_wav.h - one WAV file being written, and repair of files left by a crash.
 *
 * NOTES: the only module that knows about libsndfile. A file is created
 * inside the recordings folder through its directory fd (openat with
 * O_NOFOLLOW|O_EXCL), so nothing outside that folder is ever opened and a
 * planted symlink is never followed. PCM arrives as little-endian int16,
 * which is the WAV data layout, so it is written with sf_write_raw (no
 * conversion, no alignment needs on the caller's buffer). The header is
 * rewritten on request (rec_wav_checkpoint) so the file stays readable
 * while it grows; closing rewrites it, cuts any trailing partial frame
 * (a write cut short by a full disk), and fsyncs. rec_wav_repair does the
 * same for a file whose writer died: it trusts the file's length, not its
 * header. A WAV's sizes are 32-bit, so a file stops growing at
 * REC_WAV_MAX_DATA bytes of audio (about 6 hours of 48 kHz stereo).
 */
#ifndef REC_WAV_H
#define REC_WAV_H

#include <stddef.h>
#include <stdint.h>

#include "pyc_err.h"

#define REC_WAV_MAX_DATA (0xFFFFFFFFu - 65536u)

typedef struct rec_wav rec_wav;

typedef struct rec_wav_info {
	uint32_t sample_rate;
	uint32_t channels;
	uint64_t frames;
	uint64_t size_bytes;
} rec_wav_info;

/* Creates name (which must not exist) in the folder dirfd as a 16-bit PCM
 * WAV with a valid empty header. On error nothing is left on disk:
 * PYC_ENOSPC (disk full), PYC_EPERM (folder not writable), PYC_EEXIST,
 * PYC_EIO. On success *out belongs to the caller (rec_wav_close). */
pyc_err rec_wav_create(int dirfd, const char *name, uint32_t sample_rate,
    uint32_t channels, rec_wav **out);

/* Appends len bytes of interleaved int16 LE PCM; len must be a multiple of
 * the frame size. PYC_ENOSPC for a full disk or a file at its size limit,
 * PYC_EIO for another write error; after an error the file holds every
 * whole frame that was written, and only rec_wav_close may follow. */
pyc_err rec_wav_append(rec_wav *w, const void *pcm, size_t len);

/* Rewrites the header from the frames written so far; if sync, also
 * fdatasyncs. */
pyc_err rec_wav_checkpoint(rec_wav *w, int sync);

/* Frames written so far. */
uint64_t rec_wav_frames(const rec_wav *w);

/* Finalises the header, cuts a trailing partial frame, fsyncs, closes and
 * frees w (always, even on error). info (may be NULL) gets what the file
 * holds. Accepts NULL. */
pyc_err rec_wav_close(rec_wav *w, rec_wav_info *info);

/* Repairs name in dirfd after a crash: the data length is taken from the
 * file's size, cut to the last whole frame, and the RIFF and data sizes
 * are rewritten; then the file is fsynced. PYC_EPROTO if the file holds no
 * usable WAV header (nothing to keep), PYC_ENOENT if it does not exist. */
pyc_err rec_wav_repair(int dirfd, const char *name, rec_wav_info *info);

/* Reads name's format and length through libsndfile. PYC_ENOENT if it
 * does not exist, PYC_EPROTO if it is not a readable WAV. */
pyc_err rec_wav_probe(int dirfd, const char *name, rec_wav_info *info);

#endif /* REC_WAV_H */
