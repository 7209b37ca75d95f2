// components/ProcessingControls.tsx - gain, low-pass filter, integration time, FFT size, band count.
import { SlidersHorizontal, ScanLine } from "lucide-react";
import type { StreamParams } from "../protocol/types";
import { Panel } from "./Panel";
import { LogSlider, Select, Slider, Switch } from "./Field";

export const FAST_S = 0.125;
export const SLOW_S = 1;
const ORDERS = [2, 3, 4, 5, 6, 7, 8].map((o) => ({ value: o, label: `${o} (${o * 6} dB/oct)` }));
const FFTS = [256, 512, 1024, 2048, 4096, 8192, 16384].map((n) => ({ value: n, label: String(n) }));
const BANDS = [32, 48, 64, 96, 128, 192, 256].map((n) => ({ value: n, label: String(n) }));

interface Props {
  params: StreamParams;
  maxCutoff: number;
  effectiveCutoff: number | null;
  onChange: (patch: Partial<StreamParams>) => void;
  sampleRate: number;
}

export function ProcessingControls({ params, maxCutoff, effectiveCutoff, onChange }: Props) {
  const it = params.integration_time;
  return (
    <Panel id="processing" title="Processing" icon={<SlidersHorizontal size={16} aria-hidden="true" />} className="panel-controls">
      <Slider label="Gain" value={params.gain} min={0} max={60} step={0.5} unit="dB" onChange={(gain) => onChange({ gain })} testId="gain" />
      <Switch label="Low-pass filter" checked={params.filter_enabled} onChange={(filter_enabled) => onChange({ filter_enabled })} testId="filter-enabled" />
      <LogSlider
        label="Cutoff"
        value={Math.min(params.cutoff_freq, maxCutoff)}
        min={20}
        max={maxCutoff}
        onChange={(cutoff_freq) => onChange({ cutoff_freq })}
        disabled={!params.filter_enabled}
        testId="cutoff"
      />
      {effectiveCutoff !== null && params.filter_enabled && Math.abs(effectiveCutoff - params.cutoff_freq) > 1 && (
        <p className="muted small">The server applies {Math.round(effectiveCutoff)} Hz (limited by the sample rate).</p>
      )}
      <Select label="Filter order" value={params.filter_order} options={ORDERS} onChange={(filter_order) => onChange({ filter_order })} disabled={!params.filter_enabled} testId="filter-order" />
      <Slider
        label="Integration"
        value={it}
        min={0}
        max={2}
        step={0.005}
        unit="s"
        onChange={(integration_time) => onChange({ integration_time })}
        format={(v) => (v === 0 ? "off" : `${v} seconds`)}
        testId="integration"
      />
      <div className="presets" role="group" aria-label="Integration presets">
        <button type="button" className={`btn btn-small ${it === FAST_S ? "active" : ""}`} aria-pressed={it === FAST_S} onClick={() => onChange({ integration_time: FAST_S })}>
          Fast 125 ms
        </button>
        <button type="button" className={`btn btn-small ${it === SLOW_S ? "active" : ""}`} aria-pressed={it === SLOW_S} onClick={() => onChange({ integration_time: SLOW_S })}>
          Slow 1 s
        </button>
        <button type="button" className={`btn btn-small ${it === 0 ? "active" : ""}`} aria-pressed={it === 0} onClick={() => onChange({ integration_time: 0 })}>
          Off
        </button>
      </div>
      <h3 className="subhead">
        <ScanLine size={14} aria-hidden="true" /> Analysis
      </h3>
      <div className="two-col">
        <Select label="FFT size" value={params.fft_size} options={FFTS} onChange={(fft_size) => onChange({ fft_size })} testId="fft-size" />
        <Select label="Bands" value={params.bands} options={BANDS} onChange={(bands) => onChange({ bands })} testId="bands" />
      </div>
    </Panel>
  );
}
