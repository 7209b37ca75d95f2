import { describe, expect, it } from "vitest";
import {
  decodePcm,
  encodePcm,
  floatToInt16,
  framesPerBatch,
  int16ToFloat,
  parseServerMessage,
  PcmBatcher,
} from "./codec";
import golden from "./fixtures/pcm_golden.json";

const bytes = (buf: ArrayBuffer) => Array.from(new Uint8Array(buf));

describe("float to int16", () => {
  it("maps zero, half and full scale", () => {
    expect(floatToInt16(0)).toBe(0);
    expect(floatToInt16(0.5)).toBe(16384);
    expect(floatToInt16(-0.5)).toBe(-16384);
    expect(floatToInt16(-1)).toBe(-32768);
  });

  it("rounds to the nearest step, ties away from zero, symmetrically", () => {
    expect(floatToInt16(1.4 / 32768)).toBe(1);
    expect(floatToInt16(1.6 / 32768)).toBe(2);
    expect(floatToInt16(0.5 / 32768)).toBe(1);
    expect(floatToInt16(-0.5 / 32768)).toBe(-1);
    expect(floatToInt16(2.5 / 32768)).toBe(3);
    expect(floatToInt16(-2.5 / 32768)).toBe(-3);
    expect(floatToInt16(0.49 / 32768)).toBe(0);
  });

  it("clips instead of wrapping", () => {
    expect(floatToInt16(1)).toBe(32767);
    expect(floatToInt16(1.5)).toBe(32767);
    expect(floatToInt16(-1.0001)).toBe(-32768);
    expect(floatToInt16(1e9)).toBe(32767);
    expect(floatToInt16(Infinity)).toBe(32767);
    expect(floatToInt16(-Infinity)).toBe(-32768);
  });

  it("turns NaN into silence", () => {
    expect(floatToInt16(NaN)).toBe(0);
  });

  it("round-trips every int16 value exactly", () => {
    for (let s = -32768; s <= 32767; s += 7) expect(floatToInt16(int16ToFloat(s))).toBe(s);
  });
});

describe("PCM buffers", () => {
  it("interleaves two channels as L,R,L,R little-endian", () => {
    const buf = encodePcm([new Float32Array([0.5, -0.5]), new Float32Array([1, -1])], 2);
    expect(bytes(buf)).toEqual([0x00, 0x40, 0xff, 0x7f, 0x00, 0xc0, 0x00, 0x80]);
  });

  it("repeats a mono source on both channels of a stereo stream", () => {
    const buf = encodePcm([new Float32Array([0.25])], 2);
    expect(Array.from(new Int16Array(buf))).toEqual([8192, 8192]);
  });

  it("matches the golden fixture shared with the backend tests", () => {
    const planar = golden.planar.map((ch: number[]) => Float32Array.from(ch));
    expect(bytes(encodePcm(planar, golden.channels))).toEqual(golden.bytes);
  });

  it("decodes interleaved int16 back to planar floats and drops a partial frame", () => {
    const buf = new Uint8Array([0x00, 0x40, 0x00, 0xc0, 0xff, 0x7f, 0x00, 0x80, 0x01]).buffer;
    const [l, r] = decodePcm(buf, 2);
    expect(Array.from(l)).toEqual([0.5, 32767 / 32768]);
    expect(Array.from(r)).toEqual([-0.5, -1]);
  });
});

describe("batching", () => {
  it("makes 20 ms batches: 960 frames at 48 kHz, 882 at 44.1 kHz", () => {
    expect(framesPerBatch(48000)).toBe(960);
    expect(framesPerBatch(44100)).toBe(882);
    expect(framesPerBatch(8000)).toBe(160);
  });

  it("collects 128-frame quanta into whole batches and keeps the remainder", () => {
    const out: Int16Array[] = [];
    const b = new PcmBatcher(2, 300, (buf, frames) => {
      expect(frames).toBe(300);
      out.push(new Int16Array(buf));
    });
    let n = 0;
    for (let q = 0; q < 5; q++) {
      const l = new Float32Array(128);
      const r = new Float32Array(128);
      for (let i = 0; i < 128; i++, n++) {
        l[i] = n / 32768;
        r[i] = -n / 32768;
      }
      b.push([l, r]);
    }
    expect(out.length).toBe(2); // 640 frames = 2 x 300 + 40
    expect(b.pending).toBe(40);
    const all = [...out[0], ...out[1]];
    for (let i = 0; i < 600; i++) {
      expect(all[2 * i]).toBe(i);
      expect(all[2 * i + 1]).toBe(-i || 0);
    }
  });

  it("hands out a fresh buffer for every batch so it can be transferred", () => {
    const bufs: ArrayBuffer[] = [];
    const b = new PcmBatcher(1, 4, (buf) => bufs.push(buf));
    b.push([new Float32Array(12)]);
    expect(bufs.length).toBe(3);
    expect(new Set(bufs).size).toBe(3);
    expect(bufs[0].byteLength).toBe(8);
  });

  it("drops the partial batch on reset", () => {
    const bufs: ArrayBuffer[] = [];
    const b = new PcmBatcher(1, 4, (buf) => bufs.push(buf));
    b.push([new Float32Array([0.1, 0.1, 0.1])]);
    b.reset();
    b.push([new Float32Array([0.5, 0.5, 0.5, 0.5])]);
    expect(Array.from(new Int16Array(bufs[0]))).toEqual([16384, 16384, 16384, 16384]);
  });

  it("rejects a channel count the protocol does not have", () => {
    expect(() => new PcmBatcher(3, 10, () => {})).toThrow(RangeError);
  });
});

