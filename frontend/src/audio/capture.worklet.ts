// audio/capture.worklet.ts - the capture AudioWorkletProcessor: float quanta -> 20 ms int16 batches -> main thread.
//
// NOTES: runs on the audio rendering thread. Each 128-frame render quantum
// is converted and appended to a PcmBatcher; only a full ~20 ms batch is
// posted (its buffer transferred, not copied), so the socket sends 50
// messages a second instead of one per quantum. The node is created with
// channelCount 2 / "explicit" / "speakers", so a mono microphone arrives
// already up-mixed to both channels. No allocation per quantum.
import { framesPerBatch, PcmBatcher } from "../protocol/codec";

interface CaptureOptions {
  processorOptions?: { channels?: number; batchMs?: number };
}

class CaptureProcessor extends AudioWorkletProcessor {
  #batcher: PcmBatcher;
  #running = true;
  #frames = 0;

  constructor(options?: CaptureOptions) {
    super();
    const channels = options?.processorOptions?.channels === 1 ? 1 : 2;
    const n = framesPerBatch(sampleRate, options?.processorOptions?.batchMs ?? 20);
    this.#batcher = new PcmBatcher(channels, n, (buf, frames) => {
      this.#frames += frames;
      this.port.postMessage({ type: "pcm", buf, frames, time: currentTime }, [buf]);
    });
    this.port.onmessage = (ev: MessageEvent) => {
      if (ev.data?.type === "stop") this.#running = false;
      else if (ev.data?.type === "reset") this.#batcher.reset();
    };
  }

  process(inputs: Float32Array[][]): boolean {
    const input = inputs[0];
    if (input && input.length > 0) this.#batcher.push(input, input[0].length);
    return this.#running;
  }
}

registerProcessor("pyc-capture", CaptureProcessor);
