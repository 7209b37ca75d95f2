// audio/worklet-env.d.ts - the AudioWorkletGlobalScope names the DOM typings leave out.
declare abstract class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
  abstract process(inputs: Float32Array[][], outputs: Float32Array[][], parameters: Record<string, Float32Array>): boolean;
}
declare function registerProcessor(name: string, ctor: new (options?: any) => AudioWorkletProcessor): void;
declare const sampleRate: number;
declare const currentTime: number;
