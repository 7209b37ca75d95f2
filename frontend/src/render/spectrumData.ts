// render/spectrumData.ts - the spectrum a view should draw: band levels in dB and their centre frequencies.
//
// NOTES: a server asked for `bands` sends `spectrum_db` with `band_hz`
// (band_hz may come once, in `ready`); an earlier server sends only the
// 32-band `spectrum` normalised from -80..0 dB to 0..1, whose bands are
// taken as log-spaced from 20 Hz to Nyquist. Pure, for the tests.
import type { MeterMessage, ReadyMessage } from "../protocol/types";
import { logBandCentres } from "./scales";

export interface Bands {
  db: number[];
  hz: number[];
}

const centresCache = new Map<string, number[]>();

export function spectrumBands(m: MeterMessage | null, ready: ReadyMessage | null, sampleRate: number): Bands | null {
  if (!m) return null;
  if (m.spectrum_db && m.spectrum_db.length) {
    const hz = m.band_hz && m.band_hz.length === m.spectrum_db.length ? m.band_hz : ready?.band_hz;
    if (hz && hz.length === m.spectrum_db.length) return { db: m.spectrum_db, hz };
    return { db: m.spectrum_db, hz: centres(m.spectrum_db.length, sampleRate) };
  }
  if (m.spectrum.length) {
    return { db: m.spectrum.map((v) => -80 + 80 * Math.min(1, Math.max(0, v))), hz: centres(m.spectrum.length, sampleRate) };
  }
  return null;
}

function centres(n: number, rate: number): number[] {
  const key = `${n}@${rate}`;
  let c = centresCache.get(key);
  if (!c) {
    c = logBandCentres(n, 20, rate / 2);
    centresCache.set(key, c);
  }
  return c;
}

/** Peak hold with a hold time and then a fall in dB per second. */
export class PeakHold {
  #db: Float64Array = new Float64Array(0);
  #at: Float64Array = new Float64Array(0);
  holdMs: number;
  fallDbPerS: number;

  constructor(holdMs = 1500, fallDbPerS = 15) {
    this.holdMs = holdMs;
    this.fallDbPerS = fallDbPerS;
  }

  /** Feeds levels at time t (ms) and returns the held trace. */
  update(db: ArrayLike<number>, t: number): Float64Array {
    if (this.#db.length !== db.length) {
      this.#db = new Float64Array(db.length).fill(-Infinity);
      this.#at = new Float64Array(db.length).fill(t);
    }
    for (let i = 0; i < db.length; i++) {
      const age = t - this.#at[i];
      const fallen = age > this.holdMs ? this.#db[i] - ((age - this.holdMs) / 1000) * this.fallDbPerS : this.#db[i];
      if (db[i] >= fallen) {
        this.#db[i] = db[i];
        this.#at[i] = t;
      } else if (age > this.holdMs) {
        this.#db[i] = fallen;
        this.#at[i] = t - this.holdMs; // keep falling from here
      }
    }
    return this.#db;
  }

  reset(): void {
    this.#db = new Float64Array(0);
  }
}
