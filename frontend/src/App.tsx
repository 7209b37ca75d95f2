// App.tsx - the dashboard: wires the audio engine, the session socket, the meter store and the views.
//
// NOTES: React state holds what changes at human speed (parameters, source,
// connection state, recordings). The audio path never touches it: PCM goes
// engine -> socket, meters go socket -> store -> canvas renderers.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { AudioLines, Headphones } from "lucide-react";
import { AudioEngine, STREAM_CHANNELS } from "./audio/engine";
import { DEFAULT_SIGNAL, type SignalConfig } from "./audio/signals";
import { audioSocketUrl, resolveEndpoints } from "./lib/endpoints";
import { MeterStore } from "./lib/meterStore";
import { tabSessionId } from "./lib/sessionId";
import { throttle } from "./lib/throttle";
import { useSessionSocket } from "./hooks/useSessionSocket";
import { useRecordings } from "./hooks/useRecordings";
import type { ReadyMessage, ServerMessage, StreamParams } from "./protocol/types";
import { Notices, type Notice } from "./components/Notices";
import { ConnectionBadge, StatusLine } from "./components/Status";
import { SourcePanel, type SourceUi } from "./components/SourcePanel";
import { ProcessingControls, FAST_S } from "./components/ProcessingControls";
import { SpectrumView, SpectrogramView, WaveformView } from "./components/Views";
import { BalanceView, VuMeters } from "./components/Meters";
import { RecordButton, RecordingsLibrary, type RecordState } from "./components/Recorder";
import { Switch } from "./components/Field";

const ENDPOINTS = resolveEndpoints(
  { VITE_API_URL: import.meta.env.VITE_API_URL, VITE_WS_URL: import.meta.env.VITE_WS_URL },
  window.location,
);
const SESSION_ID = tabSessionId();
const WS_URL = audioSocketUrl(ENDPOINTS.wsBase, SESSION_ID);
const PARAMS_PER_SECOND = 30;
const SAVE_TIMEOUT_MS = 15_000;

export const DEFAULT_PARAMS: StreamParams = {
  gain: 0,
  filter_enabled: false,
  cutoff_freq: 1000,
  integration_time: FAST_S,
  filter_order: 4,
  fft_size: 4096,
  bands: 128,
  waveform_points: 512,
  max_meter_rate: 60,
  monitor: false,
};

