/* bench_dsp.c - throughput of the DSP engine's whole chain, and the NumPy/SciPy ratio.
 *
 * NOTES: a program, not a timed test (timings on shared CI machines are
 * noise). It makes a 20 s 48 kHz stereo signal (tones, a sweep, noise),
 * runs it through dw_pipeline (gain +6 dB, 4th-order low-pass at 1 kHz,
 * levels, spectrum FFT 4096, waveform 512 points, one meter read per chunk
 * as the worker does by default) in 128- and 1024-frame chunks, and prints
 * ns per frame (best of 5 runs), frames per second, and ns per frame per
 * stage (a separate profiled run, with loudness on). The chain runs with
 * the EBU R128 loudness meter off (the default) and on (libebur128: M, S,
 * I, LRA, 4x oversampled true peak), and both figures are printed. When /usr/bin/python3 (or $PYTHON) has
 * SciPy, bench_dsp_scipy.py runs the equivalent NumPy/SciPy chain on the
 * same signal (written to a temporary file) in two forms, and both ratios
 * are printed: "minimal", the core operations only (sosfilt with carried
 * state, rfft, RMS, with the conversions and the 32 bands), and "full",
 * the equivalent of the C chain (everything the engine computes per chunk).
 * Usage: bench_dsp [seconds]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dw_pipeline.h"

#define RATE 48000
#define GAIN_DB 6.0
#define CUTOFF 1000.0
#define ORDER 4
#define FFT 4096

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static uint8_t *make_signal(size_t frames)
{
	uint8_t *b = malloc(frames * 4);
	uint32_t r = 12345;
	double ph = 0.0;
	if (b == NULL)
		return NULL;
	for (size_t i = 0; i < frames; i++) {
		double t = (double) i / RATE;
		double f = 50.0 * pow(400.0, fmod(t, 5.0) / 5.0); /* 50 Hz..20 kHz */
		ph += 2.0 * M_PI * f / RATE;
		r = r * 1664525u + 1013904223u;
		double nz = ((double) (r >> 16) / 65536.0 - 0.5) * 2000.0;
		double l = 6000.0 * sin(2.0 * M_PI * 220.0 * t) + 4000.0 * sin(ph) + nz;
		double rr = 5000.0 * sin(2.0 * M_PI * 330.0 * t + 0.3) + 4000.0 * sin(ph) - nz;
		int16_t s[2] = { (int16_t) lrint(l), (int16_t) lrint(rr) };
		for (int c = 0; c < 2; c++) {
			b[4 * i + 2 * c] = (uint8_t) ((uint16_t) s[c] & 0xff);
			b[4 * i + 2 * c + 1] = (uint8_t) ((uint16_t) s[c] >> 8);
		}
	}
	return b;
}

static dw_pipeline *make_pipeline(int loudness)
{
	pyc_params p;
	dw_pipeline *pl = NULL;
	pyc_params_defaults(&p);
	p.sample_rate = RATE;
	p.channels = 2;
	p.gain_db = GAIN_DB;
	p.filter_enabled = 1;
	p.cutoff_hz = CUTOFF;
	p.filter_order = ORDER;
	p.fft_size = FFT;
	p.integration_s = 0.125;
	p.waveform_points = 512;
	p.loudness = loudness;
	if (dw_pipeline_create(&p, &pl) != PYC_OK) {
		fprintf(stderr, "bench_dsp: cannot create the pipeline\n");
		exit(1);
	}
	return pl;
}

/* One pass over the signal; returns seconds. */
static double one_pass(dw_pipeline *pl, const uint8_t *sig, size_t frames,
    size_t chunk, int16_t *out, int meter)
{
	dw_meter m;
	double t0 = now_s();
	for (size_t done = 0; done < frames; done += chunk) {
		size_t n = frames - done < chunk ? frames - done : chunk;
		dw_pipeline_process(pl, sig + 4 * done, 4 * n, out, NULL);
		if (meter)
			dw_pipeline_meter(pl, &m);
	}
	return now_s() - t0;
}

