// net/backoff.ts - how long to wait before the next reconnect attempt.
//
// NOTES: exponential back-off with jitter, so a restarted gateway is not hit
// by every dashboard at the same instant: 0.5 s, 1 s, 2 s, 4 s ... capped at
// 10 s, each scaled by a random factor in [1 - jitter, 1].

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  factor: number;
  jitter: number; // 0..1
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 10_000, factor: 2, jitter: 0.3 };

/** Delay before attempt number `attempt` (1 = the first retry). */
export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempt));
  const raw = Math.min(opts.maxMs, opts.baseMs * Math.pow(opts.factor, n - 1));
  const j = Math.min(1, Math.max(0, opts.jitter));
  return Math.round(raw * (1 - j * random()));
}
