// components/Recorder.tsx - record button with elapsed time, and the library of the session's recordings.
import { useEffect, useRef, useState } from "react";
import { Circle, Download, Library, Loader2, Play, RefreshCw, Square, Trash2 } from "lucide-react";
import type { Recording } from "../protocol/types";
import { formatBytes, formatDuration, recordingUrl } from "../lib/api";
import { Panel } from "./Panel";

export type RecordState = "idle" | "recording" | "saving";

export function RecordButton({ state, startedAt, disabled, onStart, onStop }: {
  state: RecordState; startedAt: number | null; disabled: boolean; onStart: () => void; onStop: () => void;
}) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (state !== "recording") return;
    const id = setInterval(() => setNow(Date.now()), 100);
    return () => clearInterval(id);
  }, [state]);
  const elapsed = state === "recording" && startedAt ? (now - startedAt) / 1000 : 0;
  const mm = Math.floor(elapsed / 60);
  const ss = Math.floor(elapsed % 60);
  const ds = Math.floor((elapsed * 10) % 10);
  const clock = `${String(mm).padStart(2, "0")}:${String(ss).padStart(2, "0")}.${ds}`;
  return (
    <div className="recorder">
      {state === "recording" ? (
        <button type="button" className="btn btn-rec-stop" onClick={onStop} data-testid="record-stop">
          <Square size={14} aria-hidden="true" /> Stop
        </button>
      ) : (
        <button
          type="button"
          className="btn btn-rec"
          onClick={onStart}
          disabled={disabled || state === "saving"}
          data-testid="record-start"
          title={disabled ? "Recording needs a live connection" : "Record the processed audio to WAV"}
        >
          {state === "saving" ? <Loader2 size={14} className="spin" aria-hidden="true" /> : <Circle size={14} aria-hidden="true" fill="currentColor" />}
          {state === "saving" ? "Saving…" : "Record"}
        </button>
      )}
      <span className={`rec-clock ${state === "recording" ? "on" : ""}`} role="timer" aria-label="Recording time" data-testid="record-clock">
        {state === "recording" && <span className="rec-dot" aria-hidden="true" />}
        {state === "recording" ? clock : "00:00.0"}
      </span>
      <span className="visually-hidden" aria-live="polite">
        {state === "recording" ? "Recording" : state === "saving" ? "Saving recording" : ""}
      </span>
    </div>
  );
}

function when(ts: string): string {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts || "—";
  return d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function RecordingsLibrary({ apiBase, items, loading, error, onRefresh, onDelete }: {
  apiBase: string;
  items: Recording[];
  loading: boolean;
  error: string | null;
  onRefresh: () => void;
  onDelete: (filename: string) => Promise<void>;
}) {
  const [playing, setPlaying] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const audioRef = useRef<HTMLAudioElement>(null);

  useEffect(() => {
    if (playing && !items.some((r) => r.filename === playing)) setPlaying(null);
  }, [items, playing]);

  useEffect(() => {
    if (playing) void audioRef.current?.play().catch(() => {});
  }, [playing]);

  return (
    <Panel
      id="library"
      title="Recordings"
      icon={<Library size={16} aria-hidden="true" />}
      className="panel-library"
      actions={
        <button type="button" className="icon-btn" onClick={onRefresh} aria-label="Refresh recordings" title="Refresh">
          <RefreshCw size={15} className={loading ? "spin" : ""} aria-hidden="true" />
        </button>
      }
    >
      {error && (
        <p className="error-text" role="alert" data-testid="library-error">
          {error}
        </p>
      )}
      {playing && (
        <div className="player">
          <span className="player-name">{playing}</span>
          <audio ref={audioRef} controls preload="metadata" src={recordingUrl(apiBase, playing)} data-testid="player" />
        </div>
      )}
      {items.length === 0 ? (
        <p className="muted empty" data-testid="library-empty">
          No recordings in this session yet. Press Record to capture the processed audio.
        </p>
      ) : (
        <ul className="rec-list" data-testid="recordings">
          {items.map((r) => (
            <li key={r.filename} className={`rec-item ${playing === r.filename ? "current" : ""}`} data-testid="recording" data-filename={r.filename}>
              <div className="rec-meta">
                <span className="rec-time">{when(r.timestamp)}</span>
                <span className="rec-sub">
                  <span data-testid="rec-duration">{formatDuration(r.duration_seconds)}</span> · {formatBytes(r.size_bytes)}
                  {r.sample_rate ? ` · ${(r.sample_rate / 1000).toFixed(1)} kHz` : ""}
                  {r.state && r.state !== "complete" ? ` · ${r.state}` : ""}
                </span>
              </div>
              {confirm === r.filename ? (
                <div className="rec-actions confirm" role="group" aria-label={`Delete ${r.filename}?`}>
                  <span>Delete?</span>
                  <button
                    type="button"
                    className="btn btn-small btn-danger"
                    data-testid="rec-confirm-delete"
                    disabled={busy === r.filename}
                    onClick={async () => {
                      setBusy(r.filename);
                      try {
                        await onDelete(r.filename);
                      } finally {
                        setBusy(null);
                        setConfirm(null);
                      }
                    }}
                  >
                    Delete
                  </button>
                  <button type="button" className="btn btn-small" onClick={() => setConfirm(null)} autoFocus>
                    Cancel
                  </button>
                </div>
              ) : (
                <div className="rec-actions">
                  <button type="button" className="icon-btn" onClick={() => setPlaying(r.filename)} aria-label={`Play recording from ${when(r.timestamp)}`} title="Play" data-testid="rec-play">
                    <Play size={15} aria-hidden="true" />
                  </button>
                  <a className="icon-btn" href={recordingUrl(apiBase, r.filename)} download={r.filename} aria-label={`Download ${r.filename}`} title="Download WAV" data-testid="rec-download">
                    <Download size={15} aria-hidden="true" />
                  </a>
                  <button type="button" className="icon-btn danger" onClick={() => setConfirm(r.filename)} aria-label={`Delete recording from ${when(r.timestamp)}`} title="Delete" data-testid="rec-delete">
                    <Trash2 size={15} aria-hidden="true" />
                  </button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}
