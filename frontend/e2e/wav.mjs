// e2e/wav.mjs - writes the test tone the fake microphone plays, and reads back a recording's header.
import { writeFileSync } from "node:fs";

/** A 16-bit PCM WAV of a sine: `amplitude` is the peak (0..1). */
export function writeSineWav(path, { freq = 1000, amplitude = 0.5, seconds = 10, rate = 48000, channels = 2 } = {}) {
  const frames = Math.round(seconds * rate);
  const data = Buffer.alloc(frames * channels * 2);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * freq * i) / rate));
    for (let c = 0; c < channels; c++) data.writeInt16LE(v, (i * channels + c) * 2);
  }
  const h = Buffer.alloc(44);
  h.write("RIFF", 0, "ascii");
  h.writeUInt32LE(36 + data.length, 4);
  h.write("WAVE", 8, "ascii");
  h.write("fmt ", 12, "ascii");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write("data", 36, "ascii");
  h.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([h, data]));
}

/** Parses a RIFF/WAVE buffer: format, rate, channels, bits, data bytes and duration. Throws if it is not a valid PCM WAV. */
export function parseWav(buf) {
  if (buf.length < 44 || buf.toString("ascii", 0, 4) !== "RIFF" || buf.toString("ascii", 8, 12) !== "WAVE") {
    throw new Error("not a RIFF/WAVE file");
  }
  const riffSize = buf.readUInt32LE(4);
  let off = 12;
  let fmt = null;
  let data = null;
  while (off + 8 <= buf.length) {
    const id = buf.toString("ascii", off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === "fmt ") {
      fmt = {
        format: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        rate: buf.readUInt32LE(body + 4),
        bits: buf.readUInt16LE(body + 14),
      };
    } else if (id === "data") {
      data = { offset: body, size };
      break;
    }
    off = body + size + (size & 1);
  }
  if (!fmt) throw new Error("no fmt chunk");
  if (!data) throw new Error("no data chunk");
  if (data.offset + data.size > buf.length) throw new Error(`data chunk says ${data.size} bytes, file holds ${buf.length - data.offset}`);
  if (riffSize + 8 !== buf.length) throw new Error(`RIFF size ${riffSize + 8} != file size ${buf.length}`);
  const frameBytes = fmt.channels * (fmt.bits / 8);
  return { ...fmt, dataBytes: data.size, frames: data.size / frameBytes, seconds: data.size / frameBytes / fmt.rate, dataOffset: data.offset };
}
