// net/sessionSocket.ts - one session's WebSocket: connect, init, parameters, reconnect, resume, teardown.
//
// NOTES: a plain class so the reconnect logic is tested with a fake
// WebSocket and fake timers; hooks/useSessionSocket.ts wraps it for React.
// On every open it sends `init` and then the full current parameters, so a
// reconnect with the same session id resumes the session as it was (the
// gateway keeps the worker through a grace period). After a drop it retries
// with back-off until stopped; after OFFLINE_AFTER failed attempts in a row
// the state reads "offline" but retries go on at the capped delay. A close
// with 4001 (another connection took the session over) or 4000 (bad id) is
// final: retrying would only fight the other tab.
// Text frames are parsed here; meters and binary frames go to callbacks, not
// to React state, so a 50 Hz meter stream never re-renders the page.
import { encodeClientMessage, parseServerMessage } from "../protocol/codec";
import type { ClientMessage, InitMessage, ServerMessage, StreamParams } from "../protocol/types";
import { CLOSE_BAD_SESSION, CLOSE_TAKEN_OVER } from "../protocol/types";
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff";

export type ConnectionState = "connecting" | "live" | "reconnecting" | "offline";

export interface SocketStatus {
  state: ConnectionState;
  attempt: number; // failed attempts in a row
  retryAt: number | null; // Date.now() of the next attempt
  reason: string; // why the last connection ended, for the user
  final: boolean; // no more automatic attempts
  connectedAt: number | null;
}

/** The subset of the DOM WebSocket this class uses. */
export interface SocketLike {
  binaryType: string;
  readyState: number;
  bufferedAmount: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string) => SocketLike;

export interface SessionSocketOptions {
  url: string;
  init: () => InitMessage; // built at each open, so it carries the current rate/channels
  params: () => Partial<StreamParams>; // the full current parameters, re-sent at each open
  onMessage?: (msg: ServerMessage) => void;
  onBinary?: (buf: ArrayBuffer) => void;
  onStatus?: (s: SocketStatus) => void;
  onProtocolError?: (reason: string) => void;
  createSocket?: SocketFactory;
  backoff?: BackoffOptions;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (h: unknown) => void;
  now?: () => number;
  /** Drop binary frames while this many bytes wait to be sent (a stalled link). */
  maxBufferedBytes?: number;
}

const OPEN = 1;
export const OFFLINE_AFTER = 4;

export class SessionSocket {
  #o: Required<Omit<SessionSocketOptions, "onMessage" | "onBinary" | "onStatus" | "onProtocolError">> &
    SessionSocketOptions;
  #ws: SocketLike | null = null;
  #timer: unknown = null;
  #stopped = true;
  #everLive = false;
  #status: SocketStatus = { state: "offline", attempt: 0, retryAt: null, reason: "", final: false, connectedAt: null };
  /** Binary frames not sent because the socket was not open or was backed up. */
  droppedFrames = 0;
  sentFrames = 0;

  constructor(opts: SessionSocketOptions) {
    this.#o = {
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      backoff: DEFAULT_BACKOFF,
      random: Math.random,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      now: () => Date.now(),
      maxBufferedBytes: 256 * 1024,
      ...opts,
    };
  }

  get status(): SocketStatus {
    return this.#status;
  }

  get isOpen(): boolean {
    return this.#ws !== null && this.#ws.readyState === OPEN;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#status = { ...this.#status, attempt: 0, final: false, reason: "" };
    this.#open();
  }

  /** Closes for good (unmount). */
  stop(): void {
    this.#stopped = true;
    this.#clearTimer();
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
      try {
        ws.close(1000, "client closed");
      } catch {
        /* already closed */
      }
    }
    this.#set({ state: "offline", retryAt: null, final: true, reason: "closed", connectedAt: null });
  }

  /** Skips the back-off wait (the user pressed "retry"), or restarts after a final close. */
  reconnectNow(): void {
    this.#clearTimer();
    if (this.#ws) return;
    this.#stopped = false;
    this.#set({ final: false });
    this.#open();
  }

  /** Sends a JSON command; false if the socket is not open (parameters are re-sent at the next open anyway). */
  send(msg: ClientMessage): boolean {
    if (!this.isOpen) return false;
    this.#ws!.send(encodeClientMessage(msg));
    return true;
  }

  /** Sends one PCM batch; false (and counted as dropped) when not open or backed up. */
  sendBinary(buf: ArrayBuffer): boolean {
    const ws = this.#ws;
    if (!ws || ws.readyState !== OPEN || this.#status.state !== "live" || ws.bufferedAmount > this.#o.maxBufferedBytes) {
      if (this.#everLive) this.droppedFrames++; // before the first connection there is no stream to lose
      return false;
    }
    ws.send(buf);
    this.sentFrames++;
    return true;
  }

  #set(patch: Partial<SocketStatus>): void {
    this.#status = { ...this.#status, ...patch };
    this.#o.onStatus?.(this.#status);
  }

  #clearTimer(): void {
    if (this.#timer !== null) this.#o.clearTimer(this.#timer);
    this.#timer = null;
  }

  #open(): void {
    this.#clearTimer();
    this.#set({ state: this.#waitingState(this.#status.attempt), retryAt: null });
    let ws: SocketLike;
    try {
      ws = this.#o.createSocket(this.#o.url);
    } catch (e) {
      this.#dropped(`cannot connect: ${(e as Error).message}`, false);
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      ws.send(encodeClientMessage(this.#o.init()));
      const p = this.#o.params();
      if (Object.keys(p).length) ws.send(encodeClientMessage({ action: "set_params", ...p }));
      this.#everLive = true;
      this.#set({ state: "live", attempt: 0, reason: "", connectedAt: this.#o.now(), final: false });
    };
    ws.onmessage = (ev) => {
      if (this.#ws !== ws) return;
      if (typeof ev.data === "string") {
        const r = parseServerMessage(ev.data);
        if (r.ok) this.#o.onMessage?.(r.message);
        else this.#o.onProtocolError?.(r.reason);
      } else if (ev.data instanceof ArrayBuffer) {
        this.#o.onBinary?.(ev.data);
      }
    };
    ws.onerror = () => {
      /* a close event always follows; it carries the code */
    };
    ws.onclose = (ev) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      if (ev.code === CLOSE_TAKEN_OVER) {
        this.#dropped("This session was opened in another tab or window; this one stopped streaming.", true);
      } else if (ev.code === CLOSE_BAD_SESSION) {
        this.#dropped("The server rejected the session id.", true);
      } else {
        const what = this.#everLive ? "Connection lost" : "Cannot reach the server";
        this.#dropped(ev.reason ? `${what} (${ev.code}: ${ev.reason})` : `${what} (${ev.code})`, false);
      }
    };
  }

  #waitingState(failures: number): ConnectionState {
    if (failures >= OFFLINE_AFTER) return "offline";
    return this.#everLive ? "reconnecting" : "connecting";
  }

  #dropped(reason: string, final: boolean): void {
    if (this.#stopped) return;
    if (final) {
      this.#set({ state: "offline", reason, final: true, retryAt: null, connectedAt: null });
      return;
    }
    const attempt = this.#status.attempt + 1;
    const delay = backoffDelay(attempt, this.#o.backoff, this.#o.random);
    this.#set({
      state: this.#waitingState(attempt),
      attempt,
      reason,
      retryAt: this.#o.now() + delay,
      connectedAt: null,
    });
    this.#timer = this.#o.setTimer(() => {
      this.#timer = null;
      if (!this.#stopped) this.#open();
    }, delay);
  }
}
