// lib/meterStore.ts - the newest analysis data and the stream statistics, outside React.
//
// NOTES: meters arrive up to ~50 times a second; putting each into React
// state would re-render the page at that rate. The socket writes here, the
// canvas renderers read the newest values once per animation frame, and the
// few numbers shown as text (rate, latency, drops) are sampled by a 4 Hz
// timer in the status line. Latency: each binary frame the client sends is
// numbered (1, 2, 3 ... for the session, like the server's chunk counter)
// and timed; a meter's `seq` names the last chunk the server analysed, so
// now - sentAt[seq] is the end-to-end latency.
import type { MeterMessage, ReadyMessage } from "../protocol/types";

const SEQ_RING = 1024;

export class LatencyTracker {
  #sentAt = new Float64Array(SEQ_RING);
  #seqOf = new Float64Array(SEQ_RING).fill(-1);
  #count = 0;
  #last: number | null = null;
  #smoothed: number | null = null;

  /** Notes that chunk number (count + 1) left at time t (ms). Returns its number. */
  sent(t: number): number {
    const seq = ++this.#count;
    this.#sentAt[seq % SEQ_RING] = t;
    this.#seqOf[seq % SEQ_RING] = seq;
    return seq;
  }

  get sentCount(): number {
    return this.#count;
  }

  /** Latency of the chunk `seq` answered at time t, or null if unknown (too old, or not ours). */
  answered(seq: number, t: number): number | null {
    const i = seq % SEQ_RING;
    if (seq < 1 || this.#seqOf[i] !== seq) return null;
    const l = t - this.#sentAt[i];
    if (l < 0 || l > 30_000) return null;
    this.#last = l;
    this.#smoothed = this.#smoothed === null ? l : this.#smoothed + 0.1 * (l - this.#smoothed);
    return l;
  }

  get latest(): number | null {
    return this.#last;
  }

  /** Exponentially smoothed latency, steadier to read. */
  get smoothed(): number | null {
    return this.#smoothed;
  }

  /** After the server lost count (a new worker), old numbers mean nothing. */
  reset(): void {
    this.#seqOf.fill(-1);
    this.#count = 0;
    this.#last = null;
    this.#smoothed = null;
  }
}

/** Counts events in a sliding one-second window. */
export class RateCounter {
  #times: number[] = [];
  hit(t: number): void {
    this.#times.push(t);
    if (this.#times.length > 2000) this.#times.splice(0, 1000);
  }
  rate(t: number): number {
    const from = t - 1000;
    while (this.#times.length && this.#times[0] < from) this.#times.shift();
    return this.#times.length;
  }
}

export type MeterListener = (m: MeterMessage) => void;

export class MeterStore {
  meter: MeterMessage | null = null;
  ready: ReadyMessage | null = null;
  /** Increments on every meter; renderers redraw when it moved. */
  version = 0;
  lastMeterAt = 0;
  serverDropped = 0;
  readonly latency = new LatencyTracker();
  readonly meterRate = new RateCounter();
  /** Processed-audio frames received for the monitor. */
  readonly monitorRate = new RateCounter();
  /** Clip counts at the last reset, per channel. */
  clipBase: number[] = [0, 0];
  #clipLatch = [false, false];
  #listeners = new Set<MeterListener>();

  pushMeter(m: MeterMessage, t: number = performance.now()): void {
    this.meter = m;
    this.version++;
    this.lastMeterAt = t;
    this.meterRate.hit(t);
    if (m.seq !== undefined) this.latency.answered(m.seq, t);
    if (m.dropped !== undefined) this.serverDropped = m.dropped;
    for (let c = 0; c < 2; c++) {
      const n = m.clips?.[c];
      if (n !== undefined && n < (this.clipBase[c] ?? 0)) this.clipBase[c] = 0; // a new worker counts from zero
      if ((n !== undefined && n > this.clipBase[c]) || (m.peak_db?.[c] ?? -Infinity) >= -0.01) this.#clipLatch[c] = true;
    }
    for (const l of this.#listeners) l(m);
  }

  setReady(r: ReadyMessage): void {
    this.ready = r;
    this.version++;
  }

  /** True if channel c clipped (a clip count rose, or the peak reached 0 dBFS) since the last reset. */
  clipped(c: number): boolean {
    return this.#clipLatch[c] ?? false;
  }

  resetClips(): void {
    const clips = this.meter?.clips ?? [];
    this.clipBase = [clips[0] ?? 0, clips[1] ?? 0];
    this.#clipLatch = [false, false];
    this.version++;
  }

  subscribe(l: MeterListener): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  /** Forgets the data of a stream that ended (not the statistics). */
  clear(): void {
    this.meter = null;
    this.version++;
  }
}