export function App() {
  const store = useMemo(() => new MeterStore(), []);
  const engineRef = useRef<AudioEngine | null>(null);
  const [sampleRate, setSampleRate] = useState(48000);
  const [params, setParams] = useState<StreamParams>(DEFAULT_PARAMS);
  const paramsRef = useRef(params);
  const [ready, setReady] = useState<ReadyMessage | null>(null);
  const [notices, setNotices] = useState<Notice[]>([]);
  const [rec, setRec] = useState<{ state: RecordState; startedAt: number | null }>({ state: "idle", startedAt: null });
  const saveTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const [source, setSource] = useState<SourceUi>({
    active: null, signal: DEFAULT_SIGNAL, file: null, fileLoop: true, filePos: 0, mic: null, busy: false,
  });
  const recordings = useRecordings(ENDPOINTS.apiBase, SESSION_ID);
  const refreshRecordings = recordings.refresh;

  const noticeId = useRef(0);
  const notify = useCallback((kind: Notice["kind"], text: string, code?: string) => {
    const id = ++noticeId.current;
    setNotices((old) => [...old.filter((n) => n.text !== text).slice(-4), { id, kind, text, code }]);
    if (kind === "ok" || kind === "info") setTimeout(() => setNotices((old) => old.filter((n) => n.id !== id)), 6000);
  }, []);

  // ---- audio engine (created before the socket connects, so init knows the rate)
  const socketRef = useRef<ReturnType<typeof useSessionSocket>["socket"]>(null);
  useEffect(() => {
    const engine = new AudioEngine({
      onPcm: (buf) => {
        if (socketRef.current?.sendBinary(buf)) store.latency.sent(performance.now());
      },
      onFilePosition: (s) => setSource((o) => ({ ...o, filePos: s })),
      onFileEnded: () => setSource((o) => ({ ...o, active: null })),
      onSourceLost: (msg) => {
        setSource((o) => ({ ...o, active: null, mic: null }));
        notify("error", msg);
      },
    });
    engineRef.current = engine;
    setSampleRate(engine.sampleRate);
    engine.startSignal(DEFAULT_SIGNAL); // the product works on a fresh page, before any click
    setSource((o) => ({ ...o, active: "signal" }));
    return () => {
      engineRef.current = null;
      engine.dispose();
    };
  }, [store, notify]);

  // ---- session socket
  const onMessage = useCallback(
    (m: ServerMessage) => {
      switch (m.type) {
        case "meter":
          store.pushMeter(m);
          break;
        case "ready":
          store.setReady(m);
          setReady(m);
          break;
        case "recording_saved":
          if (saveTimer.current) clearTimeout(saveTimer.current);
          setRec({ state: "idle", startedAt: null });
          notify("ok", `Saved ${m.filename} (${m.duration_seconds.toFixed(1)} s).`);
          void refreshRecordings();
          break;
        case "error":
          if (m.code === "recording_failed") {
            if (saveTimer.current) clearTimeout(saveTimer.current);
            setRec({ state: "idle", startedAt: null });
            notify("error", `Recording failed: ${m.message || "the server could not write the file"}`, m.code);
            void refreshRecordings();
          } else if (m.code === "worker_restarted") {
            store.clear();
            notify("warn", "The audio worker restarted; the stream continues with the same settings.", m.code);
          } else {
            notify("error", `Server: ${m.message || m.code} (${m.code})`, m.code);
          }
          break;
      }
    },
    [store, notify, refreshRecordings],
  );

  const { socket, status } = useSessionSocket({
    url: WS_URL,
    init: () => {
      const p = paramsRef.current;
      return {
        action: "init",
        sample_rate: engineRef.current?.sampleRate ?? sampleRate,
        channels: STREAM_CHANNELS,
        filter_order: p.filter_order,
        fft_size: p.fft_size,
        bands: p.bands,
        waveform_points: p.waveform_points,
        max_meter_rate: p.max_meter_rate,
        monitor: p.monitor,
      };
    },
    params: () => paramsRef.current,
    onMessage,
    onBinary: (buf) => {
      store.monitorRate.hit(performance.now());
      engineRef.current?.playMonitor(buf);
    },
    onProtocolError: (reason) => console.warn("ignored server message:", reason),
  });
  socketRef.current = socket;

  // ---- parameters: state for the controls, throttled set_params for the server
  const pending = useRef<Partial<StreamParams>>({});
  const sendParams = useMemo(
    () =>
      throttle(() => {
        const p = pending.current;
        pending.current = {};
        if (Object.keys(p).length) socket?.send({ action: "set_params", ...p });
      }, 1000 / PARAMS_PER_SECOND),
    [socket],
  );
  useEffect(() => () => sendParams.cancel(), [sendParams]);
  const changeParams = useCallback(
    (patch: Partial<StreamParams>) => {
      paramsRef.current = { ...paramsRef.current, ...patch };
      setParams(paramsRef.current);
      Object.assign(pending.current, patch);
      sendParams(undefined);
    },
    [sendParams],
  );

  const maxCutoff = Math.floor(Math.min(20000, 0.45 * (ready?.sample_rate ?? sampleRate)));

  // ---- monitor
  const setMonitor = async (on: boolean) => {
    try {
      await engineRef.current?.setMonitor(on);
      changeParams({ monitor: on });
    } catch (e) {
      notify("error", `Monitor unavailable: ${(e as Error).message}`);
    }
  };

  // ---- sources
  const engine = () => engineRef.current;
  const sourceHandlers = {
    onStartSignal: () => {
      engine()?.startSignal(source.signal);
      setSource((o) => ({ ...o, active: "signal" }));
    },
    onSignal: (c: Partial<SignalConfig>) => {
      engine()?.updateSignal(c);
      setSource((o) => ({ ...o, signal: { ...o.signal, ...c } }));
    },
    onStartMic: async () => {
      setSource((o) => ({ ...o, busy: true }));
      try {
        const mic = await engine()!.startMic();
        setSource((o) => ({ ...o, active: "mic", mic, busy: false }));
      } catch (e) {
        setSource((o) => ({ ...o, busy: false }));
        notify("error", (e as Error).message, "microphone");
      }
    },
    onPickFile: async (f: File) => {
      setSource((o) => ({ ...o, busy: true }));
      try {
        const info = await engine()!.loadFile(f);
        engine()!.startFile(source.fileLoop);
        setSource((o) => ({ ...o, busy: false, active: "file", filePos: 0, file: { name: f.name, ...info } }));
      } catch (e) {
        setSource((o) => ({ ...o, busy: false }));
        notify("error", (e as Error).message, "file");
      }
    },
    onStartFile: () => {
      try {
        engine()?.startFile(source.fileLoop);
        setSource((o) => ({ ...o, active: "file", filePos: 0 }));
      } catch (e) {
        notify("error", (e as Error).message, "file");
      }
    },
    onFileLoop: (loop: boolean) => {
      engine()?.setFileLoop(loop);
      setSource((o) => ({ ...o, fileLoop: loop }));
    },
    onStop: () => {
      engine()?.stop();
      setSource((o) => ({ ...o, active: null }));
    },
  };

  // ---- recording
  const startRecord = () => {
    if (!socket?.send({ action: "start_record" })) {
      notify("error", "Recording needs a live connection to the server.");
      return;
    }
    setRec({ state: "recording", startedAt: Date.now() });
  };
  const stopRecord = () => {
    if (!socket?.send({ action: "stop_record" })) {
      notify("warn", "The connection is down; the recording is stopped when it comes back.");
    }
    setRec((r) => ({ ...r, state: "saving" }));
    if (saveTimer.current) clearTimeout(saveTimer.current);
    saveTimer.current = setTimeout(() => {
      setRec((r) => (r.state === "saving" ? { state: "idle", startedAt: null } : r));
      notify("error", "The server did not confirm the recording; check the list below.");
      void refreshRecordings();
    }, SAVE_TIMEOUT_MS);
  };
  // a stop that was pending while the link was down is sent when it returns
  useEffect(() => {
    if (status.state === "live" && rec.state === "saving") socket?.send({ action: "stop_record" });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [status.state]);

  const live = status.state === "live";

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <AudioLines size={22} aria-hidden="true" />
          <h1>Pycoustics</h1>
          <span className="brand-sub">Real-time analyser</span>
        </div>
        <ConnectionBadge status={status} socket={socket} />
        <div className="topbar-right">
          <Switch
            label="Monitor"
            hint={<Headphones size={13} aria-hidden="true" />}
            checked={params.monitor}
            onChange={(on) => void setMonitor(on)}
            testId="monitor"
          />
          <RecordButton state={rec.state} startedAt={rec.startedAt} disabled={!live} onStart={startRecord} onStop={stopRecord} />
        </div>
      </header>

      <Notices items={notices} onDismiss={(id) => setNotices((o) => o.filter((n) => n.id !== id))} />

      <main className="layout">
        <div className="area-views">
          <SpectrumView store={store} sampleRate={ready?.sample_rate ?? sampleRate} cutoff={params.filter_enabled ? Math.min(params.cutoff_freq, maxCutoff) : null} />
          <div className="views-row">
            <SpectrogramView store={store} sampleRate={ready?.sample_rate ?? sampleRate} />
            <WaveformView store={store} />
          </div>
        </div>
        <aside className="area-side" aria-label="Meters and recordings">
          <VuMeters store={store} />
          <BalanceView store={store} />
          <RecordingsLibrary
            apiBase={ENDPOINTS.apiBase}
            items={recordings.items}
            loading={recordings.loading}
            error={recordings.error}
            onRefresh={() => void recordings.refresh()}
            onDelete={async (f) => {
              try {
                await recordings.remove(f);
                notify("info", `Deleted ${f}.`);
              } catch (e) {
                notify("error", (e as Error).message);
              }
            }}
          />
        </aside>
        <aside className="area-controls" aria-label="Input and processing">
          <SourcePanel ui={source} maxFreq={Math.min(20000, sampleRate / 2)} {...sourceHandlers} />
          <ProcessingControls
            params={params}
            maxCutoff={maxCutoff}
            effectiveCutoff={ready?.cutoff_freq ?? null}
            onChange={changeParams}
            sampleRate={sampleRate}
          />
        </aside>
      </main>

      <StatusLine store={store} socket={socket} sampleRate={ready?.sample_rate ?? sampleRate} sessionId={SESSION_ID} />
    </div>
  );
}
