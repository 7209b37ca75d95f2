// lib/throttle.ts - send at most N times a second while a control is dragged, and always send the last value.
//
// NOTES: leading + trailing throttle. The first call goes out at once; calls
// inside the interval replace a pending value that goes out when the interval
// ends, so the server always ends on the value the user let go of. The clock
// and timer are injectable for tests.

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface Throttled<T> {
  (value: T): void;
  flush(): void;
  cancel(): void;
}

export function throttle<T>(fn: (value: T) => void, intervalMs: number, clock: Clock = realClock): Throttled<T> {
  let last = -Infinity;
  let pending: { value: T } | null = null;
  let timer: unknown = null;

  const fire = () => {
    timer = null;
    if (!pending) return;
    const { value } = pending;
    pending = null;
    last = clock.now();
    fn(value);
  };

  const t = ((value: T) => {
    const now = clock.now();
    const wait = last + intervalMs - now;
    pending = { value };
    if (wait <= 0 && timer === null) {
      fire();
    } else if (timer === null) {
      timer = clock.setTimeout(fire, Math.max(0, wait));
    }
  }) as Throttled<T>;
  t.flush = () => {
    if (timer !== null) clock.clearTimeout(timer);
    fire();
  };
  t.cancel = () => {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
    pending = null;
  };
  return t;
}
