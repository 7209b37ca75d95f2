/* check_dw_util.h - helpers shared by the DSP engine's Check tests.
 *
 * NOTES: golden files (tests/golden, written by make_golden.py) are read
 * with fscanf: '#' lines are comments, the rest whitespace-separated
 * numbers. Test signals are generated here in int16 and packed little-endian
 * byte by byte, as a client sends them, whatever the host's byte order.
 */
#ifndef CHECK_DW_UTIL_H
#define CHECK_DW_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_DIR PYC_SOURCE_DIR "/tests/golden/"

/* Opens a golden file and skips its comment lines; NULL if missing. */
static inline FILE *golden_open(const char *name)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s%s", GOLDEN_DIR, name);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	int c;
	while ((c = fgetc(f)) == '#') {
		while ((c = fgetc(f)) != EOF && c != '\n')
			;
	}
	if (c != EOF)
		ungetc(c, f);
	return f;
}

/* Reads tests/golden/signal.txt into a malloc'd array; *n frames. */
static inline int16_t *golden_signal(size_t *n)
{
	FILE *f = golden_open("signal.txt");
	size_t frames;
	if (f == NULL || fscanf(f, "%zu", &frames) != 1) {
		if (f)
			fclose(f);
		return NULL;
	}
	int16_t *x = malloc(frames * sizeof(*x));
	for (size_t i = 0; x != NULL && i < frames; i++) {
		int v;
		if (fscanf(f, "%d", &v) != 1) {
			free(x);
			x = NULL;
			break;
		}
		x[i] = (int16_t) v;
	}
	fclose(f);
	*n = frames;
	return x;
}

/* Packs n int16 samples little-endian into a malloc'd byte array. */
static inline uint8_t *pack_le(const int16_t *s, size_t n)
{
	uint8_t *b = malloc(2 * n + 1);
	for (size_t i = 0; b != NULL && i < n; i++) {
		uint16_t u = (uint16_t) s[i];
		b[2 * i] = (uint8_t) (u & 0xff);
		b[2 * i + 1] = (uint8_t) (u >> 8);
	}
	return b;
}

/* Interleaved stereo sine frames: amplitudes al, ar, phase offset of R. */
static inline int16_t *make_sine(size_t frames, int ch, double f, double rate,
    double al, double ar, double rphase)
{
	int16_t *s = malloc(frames * (size_t) ch * sizeof(*s));
	for (size_t i = 0; s != NULL && i < frames; i++) {
		double t = 2.0 * M_PI * f * (double) i / rate;
		s[i * (size_t) ch] = (int16_t) lrint(al * sin(t));
		if (ch == 2)
			s[i * 2 + 1] = (int16_t) lrint(ar * sin(t + rphase));
	}
	return s;
}

#endif /* CHECK_DW_UTIL_H */
