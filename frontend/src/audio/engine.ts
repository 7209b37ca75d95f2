// audio/engine.ts - the audio side of the dashboard: sources in, PCM batches out, monitor playback.
//
// NOTES: every source ends as 20 ms interleaved int16 stereo batches at the
// AudioContext's rate, so the session's `init` never changes when the user
// switches source. The microphone goes through the capture AudioWorklet
// (needs a running AudioContext, which the click that picked it provides).
// The test signal and a decoded file come from a worker against the wall
// clock, so the test signal streams on a fresh page before any click (an
// AudioContext would stay suspended until a user gesture). The monitor is
// a second worklet fed with the PCM the server returns.
import captureWorkletUrl from "./capture.worklet.ts?worker&url";
import monitorWorkletUrl from "./monitor.worklet.ts?worker&url";
import type { SignalConfig } from "./signals";
import type { SourceWorkerIn, SourceWorkerOut } from "./source.worker";

export type SourceKind = "signal" | "mic" | "file";
export const STREAM_CHANNELS = 2 as const;
const FALLBACK_RATE = 48000;
const MAX_FILE_BYTES = 300 * 1024 * 1024;

export interface EngineEvents {
  onPcm(buf: ArrayBuffer, frames: number): void;
  onFilePosition?(seconds: number, duration: number): void;
  onFileEnded?(): void;
  onSourceLost?(message: string): void;
}

export interface MicInfo {
  label: string;
  channels: number;
}

/** A user-readable explanation of a getUserMedia failure. */
export function micErrorMessage(e: unknown): string {
  const name = (e as { name?: string })?.name ?? "";
  switch (name) {
    case "NotAllowedError":
    case "PermissionDeniedError":
      return "Microphone access was denied. Allow it in the browser's site settings, or use the test signal or a file.";
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
      return "No microphone was found on this device. Use the test signal or a file instead.";
    case "NotReadableError":
    case "TrackStartError":
      return "The microphone is busy or unavailable (another application may be using it).";
    case "SecurityError":
    case "NotSupportedError":
      return "The microphone needs a secure page (https, or localhost).";
    default:
      return `Could not open the microphone${(e as Error)?.message ? `: ${(e as Error).message}` : "."}`;
  }
}

export class AudioEngine {
  readonly sampleRate: number;
  #ctx: AudioContext | null;
  #events: EngineEvents;
  #worker: Worker;
  #workletsLoaded: Promise<void> | null = null;
  #mic: { stream: MediaStream; src: MediaStreamAudioSourceNode; node: AudioWorkletNode; sink: GainNode } | null = null;
  #monitor: { node: AudioWorkletNode } | null = null;
  #kind: SourceKind | null = null;
  #fileChannels: Float32Array[] | null = null;
  #fileLoop = false;

