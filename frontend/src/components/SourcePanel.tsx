// components/SourcePanel.tsx - choose the input: test signal, microphone or an audio file.
import { useRef, useState } from "react";
import { FileAudio, Mic, Play, Square, Waves, Repeat } from "lucide-react";
import type { SignalConfig, SignalType, ChannelRoute } from "../audio/signals";
import type { MicInfo, SourceKind } from "../audio/engine";
import { Panel } from "./Panel";
import { LogSlider, Segmented, Select, Slider, Switch, formatFreq } from "./Field";
import { formatDuration } from "../lib/api";

export interface SourceUi {
  active: SourceKind | null;
  signal: SignalConfig;
  file: { name: string; duration: number; channels: number } | null;
  fileLoop: boolean;
  filePos: number;
  mic: MicInfo | null;
  busy: boolean;
}

interface Props {
  ui: SourceUi;
  maxFreq: number;
  onStartSignal: () => void;
  onSignal: (c: Partial<SignalConfig>) => void;
  onStartMic: () => void;
  onPickFile: (f: File) => void;
  onStartFile: () => void;
  onFileLoop: (loop: boolean) => void;
  onStop: () => void;
}

type Tab = SourceKind;
const TABS: { id: Tab; label: string; icon: typeof Mic }[] = [
  { id: "signal", label: "Test signal", icon: Waves },
  { id: "mic", label: "Microphone", icon: Mic },
  { id: "file", label: "File", icon: FileAudio },
];

