import { describe, expect, it } from "vitest";
import { OFFLINE_AFTER, SessionSocket, type SocketLike, type SocketStatus } from "./sessionSocket";
import type { ServerMessage } from "../protocol/types";

class FakeSocket implements SocketLike {
  binaryType = "blob";
  readyState = 0;
  bufferedAmount = 0;
  onopen: SocketLike["onopen"] = null;
  onclose: SocketLike["onclose"] = null;
  onerror: SocketLike["onerror"] = null;
  onmessage: SocketLike["onmessage"] = null;
  sent: (string | ArrayBuffer)[] = [];
  closedWith: number | undefined;
  constructor(public url: string) {}
  send(d: string | ArrayBuffer) {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(d);
  }
  close(code?: number) {
    this.closedWith = code;
    this.readyState = 3;
  }
  // server side
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop(code = 1006, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  receive(data: unknown) {
    this.onmessage?.({ data });
  }
  json() {
    return this.sent.filter((s): s is string => typeof s === "string").map((s) => JSON.parse(s));
  }
}

function harness(params: Record<string, unknown> = { gain: 6, filter_enabled: true, cutoff_freq: 1500 }) {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const statuses: SocketStatus[] = [];
  const messages: ServerMessage[] = [];
  const binaries: ArrayBuffer[] = [];
  const p = { ...params };
  const s = new SessionSocket({
    url: "ws://h:8000/ws/audio?session_id=S1",
    init: () => ({ action: "init", sample_rate: 48000, channels: 2, waveform_points: 512 }),
    params: () => p,
    onStatus: (st) => statuses.push(st),
    onMessage: (m) => messages.push(m),
    onBinary: (b) => binaries.push(b),
    createSocket: (url) => {
      const f = new FakeSocket(url);
      sockets.push(f);
      return f;
    },
    random: () => 0,
    setTimer: (fn, ms) => {
      timers.push({ fn, ms });
      return timers.length;
    },
    clearTimer: () => {},
    now: () => 1000,
  });
  const fireTimer = () => {
    const t = timers.shift();
    if (!t) throw new Error("no timer pending");
    t.fn();
    return t.ms;
  };
  return { s, sockets, timers, statuses, messages, binaries, fireTimer, p };
}

describe("session socket", () => {
  it("connects to the session URL, asks for array buffers and sends init then the parameters", () => {
    const h = harness();
    h.s.start();
    expect(h.s.status.state).toBe("connecting");
    const ws = h.sockets[0];
    expect(ws.url).toBe("ws://h:8000/ws/audio?session_id=S1");
    expect(ws.binaryType).toBe("arraybuffer");
    ws.open();
    expect(h.s.status.state).toBe("live");
    expect(ws.json()).toEqual([
      { action: "init", sample_rate: 48000, channels: 2, waveform_points: 512 },
      { action: "set_params", gain: 6, filter_enabled: true, cutoff_freq: 1500 },
    ]);
  });

  it("reconnects with back-off after a drop and resumes the session with the current parameters", () => {
    const h = harness();
    h.s.start();
    h.sockets[0].open();
    h.p.gain = 12; // changed while live
    h.sockets[0].drop(1006);
    expect(h.s.status.state).toBe("reconnecting");
    expect(h.s.status.attempt).toBe(1);
    expect(h.fireTimer()).toBe(500);
    expect(h.sockets.length).toBe(2);
    expect(h.sockets[1].url).toBe(h.sockets[0].url); // same session id
    h.sockets[1].drop(1006); // still down
    expect(h.fireTimer()).toBe(1000);
    h.sockets[2].open();
    expect(h.s.status.state).toBe("live");
    expect(h.s.status.attempt).toBe(0);
    expect(h.sockets[2].json()).toEqual([
      { action: "init", sample_rate: 48000, channels: 2, waveform_points: 512 },
      { action: "set_params", gain: 12, filter_enabled: true, cutoff_freq: 1500 },
    ]);
  });

  it("reads offline after repeated failures but keeps retrying", () => {
    const h = harness();
    h.s.start();
    for (let i = 0; i < OFFLINE_AFTER; i++) {
      h.sockets[i].drop(1006);
      if (i < OFFLINE_AFTER - 1) expect(h.s.status.state).toBe("connecting");
      h.fireTimer();
    }
    expect(h.s.status.state).toBe("offline");
    expect(h.s.status.final).toBe(false);
    expect(h.sockets.length).toBe(OFFLINE_AFTER + 1);
    h.sockets[OFFLINE_AFTER].open();
    expect(h.s.status.state).toBe("live");
  });

  it("does not reconnect when another connection took the session over (4001), and says so", () => {
    const h = harness();
    h.s.start();
    h.sockets[0].open();
    h.sockets[0].drop(4001, "taken over");
    expect(h.s.status.state).toBe("offline");
    expect(h.s.status.final).toBe(true);
    expect(h.s.status.reason).toMatch(/another tab/);
    expect(h.timers.length).toBe(0);
    h.s.reconnectNow(); // the user takes it back explicitly
    expect(h.sockets.length).toBe(2);
  });

  it("stops for good on a rejected session id (4000)", () => {
    const h = harness();
    h.s.start();
    h.sockets[0].drop(4000);
    expect(h.s.status.final).toBe(true);
    expect(h.timers.length).toBe(0);
  });

  it("passes parsed messages and binary frames to the callbacks and skips invalid text", () => {
    const errors: string[] = [];
    const h = harness();
    h.s.start();
    h.sockets[0].open();
    h.sockets[0].receive('{"type":"meter","rms":-6,"spectrum":[],"panning":0}');
    h.sockets[0].receive("garbage");
    const pcm = new ArrayBuffer(8);
    h.sockets[0].receive(pcm);
    expect(h.messages).toEqual([{ type: "meter", rms: -6, spectrum: [], panning: 0 }]);
    expect(h.binaries).toEqual([pcm]);
    expect(errors).toEqual([]);
  });

  it("drops audio while the link is down or backed up, and counts what a live stream lost", () => {
    const h = harness();
    h.s.start();
    expect(h.s.sendBinary(new ArrayBuffer(4))).toBe(false); // never connected yet: nothing lost
    expect(h.s.droppedFrames).toBe(0);
    h.sockets[0].open();
    expect(h.s.sendBinary(new ArrayBuffer(4))).toBe(true);
    h.sockets[0].bufferedAmount = 10_000_000;
    expect(h.s.sendBinary(new ArrayBuffer(4))).toBe(false);
    h.sockets[0].drop(1006);
    expect(h.s.sendBinary(new ArrayBuffer(4))).toBe(false);
    expect(h.s.droppedFrames).toBe(2);
    expect(h.s.sentFrames).toBe(1);
  });

  it("closes cleanly on stop and never reconnects afterwards", () => {
    const h = harness();
    h.s.start();
    h.sockets[0].open();
    h.s.stop();
    expect(h.sockets[0].closedWith).toBe(1000);
    expect(h.s.status.state).toBe("offline");
    expect(h.timers.length).toBe(0);
    expect(h.s.send({ action: "stop_record" })).toBe(false);
  });

  it("ignores events from a socket it already replaced", () => {
    const h = harness();
    h.s.start();
    const old = h.sockets[0];
    old.drop(1006);
    h.fireTimer();
    h.sockets[1].open();
    old.receive('{"type":"meter","rms":-6,"spectrum":[],"panning":0}');
    old.drop(1006);
    expect(h.messages).toEqual([]);
    expect(h.s.status.state).toBe("live");
  });
});
