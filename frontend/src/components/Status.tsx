// components/Status.tsx - the connection badge and the status line (meter rate, latency, drops).
import { CircleAlert, Loader2, RefreshCw, Radio, WifiOff } from "lucide-react";
import { useEffect, useState } from "react";
import type { MeterStore } from "../lib/meterStore";
import type { SessionSocket, SocketStatus } from "../net/sessionSocket";
import { useSampled } from "../hooks/useSampled";

const LABEL: Record<SocketStatus["state"], string> = {
  connecting: "Connecting",
  live: "Live",
  reconnecting: "Reconnecting",
  offline: "Offline",
};

export function ConnectionBadge({ status, socket }: { status: SocketStatus; socket: SessionSocket | null }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!status.retryAt) return;
    const id = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(id);
  }, [status.retryAt]);
  const secs = status.retryAt ? Math.max(0, Math.ceil((status.retryAt - now) / 1000)) : null;
  const icon =
    status.state === "live" ? <Radio size={14} aria-hidden="true" /> :
    status.state === "offline" ? <WifiOff size={14} aria-hidden="true" /> :
    <Loader2 size={14} className="spin" aria-hidden="true" />;
  return (
    <div className="conn" role="status" aria-live="polite">
      <span className={`badge badge-${status.state}`} data-testid="connection-state" data-state={status.state}>
        {icon}
        {LABEL[status.state]}
      </span>
      {status.state !== "live" && (status.reason || secs !== null) && (
        <span className="conn-detail">
          {status.reason && <CircleAlert size={13} aria-hidden="true" />}
          <span data-testid="connection-reason">{status.reason}</span>
          {secs !== null && !status.final && <span> — retry in {secs} s</span>}
        </span>
      )}
      {status.state !== "live" && status.state !== "connecting" && (
        <button type="button" className="btn btn-small" onClick={() => socket?.reconnectNow()} data-testid="reconnect-now">
          <RefreshCw size={13} aria-hidden="true" />
          {status.final ? "Reconnect" : "Retry now"}
        </button>
      )}
    </div>
  );
}

export function StatusLine({ store, socket, sampleRate, sessionId }: {
  store: MeterStore; socket: SessionSocket | null; sampleRate: number; sessionId: string;
}) {
  const s = useSampled(
    () => {
      const now = performance.now();
      return {
        rate: store.meterRate.rate(now),
        monitor: store.monitorRate.rate(now),
        latency: store.latency.smoothed,
        serverDropped: store.serverDropped,
        clientDropped: socket?.droppedFrames ?? 0,
        sent: socket?.sentFrames ?? 0,
        stale: store.lastMeterAt > 0 && now - store.lastMeterAt > 1500,
        fft: store.ready?.fft_size,
        rateReady: store.ready?.sample_rate,
      };
    },
    500,
    (a, b) => JSON.stringify(a) === JSON.stringify(b),
  );
  return (
    <footer className="statusline" aria-label="Stream status">
      <span>
        Meters <b data-testid="meter-rate">{s.rate}</b>/s
      </span>
      <span>
        Latency <b data-testid="latency">{s.latency === null ? "—" : `${Math.round(s.latency)} ms`}</b>
      </span>
      <span title="Audio frames not sent (link down or backed up) / meters the server dropped">
        Dropped <b data-testid="dropped">{s.clientDropped}</b> sent / <b>{s.serverDropped}</b> meters
      </span>
      {s.monitor > 0 && (
        <span>
          Monitor <b data-testid="monitor-rate">{s.monitor}</b> fr/s
        </span>
      )}
      <span>
        Frames sent <b data-testid="frames-sent">{s.sent}</b>
      </span>
      <span>
        {((s.rateReady ?? sampleRate) / 1000).toFixed(1)} kHz · 2 ch{s.fft ? ` · FFT ${s.fft}` : ""}
      </span>
      {s.stale && <span className="warn">No meters for over a second</span>}
      <span className="session" title="Session id (keep it private: it gives access to this session's recordings)">
        Session <code data-testid="session-id">{sessionId.slice(0, 8)}…</code>
      </span>
    </footer>
  );
}
