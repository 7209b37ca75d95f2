// hooks/useSessionSocket.ts - owns the session's WebSocket for a component tree.
//
// NOTES: wraps net/SessionSocket. The connection status is React state (it
// changes a few times a minute); messages and binary frames go to callbacks
// held in refs, never to state, so the meter stream does not re-render.
// The socket is created once per URL and closed on unmount.
import { useEffect, useRef, useState } from "react";
import type { InitMessage, ServerMessage, StreamParams } from "../protocol/types";
import { SessionSocket, type SocketStatus } from "../net/sessionSocket";

export interface UseSessionSocketOptions {
  url: string;
  init: () => InitMessage;
  params: () => Partial<StreamParams>;
  onMessage: (m: ServerMessage) => void;
  onBinary?: (buf: ArrayBuffer) => void;
  onProtocolError?: (reason: string) => void;
}

const INITIAL: SocketStatus = { state: "connecting", attempt: 0, retryAt: null, reason: "", final: false, connectedAt: null };

export function useSessionSocket(opts: UseSessionSocketOptions): { socket: SessionSocket | null; status: SocketStatus } {
  const ref = useRef(opts);
  ref.current = opts;
  const [status, setStatus] = useState<SocketStatus>(INITIAL);
  const [socket, setSocket] = useState<SessionSocket | null>(null);

  useEffect(() => {
    const s = new SessionSocket({
      url: opts.url,
      init: () => ref.current.init(),
      params: () => ref.current.params(),
      onMessage: (m) => ref.current.onMessage(m),
      onBinary: (b) => ref.current.onBinary?.(b),
      onProtocolError: (r) => ref.current.onProtocolError?.(r),
      onStatus: (st) => setStatus(st),
    });
    setSocket(s);
    s.start();
    return () => {
      s.stop();
      setSocket(null);
    };
  }, [opts.url]);

  return { socket, status };
}