describe("server message parsing", () => {
  it("accepts the earlier system's minimal meter", () => {
    const r = parseServerMessage('{"type":"meter","rms":-12.3,"spectrum":[0,0.5,1],"panning":0.1}');
    expect(r).toEqual({ ok: true, message: { type: "meter", rms: -12.3, spectrum: [0, 0.5, 1], panning: 0.1 } });
  });

  it("keeps the extension fields of a meter and ignores unknown ones", () => {
    const r = parseServerMessage(
      JSON.stringify({
        type: "meter", seq: 7, rms: -3, spectrum: [0.2], panning: 0, rms_db: [-3, -3.1], peak_db: [0, -0.2],
        peak_hold_db: [0, 0], clips: [1, 0], correlation: 0.98, spectrum_db: [-40, null], band_hz: [100, 200],
        waveform: [-0.5, 0.5], dropped: 2, future_field: "x",
      }),
    );
    expect(r.ok).toBe(true);
    if (!r.ok || r.message.type !== "meter") throw new Error("not a meter");
    expect(r.message.seq).toBe(7);
    expect(r.message.spectrum_db).toEqual([-40, -Infinity]);
    expect(r.message.clips).toEqual([1, 0]);
    expect(r.message.correlation).toBe(0.98);
    expect(r.message.dropped).toBe(2);
    expect("future_field" in r.message).toBe(false);
  });

  it("rejects a meter with a wrongly typed field, saying which", () => {
    expect(parseServerMessage('{"type":"meter","rms":"loud","spectrum":[],"panning":0}')).toEqual({
      ok: false,
      reason: "meter.rms is not a number",
    });
    const r = parseServerMessage('{"type":"meter","rms":-1,"spectrum":[],"panning":0,"waveform":[0,"a"]}');
    expect(r).toEqual({ ok: false, reason: "meter.waveform is not a number array" });
  });

  it("parses ready with its effective settings", () => {
    const r = parseServerMessage(
      '{"type":"ready","sample_rate":48000,"channels":2,"fft_size":4096,"bands":64,"band_hz":[25,50],"filter_order":4,"cutoff_freq":21600}',
    );
    expect(r).toEqual({
      ok: true,
      message: { type: "ready", sample_rate: 48000, channels: 2, fft_size: 4096, bands: 64, band_hz: [25, 50], filter_order: 4, cutoff_freq: 21600 },
    });
  });

  it("parses recording_saved and error messages", () => {
    expect(parseServerMessage('{"type":"recording_saved","id":3,"filename":"rec_a.wav","duration_seconds":3.02}')).toEqual({
      ok: true,
      message: { type: "recording_saved", id: 3, filename: "rec_a.wav", duration_seconds: 3.02 },
    });
    expect(parseServerMessage('{"type":"error","code":"out_of_range","message":"gain must be 0..60"}')).toEqual({
      ok: true,
      message: { type: "error", code: "out_of_range", message: "gain must be 0..60" },
    });
  });

  it("rejects what is not a known JSON object", () => {
    expect(parseServerMessage("{nope").ok).toBe(false);
    expect(parseServerMessage("[1,2]").ok).toBe(false);
    expect(parseServerMessage("null").ok).toBe(false);
    expect(parseServerMessage('{"type":"party"}')).toEqual({ ok: false, reason: 'unknown type "party"' });
    expect(parseServerMessage('{"type":"recording_saved"}').ok).toBe(false);
  });
});
