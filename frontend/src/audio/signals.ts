// audio/signals.ts - the test-signal generator: sine, white and pink noise, log sweep, routed to L, R or both.
//
// NOTES: plain arithmetic, no Web Audio, so it runs in the signal worker
// without a user gesture (an AudioContext stays suspended until the user
// clicks; the test signal must play on a fresh page) and is unit-tested.
// Level is in dBFS as the peak of the sine: a -12 dBFS sine has amplitude
// 0.251 and an RMS of -15 dBFS. Noise is scaled to the same RMS as the sine
// of the same level, so switching type keeps the loudness comparable.
// Phase is kept in cycles and wrapped, so a long run does not lose precision.

export type SignalType = "sine" | "white" | "pink" | "sweep";
export type ChannelRoute = "both" | "left" | "right";

export interface SignalConfig {
  type: SignalType;
  frequency: number; // Hz (sine)
  levelDb: number; // dBFS peak of the sine (<= 0)
  route: ChannelRoute;
  sweepFrom: number; // Hz
  sweepTo: number; // Hz
  sweepSeconds: number;
}

export const DEFAULT_SIGNAL: SignalConfig = {
  type: "sine",
  frequency: 1000,
  levelDb: -12,
  route: "both",
  sweepFrom: 20,
  sweepTo: 20000,
  sweepSeconds: 5,
};

// RMS of the pink filter below for unit-variance white input, measured over
// 10^7 samples; dividing by it gives unit-RMS pink noise.
const PINK_RMS = 3.058;

export class SignalGenerator {
  readonly sampleRate: number;
  #cfg: SignalConfig = { ...DEFAULT_SIGNAL };
  #phase = 0; // cycles, 0..1
  #sweepT = 0; // samples into the current sweep
  #b = new Float64Array(7); // pink filter state
  #spare: number | null = null; // second Box-Muller value
  #rand: () => number;

  constructor(sampleRate: number, random: () => number = Math.random) {
    if (!(sampleRate > 0)) throw new RangeError("sample rate must be positive");
    this.sampleRate = sampleRate;
    this.#rand = random;
  }

  get config(): SignalConfig {
    return this.#cfg;
  }

  set(cfg: Partial<SignalConfig>): void {
    const next = { ...this.#cfg, ...cfg };
    if (next.type !== this.#cfg.type || next.sweepFrom !== this.#cfg.sweepFrom || next.sweepTo !== this.#cfg.sweepTo) {
      this.#sweepT = 0;
    }
    this.#cfg = next;
  }

  /** Linear amplitude of the configured level. */
  get amplitude(): number {
    return Math.pow(10, Math.min(0, this.#cfg.levelDb) / 20);
  }

  /** Writes `frames` samples into left and right (either may be a shared array for mono use). */
  fill(left: Float32Array, right: Float32Array, frames: number = left.length): void {
    const a = this.amplitude;
    const { type, route } = this.#cfg;
    const nyq = this.sampleRate / 2;
    for (let i = 0; i < frames; i++) {
      let v: number;
      switch (type) {
        case "sine": {
          const f = Math.min(Math.max(this.#cfg.frequency, 0), nyq);
          v = a * Math.sin(2 * Math.PI * this.#phase);
          this.#phase += f / this.sampleRate;
          if (this.#phase >= 1) this.#phase -= Math.floor(this.#phase);
          break;
        }
        case "sweep": {
          const f = this.sweepFrequencyAt(this.#sweepT);
          v = a * Math.sin(2 * Math.PI * this.#phase);
          this.#phase += Math.min(f, nyq) / this.sampleRate;
          if (this.#phase >= 1) this.#phase -= Math.floor(this.#phase);
          this.#sweepT++;
          if (this.#sweepT >= this.#cfg.sweepSeconds * this.sampleRate) this.#sweepT = 0;
          break;
        }
        case "white":
          v = (a / Math.SQRT2) * this.#gauss();
          break;
        case "pink":
          v = ((a / Math.SQRT2) * this.#pink(this.#gauss())) / PINK_RMS;
          break;
      }
      left[i] = route === "right" ? 0 : v;
      right[i] = route === "left" ? 0 : v;
    }
  }

  /** Instantaneous frequency of the log sweep `n` samples after its start. */
  sweepFrequencyAt(n: number): number {
    const { sweepFrom: f0, sweepTo: f1, sweepSeconds: T } = this.#cfg;
    const t = n / this.sampleRate / T;
    return f0 * Math.pow(f1 / f0, Math.min(1, Math.max(0, t)));
  }

  #gauss(): number {
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return s;
    }
    let u = 0;
    while (u <= 1e-12) u = this.#rand();
    const v = this.#rand();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  // Paul Kellet's refined pink-noise filter (-3 dB/octave within 0.05 dB above 9 Hz at 44.1 kHz).
  #pink(w: number): number {
    const b = this.#b;
    b[0] = 0.99886 * b[0] + w * 0.0555179;
    b[1] = 0.99332 * b[1] + w * 0.0750759;
    b[2] = 0.969 * b[2] + w * 0.153852;
    b[3] = 0.8665 * b[3] + w * 0.3104856;
    b[4] = 0.55 * b[4] + w * 0.5329522;
    b[5] = -0.7616 * b[5] - w * 0.016898;
    const out = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362;
    b[6] = w * 0.115926;
    return out;
  }
}