  constructor(events: EngineEvents) {
    this.#events = events;
    let ctx: AudioContext | null = null;
    try {
      ctx = new AudioContext({ latencyHint: "interactive" });
    } catch {
      ctx = null; // no audio output at all: the worker sources still stream
    }
    this.#ctx = ctx;
    this.sampleRate = ctx?.sampleRate ?? FALLBACK_RATE;
    this.#worker = new Worker(new URL("./source.worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (ev: MessageEvent<SourceWorkerOut>) => {
      const m = ev.data;
      if (m.type === "pcm") this.#events.onPcm(m.buf, m.frames);
      else if (m.type === "file-position") this.#events.onFilePosition?.(m.seconds, m.duration);
      else if (m.type === "file-ended") {
        this.#kind = null;
        this.#events.onFileEnded?.();
      }
    };
  }

  get kind(): SourceKind | null {
    return this.#kind;
  }

  get contextState(): AudioContextState | "unavailable" {
    return this.#ctx?.state ?? "unavailable";
  }

  #post(m: SourceWorkerIn, transfer: Transferable[] = []): void {
    this.#worker.postMessage(m, transfer);
  }

  async #running(): Promise<AudioContext> {
    const ctx = this.#ctx;
    if (!ctx) throw new Error("Web Audio is not available in this browser.");
    if (ctx.state !== "running") await ctx.resume();
    if (!this.#workletsLoaded) {
      this.#workletsLoaded = Promise.all([
        ctx.audioWorklet.addModule(captureWorkletUrl),
        ctx.audioWorklet.addModule(monitorWorkletUrl),
      ]).then(() => undefined);
      this.#workletsLoaded.catch(() => (this.#workletsLoaded = null));
    }
    await this.#workletsLoaded;
    return ctx;
  }

  /** Stops whatever source is streaming. */
  stop(): void {
    this.#post({ type: "stop" });
    this.#stopMic();
    this.#kind = null;
  }

  startSignal(config: SignalConfig): void {
    this.#stopMic();
    this.#post({ type: "start-signal", sampleRate: this.sampleRate, config });
    this.#kind = "signal";
  }

  updateSignal(config: Partial<SignalConfig>): void {
    this.#post({ type: "signal-config", config });
  }

  /** Decodes a file at the stream's rate; the channels are kept so it can be restarted. */
  async loadFile(file: File): Promise<{ duration: number; channels: number }> {
    if (file.size > MAX_FILE_BYTES) throw new Error(`The file is too large (${Math.round(file.size / 1048576)} MB; at most 300 MB).`);
    const bytes = await file.arrayBuffer();
    const ctx = this.#ctx ?? new OfflineAudioContext(STREAM_CHANNELS, 1, this.sampleRate);
    let audio: AudioBuffer;
    try {
      audio = await ctx.decodeAudioData(bytes);
    } catch {
      throw new Error(`"${file.name}" could not be decoded: it is not an audio format this browser reads.`);
    }
    const n = Math.min(STREAM_CHANNELS, audio.numberOfChannels);
    this.#fileChannels = Array.from({ length: n }, (_, c) => audio.getChannelData(c).slice());
    return { duration: audio.duration, channels: audio.numberOfChannels };
  }

  get hasFile(): boolean {
    return this.#fileChannels !== null;
  }

  startFile(loop: boolean, offsetSeconds = 0): void {
    if (!this.#fileChannels) throw new Error("No file is loaded.");
    this.#stopMic();
    this.#fileLoop = loop;
    // the worker gets copies: the originals stay here for the next start
    const copies = this.#fileChannels.map((c) => c.slice());
    this.#post(
      { type: "start-file", sampleRate: this.sampleRate, channels: copies, loop, offset: offsetSeconds * this.sampleRate },
      copies.map((c) => c.buffer),
    );
    this.#kind = "file";
  }

  setFileLoop(loop: boolean): void {
    this.#fileLoop = loop;
    this.#post({ type: "file-loop", loop });
  }

  get fileLoop(): boolean {
    return this.#fileLoop;
  }

  /** Opens the microphone (raw: no echo cancellation, noise suppression or auto gain; stereo if it has it). */
  async startMic(): Promise<MicInfo> {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new Error(micErrorMessage({ name: "SecurityError" }));
    }
    const ctx = await this.#running();
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: {
          echoCancellation: false,
          noiseSuppression: false,
          autoGainControl: false,
          channelCount: { ideal: 2 },
          sampleRate: { ideal: ctx.sampleRate },
        },
        video: false,
      });
    } catch (e) {
      throw new Error(micErrorMessage(e));
    }
    this.#post({ type: "stop" });
    this.#stopMic();
    const track = stream.getAudioTracks()[0];
    const settings = track?.getSettings?.() ?? {};
    const src = ctx.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(ctx, "pyc-capture", {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      channelCount: STREAM_CHANNELS,
      channelCountMode: "explicit",
      channelInterpretation: "speakers",
      processorOptions: { channels: STREAM_CHANNELS },
    });
    node.port.onmessage = (ev: MessageEvent) => {
      if (ev.data?.type === "pcm") this.#events.onPcm(ev.data.buf, ev.data.frames);
    };
    // a silent path to the destination keeps the graph pulling the worklet
    const sink = ctx.createGain();
    sink.gain.value = 0;
    src.connect(node);
    node.connect(sink).connect(ctx.destination);
    track?.addEventListener("ended", () => {
      if (this.#mic?.stream === stream) {
        this.#stopMic();
        this.#kind = null;
        this.#events.onSourceLost?.("The microphone was disconnected.");
      }
    });
    this.#mic = { stream, src, node, sink };
    this.#kind = "mic";
    return { label: track?.label || "Microphone", channels: settings.channelCount ?? 1 };
  }

  #stopMic(): void {
    const m = this.#mic;
    if (!m) return;
    this.#mic = null;
    m.node.port.postMessage({ type: "stop" });
    m.src.disconnect();
    m.node.disconnect();
    m.sink.disconnect();
    for (const t of m.stream.getTracks()) t.stop();
  }

  /** Turns monitor playback on or off. On needs a running AudioContext (call from a click). */
  async setMonitor(on: boolean): Promise<void> {
    if (!on) {
      const m = this.#monitor;
      this.#monitor = null;
      m?.node.disconnect();
      return;
    }
    if (this.#monitor) return;
    const ctx = await this.#running();
    const node = new AudioWorkletNode(ctx, "pyc-monitor", {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [STREAM_CHANNELS],
      processorOptions: { channels: STREAM_CHANNELS, prebufferMs: 60, maxQueueMs: 250 },
    });
    node.connect(ctx.destination);
    this.#monitor = { node };
  }

  get monitoring(): boolean {
    return this.#monitor !== null;
  }

  /** Queues processed PCM from the server for playback (transferred). */
  playMonitor(buf: ArrayBuffer): void {
    this.#monitor?.node.port.postMessage({ type: "pcm", buf }, [buf]);
  }

  dispose(): void {
    this.stop();
    void this.setMonitor(false);
    this.#worker.terminate();
    void this.#ctx?.close().catch(() => {});
  }
}
