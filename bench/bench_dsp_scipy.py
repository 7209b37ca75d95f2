#!/usr/bin/python3
# bench_dsp_scipy.py - the NumPy/SciPy equivalent of the engine's chain, timed on the same signal.
#
# NOTES: run by bench_dsp (popen) as
#   bench_dsp_scipy.py SIGNAL.raw RATE CHANNELS CHUNK GAIN_DB CUTOFF ORDER FFT
# SIGNAL.raw is interleaved little-endian int16. MODE "minimal" is the core
# of the chain: int16 -> float64, gain, sosfilt with carried state (zi),
# round and clip to int16, RMS per channel, and a Hann-windowed rfft with
# 32 band averages every FFT/2 new samples. MODE "full" does per chunk what
# the engine does, the NumPy way: the above plus clip count, mean powers per channel,
# of the mono mix and L*R, smoothed with exp(-dt/tau) (tau 0.125 s), peaks,
# balance and correlation, the mono mix into a ring, a Hann-windowed rfft
# every FFT/2 new samples with smoothed bin powers and the 32-band power
# averages in dB and 0..1, and the 512-point min/max waveform of the ring;
# i.e. what the engine computes per chunk with one meter read per chunk.
# Prints "ns_per_frame X" (best of three runs), or "skip REASON" when SciPy
# is missing.
import sys
import time

try:
    import numpy as np
    from scipy import signal
except ImportError as e:  # pragma: no cover
    print("skip %s" % e)
    sys.exit(0)


def run(x, rate, chunk, gain_db, cutoff, order, nfft, full):
    sos = signal.butter(order, cutoff, fs=rate, output='sos')
    zi = np.zeros((sos.shape[0], 2, x.shape[1]))
    g = 10.0 ** (gain_db / 20.0)
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(nfft) / nfft)
    scale = (2.0 / win.sum()) ** 2
    hop = nfft // 2
    edges = np.geomspace(20.0, rate / 2, 33)
    k = np.arange(nfft // 2 + 1) * rate / nfft
    idx = np.clip(np.searchsorted(edges, k, side='right') - 1, 0, 31)
    counts = np.maximum(np.bincount(idx, minlength=32), 1)
    ring = np.zeros(nfft)
    pending = 0
    tau = 0.125
    ps = np.zeros(nfft // 2 + 1)
    a_fft = np.exp(-hop / (rate * tau))
    pw_s = np.zeros(3)
    clips = np.zeros(x.shape[1], dtype=np.int64)
    u01 = np.zeros(32)
    out = np.empty_like(x)
    n = x.shape[0]
    t0 = time.perf_counter()
    for s in range(0, n, chunk):
        c = x[s:s + chunk].astype(np.float64) * g
        y, zi = signal.sosfilt(sos, c, axis=0, zi=zi)
        if not full:
            o = np.clip(np.rint(y), -32768, 32767).astype(np.int16)
            out[s:s + chunk] = o
            of = o.astype(np.float64)
            rms = np.sqrt(np.mean(of * of, axis=0))
            mono = of.mean(axis=1) / 32768.0
            m = len(mono)
            ring = np.roll(ring, -m) if m < nfft else ring
            ring[-min(m, nfft):] = mono[-nfft:]
            pending += m
            while pending >= hop:
                p = np.abs(np.fft.rfft(ring * win)) ** 2 * scale
                bands = np.bincount(idx, weights=p, minlength=32) / counts
                db = 10 * np.log10(np.maximum(bands, 1e-12))
                pending -= hop
            del rms
            continue
        r = np.rint(y)
        clips += np.count_nonzero((r > 32767) | (r < -32768), axis=0)
        o = np.clip(r, -32768, 32767).astype(np.int16)
        out[s:s + chunk] = o
        of = o.astype(np.float64) / 32768.0
        L, R = of[:, 0], of[:, 1]
        a = np.exp(-len(L) / (rate * tau))
        pw_s = a * pw_s + (1 - a) * np.array([np.mean(L * L), np.mean(R * R), np.mean(L * R)])
        rms_db = 10 * np.log10(np.maximum(pw_s[:2], 1e-12))
        mono_db = 10 * np.log10(max((pw_s[0] + 2 * pw_s[2] + pw_s[1]) / 4, 1e-12))
        peak = np.max(np.abs(of), axis=0)
        rl, rr = np.sqrt(pw_s[:2])
        balance = (rr - rl) / (rr + rl) if rr + rl > 0 else 0.0
        den = np.sqrt(pw_s[0] * pw_s[1])
        corr = pw_s[2] / den if den > 0 else 0.0
        mono = of.mean(axis=1)
        m = len(mono)
        ring = np.roll(ring, -m) if m < nfft else ring
        ring[-min(m, nfft):] = mono[-nfft:]
        pending += m
        while pending >= hop:
            p = np.abs(np.fft.rfft(ring * win)) ** 2 * scale
            ps = a_fft * ps + (1 - a_fft) * p
            bands = np.bincount(idx, weights=ps, minlength=32) / counts
            db = 10 * np.log10(np.maximum(bands, 1e-12))
            u01 = np.clip((db + 80) / 80, 0, 1)
            pending -= hop
        wf = ring.reshape(512, -1)
        wmin, wmax = wf.min(axis=1), wf.max(axis=1)
        del rms_db, mono_db, peak, balance, corr, wmin, wmax
    return (time.perf_counter() - t0) * 1e9 / n


def main():
    path = sys.argv[1]
    rate, ch, chunk = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    gain_db, cutoff = float(sys.argv[5]), float(sys.argv[6])
    order, nfft = int(sys.argv[7]), int(sys.argv[8])
    full = len(sys.argv) > 9 and sys.argv[9] == 'full'
    x = np.fromfile(path, dtype='<i2').reshape(-1, ch)
    best = min(run(x, rate, chunk, gain_db, cutoff, order, nfft, full) for _ in range(3))
    print("ns_per_frame %.3f" % best)


if __name__ == '__main__':
    main()