static double python_ns(const char *path, size_t chunk, const char *mode)
{
	const char *py = getenv("PYTHON");
	char cmd[2048], line[256];
	double ns = -1.0;
	if (py == NULL)
		py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
	snprintf(cmd, sizeof(cmd), "%s %s/bench/bench_dsp_scipy.py %s %d 2 %zu %g %g %d %d %s 2>&1",
	    py, PYC_SOURCE_DIR, path, RATE, chunk, GAIN_DB, CUTOFF, ORDER, FFT, mode);
	FILE *f = popen(cmd, "r");
	if (f == NULL)
		return -1.0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "ns_per_frame %lf", &ns) == 1)
			continue;
		printf("  python: %s", line);
	}
	pclose(f);
	return ns;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 20.0;
	if (!(seconds >= 1.0 && seconds <= 600.0)) {
		fprintf(stderr, "usage: bench_dsp [seconds 1..600]\n");
		return 2;
	}
	const size_t frames = (size_t) (seconds * RATE);
	const size_t chunks[2] = { 128, 1024 };
	uint8_t *sig = make_signal(frames);
	int16_t *out = malloc(1024 * 2 * sizeof(int16_t));
	double c_ns[2];

	if (sig == NULL || out == NULL)
		return 1;
	printf("bench_dsp: %.0f s of 48 kHz stereo (%zu frames); gain %+g dB, "
	       "low-pass order %d at %g Hz, levels, spectrum FFT %d (hop %d), "
	       "waveform 512, one meter read per chunk\n",
	    seconds, frames, GAIN_DB, ORDER, CUTOFF, FFT, FFT / 2);
	for (int c = 0; c < 2; c++) {
		size_t chunk = chunks[c];
		double best = 1e9, best_nm = 1e9, best_ld = 1e9;
		for (int rep = 0; rep < 5; rep++) {
			dw_pipeline *pl = make_pipeline(0);
			double t = one_pass(pl, sig, frames, chunk, out, 1);
			best = t < best ? t : best;
			dw_pipeline_destroy(pl);
			pl = make_pipeline(0);
			t = one_pass(pl, sig, frames, chunk, out, 0);
			best_nm = t < best_nm ? t : best_nm;
			dw_pipeline_destroy(pl);
			pl = make_pipeline(1);
			t = one_pass(pl, sig, frames, chunk, out, 1);
			best_ld = t < best_ld ? t : best_ld;
			dw_pipeline_destroy(pl);
		}
		c_ns[c] = best * 1e9 / (double) frames;
		printf("\nchunk %4zu frames: whole chain %.2f ns/frame, %.1f M frames/s "
		       "(%.0fx real time); without the meter reads %.2f ns/frame\n",
		    chunk, c_ns[c], frames / best / 1e6, frames / best / RATE,
		    best_nm * 1e9 / (double) frames);
		printf("  per chunk: %.2f us\n", best * 1e6 / ((double) frames / chunk));
		printf("  loudness off: %.2f ns/frame; loudness on: %.2f ns/frame "
		       "(+%.2f ns/frame, %.1f M frames/s)\n", c_ns[c],
		    best_ld * 1e9 / (double) frames,
		    (best_ld - best) * 1e9 / (double) frames, frames / best_ld / 1e6);

		dw_pipeline *pl = make_pipeline(1);
		uint64_t ns[DW_STAGE_COUNT], sum = 0;
		dw_pipeline_profile(pl, 1);
		one_pass(pl, sig, frames, chunk, out, 1);
		dw_pipeline_profile_read(pl, ns);
		for (int s = 0; s < DW_STAGE_COUNT; s++)
			sum += ns[s];
		printf("  stages (profiled run, %.2f ns/frame with timer overhead):\n",
		    (double) sum / (double) frames);
		for (int s = 0; s < DW_STAGE_COUNT; s++)
			printf("    %-13s %6.2f ns/frame\n", dw_pipeline_stage_name(s),
			    (double) ns[s] / (double) frames);
		dw_pipeline_destroy(pl);
	}

	char path[] = "/tmp/bench_dsp_XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, sig, frames * 4) != (ssize_t) (frames * 4)) {
		printf("\nNumPy/SciPy comparison skipped: cannot write %s\n", path);
	} else {
		close(fd);
		fd = -1;
		printf("\nNumPy/SciPy chain on the same signal (best of 3):\n"
		       "  minimal = core operations only: convert, gain, sosfilt with zi, "
		       "int16, RMS, rfft + 32 bands per hop\n"
		       "  full    = the equivalent chain, all the engine computes per chunk (adds clips, "
		       "smoothing, peaks, balance, correlation, waveform, 0..1 bands)\n");
		static const char *const modes[2] = { "minimal", "full" };
		for (int c = 0; c < 2; c++) {
			for (int md = 0; md < 2; md++) {
				double py = python_ns(path, chunks[c], modes[md]);
				if (py <= 0.0) {
					printf("  chunk %4zu %-7s: skipped (no python3 with scipy)\n",
					    chunks[c], modes[md]);
					continue;
				}
				printf("  chunk %4zu %-7s: %7.1f ns/frame (%6.1f us per chunk); "
				       "C engine is %.1fx faster\n",
				    chunks[c], modes[md], py, py * chunks[c] / 1000.0,
				    py / c_ns[c]);
			}
		}
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(sig);
	free(out);
	return 0;
}
