// protocol/codec.ts - pure encoders and decoders of the wire formats: PCM and JSON.
//
// NOTES: the same functions run on the main thread, in the capture
// AudioWorklet and in the signal worker, so nothing here touches the DOM or
// React. PCM is interleaved little-endian int16. Float samples map to int16
// by x * 32768, rounded to nearest with ties away from zero, then clipped to
// -32768..32767: the exact inverse of the usual int16 / 32768 decoding, and a
// full-scale +1.0 clips to 32767 instead of wrapping. NaN becomes 0.
import type {
  ClientMessage,
  ErrorMessage,
  MeterMessage,
  ParseResult,
  ReadyMessage,
  RecordingSavedMessage,
} from "./types";

export const INT16_SCALE = 32768;
export const BATCH_MS = 20;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One float sample (nominally -1..1) to an int16 value, rounded and clipped. */
export function floatToInt16(x: number): number {
  if (!(x === x)) return 0; // NaN
  const v = x * INT16_SCALE;
  const r = v < 0 ? -Math.round(-v) : Math.round(v);
  if (r > 32767) return 32767;
  if (r === 0) return 0; // no -0
  if (r < -32768) return -32768;
  return r;
}

/** One int16 value to a float sample. */
export function int16ToFloat(s: number): number {
  return s / INT16_SCALE;
}

/** Frames in one batch of `ms` milliseconds at `sampleRate` (at least 1). */
export function framesPerBatch(sampleRate: number, ms: number = BATCH_MS): number {
  return Math.max(1, Math.round((sampleRate * ms) / 1000));
}

/**
 * Writes `frames` frames of the planar float channels into `out` interleaved,
 * starting at frame `outFrame` of `out`. A missing second channel repeats the
 * first (mono played as dual-mono).
 */
export function interleaveInto(
  planar: ArrayLike<number>[],
  srcFrame: number,
  frames: number,
  out: Int16Array,
  outFrame: number,
  channels: number,
): void {
  for (let c = 0; c < channels; c++) {
    const src = planar[Math.min(c, planar.length - 1)];
    let o = outFrame * channels + c;
    for (let i = 0; i < frames; i++, o += channels) {
      out[o] = src ? floatToInt16(src[srcFrame + i]) : 0;
    }
  }
}

/** Planar float channels to one interleaved int16 little-endian buffer. */
export function encodePcm(planar: ArrayLike<number>[], channels: number): ArrayBuffer {
  const frames = planar.length ? planar[0].length : 0;
  const out = new Int16Array(frames * channels);
  interleaveInto(planar, 0, frames, out, 0, channels);
  return toLittleEndian(out).buffer as ArrayBuffer;
}

/** Interleaved int16 little-endian bytes to planar float channels; a trailing partial frame is dropped. */
export function decodePcm(buf: ArrayBuffer, channels: number): Float32Array[] {
  const view = new DataView(buf);
  const frames = Math.floor(buf.byteLength / (2 * channels));
  const out: Float32Array[] = [];
  for (let c = 0; c < channels; c++) out.push(new Float32Array(frames));
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      out[c][i] = view.getInt16((i * channels + c) * 2, true) / INT16_SCALE;
    }
  }
  return out;
}

function toLittleEndian(a: Int16Array): Int16Array {
  if (LITTLE_ENDIAN) return a;
  const v = new DataView(a.buffer, a.byteOffset, a.byteLength);
  for (let i = 0; i < a.length; i++) v.setInt16(i * 2, a[i], true);
  return a;
}

/**
 * Collects audio arriving in small blocks (the 128-frame render quantum of
 * an AudioWorklet) into batches of a fixed number of frames, and hands each
 * full batch to `emit` as interleaved int16 little-endian bytes. Each batch
 * is a fresh buffer, so it can be transferred to another thread.
 */
export class PcmBatcher {
  readonly channels: number;
  readonly framesPerBatch: number;
  #buf: Int16Array;
  #fill = 0;
  #emit: (batch: ArrayBuffer, frames: number) => void;

  constructor(
    channels: number,
    framesPerBatchN: number,
    emit: (batch: ArrayBuffer, frames: number) => void,
  ) {
    if (channels !== 1 && channels !== 2) throw new RangeError("channels must be 1 or 2");
    if (!(framesPerBatchN >= 1)) throw new RangeError("framesPerBatch must be >= 1");
    this.channels = channels;
    this.framesPerBatch = Math.floor(framesPerBatchN);
    this.#buf = new Int16Array(this.framesPerBatch * channels);
    this.#emit = emit;
  }

  /** Frames waiting for the next batch. */
  get pending(): number {
    return this.#fill;
  }

