import { describe, expect, it } from "vitest";
import { SignalGenerator } from "./signals";

const rmsDb = (a: Float32Array) => 10 * Math.log10(a.reduce((s, v) => s + v * v, 0) / a.length);

function run(g: SignalGenerator, n: number) {
  const l = new Float32Array(n);
  const r = new Float32Array(n);
  g.fill(l, r);
  return { l, r };
}

function seeded(seed = 1) {
  let s = seed;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
}

describe("test signal generator", () => {
  it("makes a sine whose peak is the level and whose RMS is 3 dB lower", () => {
    const g = new SignalGenerator(48000);
    g.set({ type: "sine", frequency: 1000, levelDb: -12, route: "both" });
    const { l, r } = run(g, 48000);
    const peak = Math.max(...l.map(Math.abs));
    expect(20 * Math.log10(peak)).toBeCloseTo(-12, 2);
    expect(rmsDb(l)).toBeCloseTo(-15.01, 1);
    expect(Array.from(r)).toEqual(Array.from(l));
  });

  it("has the frequency asked for (zero crossings)", () => {
    const g = new SignalGenerator(44100);
    g.set({ type: "sine", frequency: 440, levelDb: 0 });
    const { l } = run(g, 44100);
    let ups = 0;
    for (let i = 1; i < l.length; i++) if (l[i - 1] < 0 && l[i] >= 0) ups++;
    expect(Math.abs(ups - 440)).toBeLessThanOrEqual(1);
  });

  it("continues the phase across blocks", () => {
    const a = new SignalGenerator(48000);
    const b = new SignalGenerator(48000);
    const whole = run(a, 256).l;
    const first = run(b, 100).l;
    const second = run(b, 156).l;
    expect([...first, ...second].map((v) => v.toFixed(6))).toEqual(Array.from(whole).map((v) => v.toFixed(6)));
  });

  it("routes to the left or right channel only", () => {
    const g = new SignalGenerator(48000);
    g.set({ route: "left" });
    let { l, r } = run(g, 1000);
    expect(rmsDb(l)).toBeGreaterThan(-20);
    expect(r.every((v) => v === 0)).toBe(true);
    g.set({ route: "right" });
    ({ l, r } = run(g, 1000));
    expect(l.every((v) => v === 0)).toBe(true);
    expect(rmsDb(r)).toBeGreaterThan(-20);
  });

  it("scales white and pink noise to the RMS of the sine at the same level", () => {
    for (const type of ["white", "pink"] as const) {
      const g = new SignalGenerator(48000, seeded(7));
      g.set({ type, levelDb: -20 });
      const { l } = run(g, 480000);
      expect(Math.abs(rmsDb(l) - -23.01)).toBeLessThan(0.5);
    }
  });

  it("gives pink noise more energy low than high, white noise not", () => {
    const bandRatio = (type: "white" | "pink") => {
      const g = new SignalGenerator(48000, seeded(3));
      g.set({ type, levelDb: -10 });
      const { l } = run(g, 96000);
      // crude split: a one-pole low-pass at ~500 Hz vs the remainder
      let y = 0;
      let lo = 0;
      let hi = 0;
      const a = Math.exp((-2 * Math.PI * 500) / 48000);
      for (const x of l) {
        y = a * y + (1 - a) * x;
        lo += y * y;
        hi += (x - y) * (x - y);
      }
      return 10 * Math.log10(lo / hi);
    };
    expect(bandRatio("pink") - bandRatio("white")).toBeGreaterThan(6);
  });

  it("sweeps logarithmically from the start to the end frequency and starts over", () => {
    const g = new SignalGenerator(48000);
    g.set({ type: "sweep", sweepFrom: 20, sweepTo: 20000, sweepSeconds: 2 });
    expect(g.sweepFrequencyAt(0)).toBeCloseTo(20);
    expect(g.sweepFrequencyAt(48000)).toBeCloseTo(Math.sqrt(20 * 20000), 3);
    expect(g.sweepFrequencyAt(96000)).toBeCloseTo(20000);
    const { l } = run(g, 96000 + 10);
    expect(Math.max(...l.map(Math.abs))).toBeLessThanOrEqual(Math.pow(10, -12 / 20) + 1e-6);
  });
});
