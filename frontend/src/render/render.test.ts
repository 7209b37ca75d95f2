import { describe, expect, it } from "vitest";
import { envelopeColumns } from "./WaveformRenderer";
import { rowBandMap } from "./SpectrogramRenderer";
import { PeakHold, spectrumBands } from "./spectrumData";
import { bipolarX } from "./BalanceRenderer";
import { channelLevels } from "./MeterRenderer";
import type { MeterMessage } from "../protocol/types";

const meter = (extra: Partial<MeterMessage> = {}): MeterMessage => ({ type: "meter", rms: -20, spectrum: [0, 0.5, 1], panning: 0, ...extra });

describe("waveform envelope", () => {
  it("keeps the extremes of the pairs that share a column", () => {
    const pairs = [-0.1, 0.1, -0.5, 0.2, -0.2, 0.9, 0, 0];
    expect(Array.from(envelopeColumns(pairs, 2))).toEqual([-0.5, 0.2, -0.2, 0.9].map(Math.fround));
  });

  it("repeats pairs when there are more columns than points", () => {
    const env = envelopeColumns([-1, 1, 0, 0.5], 4);
    expect(Array.from(env)).toEqual([-1, 1, -1, 1, 0, 0.5, 0, 0.5]);
  });

  it("clamps to the -1..1 plot", () => {
    expect(Array.from(envelopeColumns([-3, 3], 1))).toEqual([-1, 1]);
  });
});

describe("spectrum data", () => {
  it("prefers spectrum_db with its band centres", () => {
    const b = spectrumBands(meter({ spectrum_db: [-40, -20], band_hz: [100, 1000] }), null, 48000);
    expect(b).toEqual({ db: [-40, -20], hz: [100, 1000] });
  });

  it("takes band centres from ready when the meter leaves them out", () => {
    const ready = { type: "ready" as const, sample_rate: 48000, channels: 2, band_hz: [50, 500] };
    expect(spectrumBands(meter({ spectrum_db: [-1, -2] }), ready, 48000)?.hz).toEqual([50, 500]);
  });

  it("falls back to the earlier 32-band 0..1 spectrum mapped to -80..0 dB", () => {
    const b = spectrumBands(meter(), null, 48000)!;
    expect(b.db).toEqual([-80, -40, 0]);
    expect(b.hz.length).toBe(3);
    expect(b.hz[0]).toBeGreaterThan(20);
    expect(b.hz[2]).toBeLessThan(24000);
  });

  it("holds peaks, then lets them fall", () => {
    const h = new PeakHold(1000, 10);
    expect(Array.from(h.update([-10], 0))).toEqual([-10]);
    expect(Array.from(h.update([-50], 500))).toEqual([-10]);
    expect(h.update([-50], 2000)[0]).toBeCloseTo(-20);
    expect(h.update([-5], 2100)[0]).toBe(-5);
  });
});

describe("spectrogram rows", () => {
  it("maps the top row to the highest band and the bottom to the lowest", () => {
    const hz = [100, 1000, 10000];
    const { idx, frac } = rowBandMap(hz, 100, 100, 10000);
    expect(idx[0]).toBe(1);
    expect(frac[0]).toBeGreaterThan(0.95);
    expect(idx[99]).toBe(0);
    expect(frac[99]).toBeLessThan(0.05);
    // the middle row sits at 1 kHz: the end of band 0's span or the start of band 1's
    const mid = idx[50] + frac[50];
    expect(mid).toBeGreaterThan(0.95);
    expect(mid).toBeLessThan(1.05);
  });
});

describe("meters and balance", () => {
  it("uses per-channel levels and falls back to the mono rms", () => {
    expect(channelLevels(meter({ rms_db: [-6, -9], peak_db: [-3, -4], peak_hold_db: [-1, -2] }), 1)).toEqual({ rms: -9, peak: -4, hold: -2 });
    expect(channelLevels(meter(), 0)).toEqual({ rms: -20, peak: -20, hold: -20 });
    expect(channelLevels(null, 0).rms).toBe(-Infinity);
  });

  it("maps balance -1..1 across the track, clamped", () => {
    expect(bipolarX(-1, 0, 100)).toBe(0);
    expect(bipolarX(0, 0, 100)).toBe(50);
    expect(bipolarX(0.5, 0, 100)).toBe(75);
    expect(bipolarX(4, 0, 100)).toBe(100);
    expect(bipolarX(NaN, 0, 100)).toBe(50);
  });
});
