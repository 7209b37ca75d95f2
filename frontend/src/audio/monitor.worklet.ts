// audio/monitor.worklet.ts - plays the processed audio the server returns, through a small jitter buffer.
//
// NOTES: PCM arrives from the socket in ~20 ms batches with network jitter;
// the processor keeps a ring of up to 1 s per channel, starts playing once
// `prebufferMs` is queued, and on an underrun outputs silence and waits for
// the prebuffer again, so the user hears clean gaps rather than clicks of
// stale audio. If the queue grows past `maxQueueMs` (the server's clock
// runs faster than ours) the oldest audio is skipped to keep latency low.
import { INT16_SCALE } from "../protocol/codec";

interface MonitorOptions {
  processorOptions?: { channels?: number; prebufferMs?: number; maxQueueMs?: number };
}

class MonitorProcessor extends AudioWorkletProcessor {
  #channels: number;
  #ring: Float32Array[];
  #size: number;
  #read = 0;
  #write = 0;
  #queued = 0;
  #playing = false;
  #prebuffer: number;
  #maxQueue: number;
  #underruns = 0;

  constructor(options?: MonitorOptions) {
    super();
    const o = options?.processorOptions ?? {};
    this.#channels = o.channels === 1 ? 1 : 2;
    this.#size = Math.ceil(sampleRate);
    this.#ring = Array.from({ length: this.#channels }, () => new Float32Array(this.#size));
    this.#prebuffer = Math.round(((o.prebufferMs ?? 60) * sampleRate) / 1000);
    this.#maxQueue = Math.min(this.#size - 256, Math.round(((o.maxQueueMs ?? 250) * sampleRate) / 1000));
    this.port.onmessage = (ev: MessageEvent) => {
      const d = ev.data;
      if (d?.type === "pcm" && d.buf instanceof ArrayBuffer) this.#push(d.buf);
      else if (d?.type === "flush") this.#queued = this.#read = this.#write = 0;
    };
  }

  #push(buf: ArrayBuffer): void {
    const view = new DataView(buf);
    const ch = this.#channels;
    const frames = Math.floor(buf.byteLength / (2 * ch));
    for (let i = 0; i < frames; i++) {
      for (let c = 0; c < ch; c++) this.#ring[c][this.#write] = view.getInt16((i * ch + c) * 2, true) / INT16_SCALE;
      this.#write = (this.#write + 1) % this.#size;
    }
    this.#queued += frames;
    if (this.#queued > this.#maxQueue) {
      const skip = this.#queued - this.#prebuffer;
      this.#read = (this.#read + skip) % this.#size;
      this.#queued -= skip;
    }
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const out = outputs[0];
    const n = out[0]?.length ?? 128;
    if (!this.#playing && this.#queued >= this.#prebuffer) this.#playing = true;
    if (!this.#playing || this.#queued < n) {
      if (this.#playing) {
        this.#playing = false;
        this.#underruns++;
        this.port.postMessage({ type: "underrun", count: this.#underruns });
      }
      for (const o of out) o.fill(0);
      return true;
    }
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < out.length; c++) out[c][i] = this.#ring[Math.min(c, this.#channels - 1)][this.#read];
      this.#read = (this.#read + 1) % this.#size;
    }
    this.#queued -= n;
    return true;
  }
}

registerProcessor("pyc-monitor", MonitorProcessor);
