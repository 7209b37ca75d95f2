/* dw_fft.h - the real FFT the spectrum uses: a power spectrum of N samples.
 *
 * NOTES: a thin wrapper so that kiss_fftr.h is included in dw_fft.c only
 * (like speexdsp's fftwrap.h): the rest of the engine sees float arrays.
 * Everything is allocated in _create; _power allocates nothing.
 */
#ifndef DW_FFT_H
#define DW_FFT_H

#include "pyc_err.h"

typedef struct dw_fft dw_fft;

#define DW_FFT_SIZE_MIN 16
#define DW_FFT_SIZE_MAX 65536

/* Creates a real FFT of n points, n a power of two in
 * DW_FFT_SIZE_MIN..DW_FFT_SIZE_MAX. PYC_EINVAL, PYC_ENOMEM. On success the
 * caller owns *out and frees it with dw_fft_destroy. */
pyc_err dw_fft_create(int n, dw_fft **out);

/* Frees everything; accepts NULL. */
void dw_fft_destroy(dw_fft *f);

/* The number of points n. */
int dw_fft_size(const dw_fft *f);

/* power[k] = |X_k|^2, k = 0..n/2, of the n real samples in (unscaled DFT). */
void dw_fft_power(dw_fft *f, const float *in, float *power);

#endif /* DW_FFT_H */
