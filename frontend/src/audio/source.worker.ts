// audio/source.worker.ts - streams the test signal or a decoded file as 20 ms PCM batches in real time.
//
// NOTES: a dedicated worker, so it runs on a fresh page without the user
// gesture an AudioContext needs, and background-tab timer throttling on the
// main thread does not starve it. Batches are produced against the wall
// clock: every tick emits as many whole batches as the elapsed time calls
// for. After a long stall (a suspended laptop) it skips ahead rather than
// bursting seconds of audio at the server.
import { framesPerBatch, PcmBatcher } from "../protocol/codec";
import { SignalGenerator, type SignalConfig } from "./signals";

export type SourceWorkerIn =
  | { type: "start-signal"; sampleRate: number; config: SignalConfig }
  | { type: "signal-config"; config: Partial<SignalConfig> }
  | { type: "start-file"; sampleRate: number; channels: Float32Array[]; loop: boolean; offset?: number }
  | { type: "file-loop"; loop: boolean }
  | { type: "stop" };

export type SourceWorkerOut =
  | { type: "pcm"; buf: ArrayBuffer; frames: number }
  | { type: "file-position"; seconds: number; duration: number }
  | { type: "file-ended" };

const TICK_MS = 10;
const MAX_LAG_MS = 200;

interface Playing {
  rate: number;
  batch: number;
  t0: number;
  produced: number;
  render(frames: number): void;
}

let playing: Playing | null = null;
let timer: ReturnType<typeof setInterval> | null = null;
let generator: SignalGenerator | null = null;
let file: { ch: Float32Array[]; pos: number; loop: boolean } | null = null;
let lastPositionPost = 0;

const post = (m: SourceWorkerOut, transfer: Transferable[] = []) =>
  (self as unknown as Worker).postMessage(m, transfer);

function begin(rate: number, render: (b: PcmBatcher, frames: number) => void): void {
  const batch = framesPerBatch(rate);
  const batcher = new PcmBatcher(2, batch, (buf, frames) => post({ type: "pcm", buf, frames }, [buf]));
  playing = { rate, batch, t0: performance.now(), produced: 0, render: (n) => render(batcher, n) };
  if (timer === null) timer = setInterval(tick, TICK_MS);
}

function tick(): void {
  const p = playing;
  if (!p) return;
  const now = performance.now();
  let due = Math.floor(((now - p.t0) * p.rate) / 1000);
  if (due - p.produced > (MAX_LAG_MS * p.rate) / 1000) {
    p.produced = due - p.batch; // skip the stall, keep one batch
  }
  while (playing === p && due - p.produced >= p.batch) {
    p.render(p.batch);
    p.produced += p.batch;
    due = Math.floor(((performance.now() - p.t0) * p.rate) / 1000);
  }
  if (file && now - lastPositionPost > 250) {
    lastPositionPost = now;
    post({ type: "file-position", seconds: file.pos / p.rate, duration: file.ch[0].length / p.rate });
  }
}

function stop(): void {
  playing = null;
  generator = null;
  file = null;
  if (timer !== null) clearInterval(timer);
  timer = null;
}

self.onmessage = (ev: MessageEvent<SourceWorkerIn>) => {
  const m = ev.data;
  switch (m.type) {
    case "start-signal": {
      stop();
      const g = new SignalGenerator(m.sampleRate);
      g.set(m.config);
      generator = g;
      const l = new Float32Array(framesPerBatch(m.sampleRate));
      const r = new Float32Array(l.length);
      begin(m.sampleRate, (b, n) => {
        g.fill(l, r, n);
        b.push([l, r], n);
      });
      break;
    }
    case "signal-config":
      generator?.set(m.config);
      break;
    case "start-file": {
      stop();
      if (!m.channels.length || m.channels[0].length === 0) {
        post({ type: "file-ended" });
        break;
      }
      const f = { ch: m.channels, pos: Math.max(0, Math.floor(m.offset ?? 0)), loop: m.loop };
      file = f;
      const len = f.ch[0].length;
      begin(m.sampleRate, (b, n) => {
        let left = n;
        while (left > 0 && file === f) {
          const take = Math.min(left, len - f.pos);
          b.push(
            f.ch.map((c) => c.subarray(f.pos, f.pos + take)),
            take,
          );
          f.pos += take;
          left -= take;
          if (f.pos >= len) {
            if (f.loop) f.pos = 0;
            else {
              post({ type: "file-position", seconds: len / m.sampleRate, duration: len / m.sampleRate });
              post({ type: "file-ended" });
              stop();
            }
          }
        }
      });
      break;
    }
    case "file-loop":
      if (file) file.loop = m.loop;
      break;
    case "stop":
      stop();
      break;
  }
};
