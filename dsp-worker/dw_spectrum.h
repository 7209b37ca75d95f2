/* dw_spectrum.h - overlapped Hann-windowed power spectrum of the mono mix,
 * smoothed, with log-frequency band views.
 *
 * NOTES: samples are pushed in any grouping; a ring buffer keeps the last
 * N of them and every hop = N/2 samples (50 % overlap, where the periodic
 * Hann window sums to a constant, so every sample weighs the same) one FFT
 * frame is taken, whatever the client's chunk size. The first frame is
 * taken once N samples have arrived. Bin powers are scaled so that a
 * full-scale sine's peak bin reads 1 (0 dBFS): |X|^2 (2 / sum w)^2, the DC
 * and Nyquist bins (1 / sum w)^2. Smoothing is on the power of each bin,
 * P = a P + (1 - a) |X|^2 with a = exp(-hop / (rate tau)) per frame (tau = 0:
 * the latest frame). Band views: N bands with edges log-spaced from 20 Hz
 * to Nyquist; a band is the power sum of the bins it overlaps (edge bins by
 * their fraction) over the window's noise bandwidth (1.5 bins), never below
 * the main-lobe power of a bin whose centre it holds; a band narrower than
 * the bin spacing, holding no bin centre, takes the bin nearest to its
 * centre frequency (the geometric mean of its edges). A sine of amplitude
 * A reads 20 log10 A in its band, noise its band power (docs/dsp.md).
 * The PYC_METER_BANDS view is always there (the public "spectrum", dB -80..0 mapped to 0..1);
 * a second view of any 1..PYC_BANDS_MAX bands is optional. Band figures
 * are computed when asked for and only if a frame completed since.
 */
#ifndef DW_SPECTRUM_H
#define DW_SPECTRUM_H

#include <stddef.h>
#include <stdint.h>

#include "pyc_err.h"

typedef struct dw_spectrum dw_spectrum;

#define DW_BAND_LO_HZ 20.0
#define DW_METER_FLOOR_DB (-80.0)
#define DW_THIRD_K_MIN (-17) /* the 20 Hz 1/3-octave band: 1000 * 10^(-1.7) */

/* Creates a spectrum of fft_size points (a power of two, 16..65536) at
 * rate_hz with a band view of bands (0 = none, else 1..PYC_BANDS_MAX, or
 * PYC_BANDS_THIRD_OCTAVE: the 1/3-octave bands from 20 Hz that fit whole
 * below Nyquist, band_hz their nominal centres) besides the
 * PYC_METER_BANDS one, and smoothing tau_s (0..10 s).
 * PYC_EINVAL, PYC_ENOMEM. The caller frees *out with dw_spectrum_destroy. */
pyc_err dw_spectrum_create(int fft_size, double rate_hz, int bands,
    double tau_s, dw_spectrum **out);

/* Frees everything; accepts NULL. */
void dw_spectrum_destroy(dw_spectrum *sp);

/* Sets the smoothing time (0..10 s); PYC_EINVAL for NaN or out of range. */
pyc_err dw_spectrum_set_tau(dw_spectrum *sp, double tau_s);

/* Appends n mono samples (-1..1); takes FFT frames as hops complete. */
void dw_spectrum_push(dw_spectrum *sp, const float *x, size_t n);

/* FFT frames taken since create. */
uint64_t dw_spectrum_frames(const dw_spectrum *sp);

/* The smoothed bin powers, n/2 + 1 of them (full-scale sine peak = 1). */
const float *dw_spectrum_power(const dw_spectrum *sp);
int dw_spectrum_bins(const dw_spectrum *sp);
int dw_spectrum_hop(const dw_spectrum *sp);

/* Brings the band views up to date (cheap if no frame completed). */
void dw_spectrum_update(dw_spectrum *sp);

/* The PYC_METER_BANDS view: dBFS, 0..1 form, centre frequencies. */
const float *dw_spectrum_meter_db(const dw_spectrum *sp);
const float *dw_spectrum_meter01(const dw_spectrum *sp);
const float *dw_spectrum_meter_hz(const dw_spectrum *sp);

/* The optional view (NULL and 0 if bands was 0). */
int dw_spectrum_nbands(const dw_spectrum *sp);
const float *dw_spectrum_band_db(const dw_spectrum *sp);
const float *dw_spectrum_band_hz(const dw_spectrum *sp);

#endif /* DW_SPECTRUM_H */