export function SourcePanel(p: Props) {
  const [tab, setTab] = useState<Tab>(p.ui.active ?? "signal");
  const fileRef = useRef<HTMLInputElement>(null);
  const { ui } = p;
  const activeHere = ui.active === tab;

  const onTabKey = (e: React.KeyboardEvent, i: number) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const next = TABS[(i + (e.key === "ArrowRight" ? 1 : TABS.length - 1)) % TABS.length];
    setTab(next.id);
    document.getElementById(`src-tab-${next.id}`)?.focus();
  };

  const stopBtn = (
    <button type="button" className="btn" onClick={p.onStop} data-testid="source-stop">
      <Square size={14} aria-hidden="true" /> Stop
    </button>
  );

  return (
    <Panel
      id="source"
      title="Input"
      className="panel-source"
      actions={
        <span className={`src-state ${ui.active ? "on" : ""}`} data-testid="source-active" data-source={ui.active ?? "none"}>
          {ui.active ? `${TABS.find((t) => t.id === ui.active)!.label} streaming` : "Stopped"}
        </span>
      }
    >
      <div className="tabs" role="tablist" aria-label="Input source">
        {TABS.map((t, i) => (
          <button
            key={t.id}
            id={`src-tab-${t.id}`}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            aria-controls={`src-panel-${t.id}`}
            tabIndex={tab === t.id ? 0 : -1}
            className={`tab ${tab === t.id ? "active" : ""} ${ui.active === t.id ? "streaming" : ""}`}
            data-testid={`tab-${t.id}`}
            onClick={() => setTab(t.id)}
            onKeyDown={(e) => onTabKey(e, i)}
          >
            <t.icon size={14} aria-hidden="true" />
            {t.label}
          </button>
        ))}
      </div>

      {tab === "signal" && (
        <div role="tabpanel" id="src-panel-signal" aria-labelledby="src-tab-signal" className="tabpanel">
          <Segmented<SignalType>
            label="Signal type"
            value={ui.signal.type}
            onChange={(type) => p.onSignal({ type })}
            testId="signal-type"
            options={[
              { value: "sine", label: "Sine" },
              { value: "white", label: "White" },
              { value: "pink", label: "Pink" },
              { value: "sweep", label: "Sweep" },
            ]}
          />
          {ui.signal.type === "sine" && (
            <LogSlider label="Frequency" value={ui.signal.frequency} min={20} max={p.maxFreq} onChange={(frequency) => p.onSignal({ frequency })} testId="signal-freq" />
          )}
          {ui.signal.type === "sweep" && (
            <Slider label="Sweep time" value={ui.signal.sweepSeconds} min={1} max={30} step={1} unit="s"
              onChange={(sweepSeconds) => p.onSignal({ sweepSeconds })}
              format={(v) => `${v} s from ${formatFreq(ui.signal.sweepFrom)} to ${formatFreq(Math.min(ui.signal.sweepTo, p.maxFreq))}`} />
          )}
          <Slider label="Level" value={ui.signal.levelDb} min={-60} max={0} step={0.5} unit="dBFS" onChange={(levelDb) => p.onSignal({ levelDb })} testId="signal-level" />
          <Select<ChannelRoute>
            label="Channels"
            value={ui.signal.route}
            onChange={(route) => p.onSignal({ route })}
            testId="signal-route"
            options={[
              { value: "both", label: "Left + Right" },
              { value: "left", label: "Left only" },
              { value: "right", label: "Right only" },
            ]}
          />
          <div className="row">
            {activeHere ? stopBtn : (
              <button type="button" className="btn btn-primary" onClick={p.onStartSignal} data-testid="signal-start">
                <Play size={14} aria-hidden="true" /> Play test signal
              </button>
            )}
          </div>
        </div>
      )}

      {tab === "mic" && (
        <div role="tabpanel" id="src-panel-mic" aria-labelledby="src-tab-mic" className="tabpanel">
          <p className="muted">
            Raw input: echo cancellation, noise suppression and automatic gain are off; stereo when the device has two channels.
          </p>
          {ui.mic && activeHere && (
            <p className="mic-info" data-testid="mic-info">
              <Mic size={13} aria-hidden="true" /> {ui.mic.label} · {ui.mic.channels >= 2 ? "stereo" : "mono (sent as dual-mono)"}
            </p>
          )}
          <div className="row">
            {activeHere ? stopBtn : (
              <button type="button" className="btn btn-primary" onClick={p.onStartMic} disabled={ui.busy} data-testid="mic-start">
                <Mic size={14} aria-hidden="true" /> {ui.busy ? "Opening…" : "Use microphone"}
              </button>
            )}
          </div>
        </div>
      )}

      {tab === "file" && (
        <div role="tabpanel" id="src-panel-file" aria-labelledby="src-tab-file" className="tabpanel">
          <input
            ref={fileRef}
            type="file"
            accept="audio/*,.wav,.mp3,.ogg,.flac,.m4a"
            className="visually-hidden"
            aria-label="Audio file"
            data-testid="file-input"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) p.onPickFile(f);
              e.target.value = "";
            }}
          />
          <div className="row">
            <button type="button" className="btn" onClick={() => fileRef.current?.click()} disabled={ui.busy}>
              <FileAudio size={14} aria-hidden="true" /> {ui.busy ? "Decoding…" : ui.file ? "Choose another file" : "Choose audio file"}
            </button>
          </div>
          {ui.file && (
            <>
              <p className="file-info" data-testid="file-info">
                <b>{ui.file.name}</b> · {formatDuration(ui.file.duration)} · {ui.file.channels >= 2 ? "stereo" : "mono"}
              </p>
              <progress max={ui.file.duration || 1} value={ui.active === "file" ? ui.filePos : 0} aria-label="Playback position" />
              <Switch label="Loop" hint={<Repeat size={12} aria-hidden="true" />} checked={ui.fileLoop} onChange={p.onFileLoop} testId="file-loop" />
              <div className="row">
                {activeHere ? stopBtn : (
                  <button type="button" className="btn btn-primary" onClick={p.onStartFile} data-testid="file-start">
                    <Play size={14} aria-hidden="true" /> Stream file
                  </button>
                )}
              </div>
            </>
          )}
        </div>
      )}
    </Panel>
  );
}
