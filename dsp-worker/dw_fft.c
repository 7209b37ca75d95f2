/* dw_fft.c - kissfft's real FFT behind the dw_fft interface.
 *
 * NOTES: the only file that includes kiss_fftr.h (STYLE.md). kissfft is
 * built with float scalars (kissfft::kissfft-float), so the input array
 * can be handed to kiss_fftr as it is; the complex output lives in the
 * object, allocated once.
 */
#include "dw_fft.h"

#include <stdlib.h>

#include <kissfft/kiss_fftr.h>

_Static_assert(sizeof(kiss_fft_scalar) == sizeof(float),
    "kissfft must be the float build");

struct dw_fft {
	int n;
	kiss_fftr_cfg cfg;
	kiss_fft_cpx *out; /* n/2 + 1 bins */
};

pyc_err dw_fft_create(int n, dw_fft **out)
{
	dw_fft *f;

	if (out == NULL || n < DW_FFT_SIZE_MIN || n > DW_FFT_SIZE_MAX ||
	    (n & (n - 1)) != 0)
		return PYC_EINVAL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return PYC_ENOMEM;
	f->n = n;
	f->cfg = kiss_fftr_alloc(n, 0, NULL, NULL);
	f->out = malloc(sizeof(kiss_fft_cpx) * (size_t) (n / 2 + 1));
	if (f->cfg == NULL || f->out == NULL) {
		dw_fft_destroy(f);
		return PYC_ENOMEM;
	}
	*out = f;
	return PYC_OK;
}

void dw_fft_destroy(dw_fft *f)
{
	if (f == NULL)
		return;
	kiss_fftr_free(f->cfg);
	free(f->out);
	free(f);
}

int dw_fft_size(const dw_fft *f)
{
	return f->n;
}

void dw_fft_power(dw_fft *f, const float *in, float *power)
{
	kiss_fftr(f->cfg, in, f->out);
	for (int k = 0; k <= f->n / 2; k++)
		power[k] = f->out[k].r * f->out[k].r + f->out[k].i * f->out[k].i;
}
