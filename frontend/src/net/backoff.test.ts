import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_BACKOFF } from "./backoff";

describe("reconnect back-off", () => {
  it("doubles from half a second and stops at ten seconds", () => {
    const noJitter = () => 0;
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelay(n, DEFAULT_BACKOFF, noJitter))).toEqual([
      500, 1000, 2000, 4000, 8000, 10000, 10000, 10000,
    ]);
  });

  it("shortens each delay by at most the jitter fraction", () => {
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 1)).toBe(1400);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(2, DEFAULT_BACKOFF);
      expect(d).toBeGreaterThanOrEqual(700);
      expect(d).toBeLessThanOrEqual(1000);
    }
  });

  it("treats attempt 0 or less as the first", () => {
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0)).toBe(500);
  });
});
