import { describe, expect, it } from "vitest";
import { LatencyTracker, MeterStore, RateCounter } from "./meterStore";
import type { MeterMessage } from "../protocol/types";

const meter = (extra: Partial<MeterMessage> = {}): MeterMessage => ({ type: "meter", rms: -20, spectrum: [], panning: 0, ...extra });

describe("latency from seq", () => {
  it("measures from the send time of the chunk the meter names", () => {
    const t = new LatencyTracker();
    expect(t.sent(1000)).toBe(1);
    expect(t.sent(1020)).toBe(2);
    expect(t.answered(2, 1065)).toBe(45);
    expect(t.answered(1, 1100)).toBe(100);
  });

  it("ignores a seq it never sent or long forgotten", () => {
    const t = new LatencyTracker();
    t.sent(0);
    expect(t.answered(5, 10)).toBeNull();
    expect(t.answered(0, 10)).toBeNull();
    for (let i = 0; i < 2000; i++) t.sent(i);
    expect(t.answered(2, 3000)).toBeNull();
  });

  it("smooths the readout", () => {
    const t = new LatencyTracker();
    t.sent(0);
    t.sent(0);
    t.answered(1, 40);
    t.answered(2, 140);
    expect(t.smoothed).toBeCloseTo(50);
    expect(t.latest).toBe(140);
  });
});

describe("meter store", () => {
  it("counts meters per second", () => {
    const r = new RateCounter();
    for (let i = 0; i < 50; i++) r.hit(i * 20);
    expect(r.rate(999)).toBe(50);
    expect(r.rate(1500)).toBe(25);
  });

  it("latches a clip until the user resets it", () => {
    const s = new MeterStore();
    s.pushMeter(meter({ clips: [0, 0], peak_db: [-3, -3] }), 0);
    expect(s.clipped(0)).toBe(false);
    s.pushMeter(meter({ clips: [2, 0], peak_db: [-3, -3] }), 10);
    expect(s.clipped(0)).toBe(true);
    s.pushMeter(meter({ clips: [2, 0], peak_db: [-3, -3] }), 20);
    expect(s.clipped(0)).toBe(true);
    s.resetClips();
    expect(s.clipped(0)).toBe(false);
    s.pushMeter(meter({ clips: [2, 0], peak_db: [-3, 0] }), 30);
    expect(s.clipped(0)).toBe(false);
    expect(s.clipped(1)).toBe(true); // a 0 dBFS peak counts as a clip too
  });

  it("tells listeners and moves the version on every meter", () => {
    const s = new MeterStore();
    const seen: number[] = [];
    const off = s.subscribe((m) => seen.push(m.rms));
    s.pushMeter(meter({ rms: -1 }), 0);
    off();
    s.pushMeter(meter({ rms: -2 }), 1);
    expect(seen).toEqual([-1]);
    expect(s.version).toBe(2);
    expect(s.meter?.rms).toBe(-2);
  });
});
