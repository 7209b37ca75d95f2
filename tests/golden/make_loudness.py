#!/usr/bin/python3
"""make_loudness.py - golden EBU R128 figures from an independent meter.

Synthesises the EBU Tech 3341 (loudness, true peak) and Tech 3342
(loudness range) test signals that are sine segments, writes each as a
16-bit WAV with numpy (python3-numpy) and measures it with Debian's ffmpeg
`ebur128` filter (peak=true+sample, metadata=1: the figures after the last
frame). Writes loudness.txt beside this script; tests/check_dw_loudness.c
synthesises the same signals from the segment lists and compares.

Run with Debian's /usr/bin/python3:  tests/golden/make_loudness.py

Signal of a case: segments (freq Hz, level dBFS peak, seconds, phase deg)
played one after the other; sample n (counted from the start of the file)
of a segment is 32768 * 10^(level/20) * sin(2 pi f n / rate + phase), times
the fade gain for the first and last fade_ms, then rint and clamped to int16, the same on every channel (mono for channels = 1, which
ffmpeg measures with dualmono=true as the engine does).
"""
import os
import re
import subprocess
import sys
import tempfile
import wave

import numpy as np

RATE = 48000
K = 1000.0
# name, channels, [(freq, dBFS, seconds, phase_deg)], what to compare at
# the end besides I, LRA and the peaks (1: M, 2: S), fade in/out ms
CASES = [
    # EBU Tech 3341 minimum requirements (the sine cases)
    ("3341_1_sine_-23", 2, [(K, -23, 20, 0)], 3, 0),
    ("3341_2_sine_-33", 2, [(K, -33, 20, 0)], 3, 0),
    ("3341_3_steps_-36_-23_-36", 2, [(K, -36, 10, 0), (K, -23, 60, 0), (K, -36, 10, 0)], 3, 0),
    ("3341_4_steps_-72_-36_-23_-36_-72", 2,
     [(K, -72, 10, 0), (K, -36, 10, 0), (K, -23, 60, 0), (K, -36, 10, 0), (K, -72, 10, 0)],
     3, 0),
    ("3341_5_steps_-26_-20_-26", 2, [(K, -26, 20, 0), (K, -20, 20.1, 0), (K, -26, 20, 0)],
     3, 0),
    # Tech 3341 case 9: 1.34 s at -20 and 1.66 s at -30 dBFS, repeated:
    # the short-term loudness of any 3 s is -23 LUFS
    ("3341_9_alternating_S", 2, [(K, -20, 1.34, 0), (K, -30, 1.66, 0)] * 5, 2, 0),
    # true peak: fs/4 at 45 degrees, every sample 3.01 dB below the peak;
    # faded in and out over 20 ms (an abrupt start rings in any
    # oversampler: ffmpeg reads 0.6 dB more)
    ("3341_tp_fs4_45deg_-6", 2, [(RATE / 4, -6, 4, 45)], 3, 20),
    # true peak: fs/6 at 0 degrees: samples at 0 and +-0.866, 1.25 dB low
    ("3341_tp_fs6_0deg_-3", 2, [(RATE / 6, -3, 4, 0)], 3, 20),
    # mono, measured as dual mono
    ("mono_sine_-23", 1, [(K, -23, 20, 0)], 3, 0),
    # EBU Tech 3342 loudness range cases
    ("3342_1_-20_-30", 2, [(K, -20, 20, 0), (K, -30, 20, 0)], 0, 0),
    ("3342_2_-20_-15", 2, [(K, -20, 20, 0), (K, -15, 20, 0)], 0, 0),
    ("3342_3_-40_-20", 2, [(K, -40, 20, 0), (K, -20, 20, 0)], 0, 0),
    ("3342_4_-50_-35_-20_-35_-50", 2,
     [(K, -50, 20, 0), (K, -35, 20, 0), (K, -20, 20, 0), (K, -35, 20, 0), (K, -50, 20, 0)],
     0, 0),
]


