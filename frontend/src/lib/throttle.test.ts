import { describe, expect, it } from "vitest";
import { throttle, type Clock } from "./throttle";

function fakeClock() {
  let t = 0;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  const clock: Clock = {
    now: () => t,
    setTimeout: (fn, ms) => {
      const id = next++;
      timers.push({ at: t + ms, fn, id });
      return id;
    },
    clearTimeout: (h) => {
      const i = timers.findIndex((x) => x.id === h);
      if (i >= 0) timers.splice(i, 1);
    },
  };
  const advance = (ms: number) => {
    const end = t + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const due = timers[0];
      if (!due || due.at > end) break;
      timers.shift();
      t = due.at;
      due.fn();
    }
    t = end;
  };
  return { clock, advance };
}

describe("throttle", () => {
  it("sends the first value at once", () => {
    const { clock } = fakeClock();
    const sent: number[] = [];
    const f = throttle((v: number) => sent.push(v), 33, clock);
    f(1);
    expect(sent).toEqual([1]);
  });

  it("sends at most about 30 values a second while dragging, and ends on the last value", () => {
    const { clock, advance } = fakeClock();
    const sent: number[] = [];
    const f = throttle((v: number) => sent.push(v), 1000 / 30, clock);
    for (let i = 0; i < 1000; i++) {
      f(i); // an input event every millisecond for a second
      advance(1);
    }
    advance(100);
    expect(sent.length).toBeLessThanOrEqual(31);
    expect(sent.length).toBeGreaterThanOrEqual(29);
    expect(sent[sent.length - 1]).toBe(999);
  });

  it("flushes a pending value immediately, and cancel forgets it", () => {
    const { clock, advance } = fakeClock();
    const sent: number[] = [];
    const f = throttle((v: number) => sent.push(v), 100, clock);
    f(1);
    f(2);
    f.flush();
    expect(sent).toEqual([1, 2]);
    f(3);
    f.cancel();
    advance(500);
    expect(sent).toEqual([1, 2]);
  });
});