  /** Adds planar channels holding `frames` frames (default: the first channel's length). */
  push(planar: ArrayLike<number>[], frames: number = planar.length ? planar[0].length : 0): void {
    let src = 0;
    while (src < frames) {
      const n = Math.min(frames - src, this.framesPerBatch - this.#fill);
      interleaveInto(planar, src, n, this.#buf, this.#fill, this.channels);
      this.#fill += n;
      src += n;
      if (this.#fill === this.framesPerBatch) {
        const full = toLittleEndian(this.#buf);
        this.#buf = new Int16Array(this.framesPerBatch * this.channels);
        this.#fill = 0;
        this.#emit(full.buffer as ArrayBuffer, this.framesPerBatch);
      }
    }
  }

  /** Drops the partial batch (after a pause, so stale audio is not sent late). */
  reset(): void {
    this.#fill = 0;
  }
}

export function encodeClientMessage(msg: ClientMessage): string {
  return JSON.stringify(msg);
}

// ---- parsing ---------------------------------------------------------------

type Obj = Record<string, unknown>;

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isNumArray = (v: unknown): v is number[] => Array.isArray(v) && v.every(isNum);

function fail(reason: string): ParseResult {
  return { ok: false, reason };
}

// A meter level may legitimately be -Infinity (digital silence); JSON cannot
// carry it, so a server sends a large negative number or null. null becomes -Infinity.
function levelArray(v: unknown): number[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: number[] = [];
  for (const x of v) {
    if (x === null) out.push(-Infinity);
    else if (isNum(x)) out.push(x);
    else return undefined;
  }
  return out;
}

function parseMeter(o: Obj): ParseResult {
  const rms = o.rms === null ? -Infinity : o.rms;
  if (!(isNum(rms) || rms === -Infinity)) return fail("meter.rms is not a number");
  if (!isNumArray(o.spectrum)) return fail("meter.spectrum is not a number array");
  if (!isNum(o.panning)) return fail("meter.panning is not a number");
  const m: MeterMessage = {
    type: "meter",
    rms: rms as number,
    spectrum: o.spectrum,
    panning: o.panning,
  };
  if (o.seq !== undefined) {
    if (!isNum(o.seq) || o.seq < 0) return fail("meter.seq is not a count");
    m.seq = o.seq;
  }
  for (const k of ["rms_db", "peak_db", "peak_hold_db", "spectrum_db"] as const) {
    if (o[k] === undefined) continue;
    const a = levelArray(o[k]);
    if (!a) return fail(`meter.${k} is not a number array`);
    m[k] = a;
  }
  for (const k of ["clips", "band_hz", "waveform"] as const) {
    if (o[k] === undefined) continue;
    if (!isNumArray(o[k])) return fail(`meter.${k} is not a number array`);
    m[k] = o[k] as number[];
  }
  if (o.correlation !== undefined && o.correlation !== null) {
    if (!isNum(o.correlation)) return fail("meter.correlation is not a number");
    m.correlation = o.correlation;
  }
  if (o.dropped !== undefined) {
    if (!isNum(o.dropped) || o.dropped < 0) return fail("meter.dropped is not a count");
    m.dropped = o.dropped;
  }
  return { ok: true, message: m };
}

function parseReady(o: Obj): ParseResult {
  if (!isNum(o.sample_rate) || o.sample_rate <= 0) return fail("ready.sample_rate is not a rate");
  if (!isNum(o.channels) || o.channels < 1) return fail("ready.channels is not a count");
  const r: ReadyMessage = { type: "ready", sample_rate: o.sample_rate, channels: o.channels };
  for (const k of ["fft_size", "bands", "filter_order", "cutoff_freq"] as const) {
    if (o[k] === undefined) continue;
    if (!isNum(o[k])) return fail(`ready.${k} is not a number`);
    r[k] = o[k] as number;
  }
  if (o.band_hz !== undefined) {
    if (!isNumArray(o.band_hz)) return fail("ready.band_hz is not a number array");
    r.band_hz = o.band_hz;
  }
  return { ok: true, message: r };
}

function parseSaved(o: Obj): ParseResult {
  if (typeof o.filename !== "string" || o.filename === "") return fail("recording_saved.filename is missing");
  const duration = isNum(o.duration_seconds) ? o.duration_seconds : 0;
  const m: RecordingSavedMessage = {
    type: "recording_saved",
    id: isNum(o.id) ? o.id : 0,
    filename: o.filename,
    duration_seconds: duration,
  };
  return { ok: true, message: m };
}

function parseError(o: Obj): ParseResult {
  const m: ErrorMessage = {
    type: "error",
    code: typeof o.code === "string" && o.code ? o.code : "unknown",
    message: typeof o.message === "string" ? o.message : typeof o.detail === "string" ? o.detail : "",
  };
  return { ok: true, message: m };
}

/** Parses and validates one text frame from the server. Never throws. */
export function parseServerMessage(text: string): ParseResult {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return fail("not JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return fail("not a JSON object");
  const o = v as Obj;
  switch (o.type) {
    case "meter":
      return parseMeter(o);
    case "ready":
      return parseReady(o);
    case "recording_saved":
      return parseSaved(o);
    case "error":
      return parseError(o);
    default:
      return fail(typeof o.type === "string" ? `unknown type "${o.type}"` : "no type");
  }
}
