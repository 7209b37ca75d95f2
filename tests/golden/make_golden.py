#!/usr/bin/python3
# make_golden.py - writes the SciPy reference data the DSP engine's Check tests compare against.
#
# NOTES: run with Debian's python3-scipy / python3-numpy (/usr/bin/python3
# make_golden.py, from this folder); the outputs are committed beside this
# script so the C tests need neither Python nor a parser library: every file
# is whitespace-separated numbers with '#' comment lines, read with fscanf.
#   butter_sos.txt      for each case a line "order cutoff_hz rate_hz nsec"
#                       then nsec lines "b0 b1 b2 a0 a1 a2" (scipy.signal.butter
#                       output='sos', fs=rate)
#   signal.txt          "frames" then the int16 test signal, one value a line
#   sosfilt_*.txt       "order cutoff rate frames" then sosfilt(signal) in
#                       int16 units, %.17g
#   rfft_N.txt          "n bins" then |rfft(hann * signal[:N] / 32768)| * 2/sum(w)
#                       (DC and Nyquist * 1/sum(w)), i.e. a full-scale sine reads 1
# The Hann window is the periodic (DFT-even) one, w[i] = 0.5 - 0.5 cos(2 pi i / N).
import os

import numpy as np
from scipy import signal

HERE = os.path.dirname(os.path.abspath(__file__))

SOS_CASES = [(o, fc, fs)
             for o in (2, 3, 4, 5, 8)
             for (fc, fs) in ((1000.0, 48000), (10.0, 8000), (3000.0, 44100),
                              (21600.0, 48000), (10.0, 192000), (20000.0, 192000))]
SOSFILT_CASES = [(4, 1000.0, 48000), (8, 200.0, 48000), (3, 5000.0, 44100),
                 (2, 10.0, 8000), (5, 21600.0, 48000)]
FFT_SIZES = (256, 4096)
FRAMES = 9600


def test_signal():
    """A chirp, a step, a tone and deterministic noise, as int16."""
    rng = np.random.default_rng(12345)
    t = np.arange(FRAMES) / 48000.0
    x = 12000.0 * signal.chirp(t, 20.0, t[-1], 20000.0, method='logarithmic')
    x += 6000.0 * np.sin(2 * np.pi * 440.0 * t)
    x[FRAMES // 3:] += 8000.0          # a step: exercises the state
    x += rng.normal(0.0, 1500.0, FRAMES)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def main():
    with open(os.path.join(HERE, 'butter_sos.txt'), 'w') as f:
        f.write('# order cutoff_hz rate_hz nsec, then nsec rows b0 b1 b2 a0 a1 a2\n')
        f.write('%d\n' % len(SOS_CASES))
        for o, fc, fs in SOS_CASES:
            sos = signal.butter(o, fc, btype='low', fs=fs, output='sos')
            f.write('%d %.17g %d %d\n' % (o, fc, fs, sos.shape[0]))
            for row in sos:
                f.write(' '.join('%.17g' % v for v in row) + '\n')

    x = test_signal()
    with open(os.path.join(HERE, 'signal.txt'), 'w') as f:
        f.write('# frames, then one int16 sample a line\n%d\n' % FRAMES)
        f.write('\n'.join('%d' % v for v in x) + '\n')

    for o, fc, fs in SOSFILT_CASES:
        sos = signal.butter(o, fc, btype='low', fs=fs, output='sos')
        y = signal.sosfilt(sos, x.astype(np.float64))
        name = 'sosfilt_o%d_fc%d_fs%d.txt' % (o, int(fc), fs)
        with open(os.path.join(HERE, name), 'w') as f:
            f.write('# order cutoff rate frames, then sosfilt output in int16 units\n')
            f.write('%d %.17g %d %d\n' % (o, fc, fs, FRAMES))
            f.write('\n'.join('%.17g' % v for v in y) + '\n')

    for n in FFT_SIZES:
        w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
        spec = np.abs(np.fft.rfft(w * x[:n].astype(np.float64) / 32768.0))
        scale = np.full(n // 2 + 1, 2.0 / w.sum())
        scale[0] = scale[-1] = 1.0 / w.sum()
        mag = spec * scale
        with open(os.path.join(HERE, 'rfft_%d.txt' % n), 'w') as f:
            f.write('# n bins, then scaled magnitudes (full-scale sine = 1)\n')
            f.write('%d %d\n' % (n, n // 2 + 1))
            f.write('\n'.join('%.17g' % v for v in mag) + '\n')


if __name__ == '__main__':
    main()
