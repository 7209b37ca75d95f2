import { describe, expect, it } from "vitest";
import { DbScale, dbTicks, formatDb, formatHz, freqTicks, LogFreqScale, logBandCentres, peakFrequency } from "./scales";

describe("log frequency axis", () => {
  const s = new LogFreqScale(20, 20000, 0, 300);

  it("puts each decade on an equal share of the width", () => {
    expect(s.toX(20)).toBeCloseTo(0);
    expect(s.toX(200)).toBeCloseTo(100);
    expect(s.toX(2000)).toBeCloseTo(200);
    expect(s.toX(20000)).toBeCloseTo(300);
  });

  it("maps x back to the same frequency", () => {
    for (const f of [20, 31.5, 100, 440, 1000, 12345, 20000]) expect(s.toFreq(s.toX(f))).toBeCloseTo(f, 6);
  });

  it("places frequencies outside the range outside the plot", () => {
    expect(s.toX(10)).toBeLessThan(0);
    expect(s.toX(40000)).toBeGreaterThan(300);
  });

  it("works with an offset plot and a reversed (vertical) axis", () => {
    const v = new LogFreqScale(20, 20000, 200, 20);
    expect(v.toX(20)).toBeCloseTo(200);
    expect(v.toX(20000)).toBeCloseTo(20);
    expect(v.toX(632.455532)).toBeCloseTo(110, 4);
  });

  it("rejects an empty or negative range", () => {
    expect(() => new LogFreqScale(0, 100, 0, 1)).toThrow();
    expect(() => new LogFreqScale(100, 100, 0, 1)).toThrow();
  });
});

describe("dB axis", () => {
  const s = new DbScale(-100, 0, 10, 210);

  it("puts 0 dB at the top and the floor at the bottom, linearly", () => {
    expect(s.toY(0)).toBe(10);
    expect(s.toY(-100)).toBe(210);
    expect(s.toY(-50)).toBe(110);
    expect(s.toDb(110)).toBe(-50);
  });

  it("clamps levels outside the range, silence included", () => {
    expect(s.toY(12)).toBe(10);
    expect(s.toY(-Infinity)).toBe(210);
    expect(s.toY(NaN)).toBe(210);
  });

  it("gives the meters a 0..1 fraction", () => {
    const m = new DbScale(-60, 0, 0, 1);
    expect(m.fraction(-60)).toBe(0);
    expect(m.fraction(-30)).toBe(0.5);
    expect(m.fraction(3)).toBe(1);
    expect(m.fraction(-Infinity)).toBe(0);
  });
});

describe("ticks and labels", () => {
  it("labels 20, 50, 100 ... 20k inside the range", () => {
    expect(freqTicks(20, 20000)).toEqual([20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000]);
    expect(freqTicks(20, 4000)).toEqual([20, 50, 100, 200, 500, 1000, 2000]);
    expect([20, 500, 1000, 2500, 10000, 20000].map(formatHz)).toEqual(["20", "500", "1k", "2.5k", "10k", "20k"]);
  });

  it("steps dB ticks down from the top", () => {
    expect(dbTicks(-100, 0, 20)).toEqual([0, -20, -40, -60, -80, -100]);
    expect(dbTicks(-60, -5, 10)).toEqual([-10, -20, -30, -40, -50, -60]);
  });

  it("writes silence as -inf and the floor the server clamps to as -inf too", () => {
    expect(formatDb(-12.345)).toBe("-12.3");
    expect(formatDb(-Infinity)).toBe("-inf");
    expect(formatDb(-120)).toBe("-inf");
    expect(formatDb(undefined)).toBe("—");
  });
});

describe("spectrum peak", () => {
  it("finds the band centre of an isolated peak", () => {
    const hz = logBandCentres(64, 20, 20000);
    const db = hz.map(() => -100);
    db[40] = -10;
    expect(peakFrequency(db, hz)).toBeCloseTo(hz[40], 6);
  });

  it("moves toward the louder neighbour", () => {
    const hz = [500, 1000, 2000];
    expect(peakFrequency([-20, -10, -20], hz)).toBeCloseTo(1000);
    const f = peakFrequency([-30, -10, -12], hz)!;
    expect(f).toBeGreaterThan(1000);
    expect(f).toBeLessThan(1414.3);
  });

  it("makes log-spaced band centres between the edges", () => {
    const c = logBandCentres(3, 10, 1000);
    expect(c[0]).toBeCloseTo(10 * Math.pow(100, 1 / 6));
    expect(c[1]).toBeCloseTo(100);
    expect(c[2]).toBeCloseTo(1000 / Math.pow(100, 1 / 6));
  });
});