def synth(segs, rate, fade_ms):
    out, n0 = [], 0
    for f, db, secs, ph in segs:
        n = int(round(secs * rate))
        t = np.arange(n0, n0 + n, dtype=np.float64)
        a = 32768.0 * 10.0 ** (db / 20.0)
        out.append(a * np.sin(2.0 * np.pi * f * t / rate + np.deg2rad(ph)))
        n0 += n
    x = np.concatenate(out)
    nf = int(round(fade_ms * rate / 1000.0))
    if nf > 0:
        g = 0.5 - 0.5 * np.cos(np.pi * np.arange(nf) / nf)
        x[:nf] *= g
        x[-nf:] *= g[::-1]
    return np.clip(np.rint(x), -32768, 32767).astype("<i2")


def measure(path, ch):
    dm = ":dualmono=true" if ch == 1 else ""
    meta = path + ".txt"
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-v", "error",
                    "-i", path, "-af",
                    "ebur128=peak=true+sample:metadata=1" + dm +
                    ",ametadata=mode=print:file=" + meta, "-f", "null", "-"],
                   check=True)
    last = {}
    with open(meta) as f:
        for line in f:
            m = re.match(r"lavfi\.r128\.([A-Za-z_0-9.]+)=(\S+)", line)
            if m:
                last[m.group(1)] = float(m.group(2))
    return last


def lin_db(v):
    return 20.0 * np.log10(v) if v > 0 else -120.0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ver = subprocess.run(["ffmpeg", "-version"], capture_output=True,
                         text=True).stdout.splitlines()[0]
    lines = ["# loudness.txt - written by make_loudness.py (do not edit)",
             "# reference: " + ver + ", ebur128 filter, peak=true+sample; numpy "
             + np.__version__,
             "# rate " + str(RATE),
             "# per case: name channels check fade_ms nseg M S I LRA TP0 TP1 TPQ SP0 SP1",
             "#   (check: 1 = compare M, 2 = compare S at the end; I, LRA, peaks always;",
             "#   fade_ms: raised-cosine fade in and out, 0.5 - 0.5 cos(pi n / nf))",
             "#   then nseg lines: freq_hz level_dbfs seconds phase_deg",
             "# M, S, I in LUFS and LRA in LU as ffmpeg printed them (3 decimals);",
             "# TP: true peaks in dB from ffmpeg's linear figures, printed to 3",
             "# decimals: TPQ is the dB that 0.0005 makes at the peak (0.06 at -23).",
             "# SP: sample peaks, max |sample| / 32768 in dB (numpy).",
             str(len(CASES))]
    with tempfile.TemporaryDirectory() as d:
        for name, ch, segs, check_ms, fade in CASES:
            x = synth(segs, RATE, fade)
            path = os.path.join(d, name + ".wav")
            with wave.open(path, "wb") as w:
                w.setnchannels(ch)
                w.setsampwidth(2)
                w.setframerate(RATE)
                w.writeframes(np.repeat(x, ch).tobytes())
            r = measure(path, ch)
            tpl = [r["true_peaks_ch%d" % c] for c in range(ch)]
            tp = [lin_db(v) for v in tpl]
            # ffmpeg prints linear peaks to 3 decimals: their dB uncertainty
            tpq = max(20.0 * np.log10((v + 0.0005) / v) for v in tpl)
            # the sample peak is the largest |sample|: numpy's, exactly
            sp = [lin_db(np.abs(x.astype(np.float64)).max() / 32768.0)] * ch
            if ch == 1:
                tp, sp = tp * 2, sp * 2
            lines.append("%s %d %d %d %d %.3f %.3f %.3f %.3f %.3f %.3f %.3f %.4f %.4f" % (
                name, ch, check_ms, fade, len(segs), r["M"], r["S"], r["I"], r["LRA"],
                tp[0], tp[1], tpq, sp[0], sp[1]))
            for f, db, secs, ph in segs:
                lines.append("%.6f %.3f %.3f %.3f" % (f, db, secs, ph))
            print(lines[-len(segs) - 1], file=sys.stderr)
    with open(os.path.join(here, "loudness.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
