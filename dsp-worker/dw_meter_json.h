/* dw_meter_json.h - the JSON messages a worker sends for the client:
 * meter, ready, recording_saved and error.
 *
 * NOTES: these texts travel verbatim to the browser (docs/wire.md types 10
 * and 11), so they are the public messages of DESIGN.md. They are built
 * with cJSON. A meter is written up to a thousand times a second per
 * session, so its numbers are formatted here with fixed decimals (dB to
 * 0.01, 0..1 figures to 1e-4, Hz to 0.1) as raw cJSON items and the object
 * is printed into the caller's buffer: no float printing through printf,
 * no -inf or NaN ever (dB figures are clamped to DW_SILENCE_DB).
 */
#ifndef DW_METER_JSON_H
#define DW_METER_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "dw_pipeline.h"
#include "pyc_params.h"

/* Writes the meter message for seq into buf (cap bytes, NUL-terminated).
 * Returns the length without the NUL, or 0 if it did not fit or memory ran
 * out. spectrum_db/band_hz only when m->bands > 0, waveform only when
 * m->waveform_points > 0; per-channel arrays have m->channels entries. */
size_t dw_meter_json(char *buf, size_t cap, uint64_t seq, const dw_meter *m);

/* A buffer size that always fits dw_meter_json for m. */
size_t dw_meter_json_bound(const dw_meter *m);

/* {"type":"ready",...} for the parameters in force (p: cutoff already
 * clamped). band_hz lists the centres of the bands view if p->bands > 0,
 * else of the PYC_METER_BANDS "spectrum" bands. NULL on ENOMEM; the caller
 * frees with dw_json_free. */
char *dw_ready_json(const pyc_params *p, const float *band_hz, int nbands);

/* {"type":"error","code":code,"message":message}. Caller frees. */
char *dw_error_json(const char *code, const char *message);

/* {"type":"recording_saved","id":id,"filename":...,"duration_seconds":d}. */
char *dw_saved_json(int64_t id, const char *filename, double duration_s);

void dw_json_free(char *s);

/* The centre frequencies of n log-spaced bands from 20 Hz to rate/2 (the
 * engine's band layout, dw_spectrum.h) into hz[0..n). */
void dw_band_centres(double rate_hz, int n, float *hz);

/* Formats v with dec (0..6) decimals into p (room for 32 bytes); returns
 * the length. NaN writes 0; values beyond +-1e15 are clamped. */
size_t dw_fmt_fixed(char *p, double v, int dec);

#endif /* DW_METER_JSON_H */
