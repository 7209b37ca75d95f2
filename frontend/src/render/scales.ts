// render/scales.ts - the plots' axes: log frequency <-> x, dB <-> y, and their tick labels.
//
// NOTES: pure functions of numbers, shared by the renderers and tested on
// their own. Pixel coordinates are CSS pixels of the plot area; the
// renderers scale the context for the device pixel ratio.

export class LogFreqScale {
  readonly fMin: number;
  readonly fMax: number;
  readonly x0: number;
  readonly x1: number;
  #lMin: number;
  #span: number;

  constructor(fMin: number, fMax: number, x0: number, x1: number) {
    if (!(fMin > 0) || !(fMax > fMin)) throw new RangeError("need 0 < fMin < fMax");
    this.fMin = fMin;
    this.fMax = fMax;
    this.x0 = x0;
    this.x1 = x1;
    this.#lMin = Math.log10(fMin);
    this.#span = Math.log10(fMax) - this.#lMin;
  }

  /** x of frequency f; frequencies outside the range map outside [x0, x1]. */
  toX(f: number): number {
    const t = (Math.log10(Math.max(f, 1e-9)) - this.#lMin) / this.#span;
    return this.x0 + t * (this.x1 - this.x0);
  }

  toFreq(x: number): number {
    const t = (x - this.x0) / (this.x1 - this.x0);
    return Math.pow(10, this.#lMin + t * this.#span);
  }
}

export class DbScale {
  readonly dbMin: number;
  readonly dbMax: number;
  readonly y0: number; // y of dbMax (top)
  readonly y1: number; // y of dbMin (bottom)

  constructor(dbMin: number, dbMax: number, yTop: number, yBottom: number) {
    if (!(dbMax > dbMin)) throw new RangeError("need dbMin < dbMax");
    this.dbMin = dbMin;
    this.dbMax = dbMax;
    this.y0 = yTop;
    this.y1 = yBottom;
  }

  /** y of a level, clamped to the plot (so -Infinity sits on the floor). */
  toY(db: number): number {
    const d = Number.isNaN(db) ? this.dbMin : Math.min(this.dbMax, Math.max(this.dbMin, db));
    return this.y1 - ((d - this.dbMin) / (this.dbMax - this.dbMin)) * (this.y1 - this.y0);
  }

  toDb(y: number): number {
    return this.dbMin + ((this.y1 - y) / (this.y1 - this.y0)) * (this.dbMax - this.dbMin);
  }

  /** 0..1 position of a level in the range, clamped; used by the meters. */
  fraction(db: number): number {
    if (Number.isNaN(db)) return 0;
    return Math.min(1, Math.max(0, (db - this.dbMin) / (this.dbMax - this.dbMin)));
  }
}

const FREQ_TICKS = [20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000];

/** The 1-2-5 frequency ticks inside [fMin, fMax]. */
export function freqTicks(fMin: number, fMax: number): number[] {
  return FREQ_TICKS.filter((f) => f >= fMin * 0.999 && f <= fMax * 1.001);
}

export function formatHz(f: number): string {
  if (f >= 1000) {
    const k = f / 1000;
    return `${Number.isInteger(k) ? k.toFixed(0) : k.toFixed(1)}k`;
  }
  return `${Math.round(f)}`;
}

/** Level ticks every `step` dB from dbMax down to dbMin. */
export function dbTicks(dbMin: number, dbMax: number, step: number): number[] {
  const out: number[] = [];
  for (let d = Math.floor(dbMax / step) * step; d >= dbMin - 1e-9; d -= step) out.push(d);
  return out;
}

/** A level as shown to the user: one decimal, "-inf" for silence. */
export function formatDb(db: number | undefined, digits = 1): string {
  if (db === undefined || Number.isNaN(db)) return "—";
  if (db <= -119.95) return "-inf"; // the backend clamps silence to -120 dBFS
  return db.toFixed(digits);
}

/** Linear amplitude to dBFS. */
export function ampToDb(a: number): number {
  return a > 0 ? 20 * Math.log10(a) : -Infinity;
}

/** Index of the largest value, or -1 for an empty list. */
export function argMax(v: ArrayLike<number>): number {
  let best = -1;
  let bv = -Infinity;
  for (let i = 0; i < v.length; i++) {
    if (v[i] > bv) {
      bv = v[i];
      best = i;
    }
  }
  return best;
}

/** Centre frequencies of `n` log-spaced bands between fLo and fHi (used when the server sends none). */
export function logBandCentres(n: number, fLo: number, fHi: number): number[] {
  const out: number[] = [];
  const lLo = Math.log10(fLo);
  const step = (Math.log10(fHi) - lLo) / n;
  for (let i = 0; i < n; i++) out.push(Math.pow(10, lLo + (i + 0.5) * step));
  return out;
}

/**
 * Peak frequency of a banded spectrum, refined by a parabola through the
 * peak band and its neighbours on the log-frequency axis.
 */
export function peakFrequency(db: ArrayLike<number>, hz: ArrayLike<number>): number | null {
  const i = argMax(db);
  if (i < 0 || i >= hz.length || !Number.isFinite(db[i])) return null;
  if (i === 0 || i === db.length - 1 || i + 1 >= hz.length) return hz[i];
  const a = db[i - 1];
  const b = db[i];
  const c = db[i + 1];
  if (!Number.isFinite(a) || !Number.isFinite(c)) return hz[i];
  const den = a - 2 * b + c;
  if (den === 0) return hz[i];
  const p = Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den));
  const l = Math.log10(hz[i]);
  const dl = p >= 0 ? Math.log10(hz[i + 1]) - l : l - Math.log10(hz[i - 1]);
  return Math.pow(10, l + p * dl);
}
