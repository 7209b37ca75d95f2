import { describe, expect, it } from "vitest";
import { formatFreq, fromLogPosition, toLogPosition } from "./Field";

describe("logarithmic cutoff slider", () => {
  it("gives each decade the same travel", () => {
    expect(toLogPosition(20, 20, 20000)).toBe(0);
    expect(toLogPosition(200, 20, 20000)).toBe(333);
    expect(toLogPosition(2000, 20, 20000)).toBe(667);
    expect(toLogPosition(20000, 20, 20000)).toBe(1000);
  });

  it("maps positions back to round frequencies within the limits", () => {
    expect(fromLogPosition(0, 20, 20000)).toBe(20);
    expect(fromLogPosition(1000, 20, 20000)).toBe(20000);
    expect(fromLogPosition(500, 20, 20000)).toBe(632);
    expect(fromLogPosition(1000, 20, 19845)).toBe(19845);
  });

  it("round-trips a position", () => {
    for (const p of [0, 1, 100, 333, 500, 999, 1000]) {
      expect(Math.abs(toLogPosition(fromLogPosition(p, 20, 20000), 20, 20000) - p)).toBeLessThanOrEqual(1);
    }
  });

  it("formats frequencies", () => {
    expect(formatFreq(50)).toBe("50.0 Hz");
    expect(formatFreq(440)).toBe("440 Hz");
    expect(formatFreq(1500)).toBe("1.50 kHz");
    expect(formatFreq(19845)).toBe("19.8 kHz");
  });
});
