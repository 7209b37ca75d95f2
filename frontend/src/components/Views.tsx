// components/Views.tsx - the canvas views and their text readouts: spectrum, spectrogram, waveform.
//
// NOTES: thin components. The canvases are drawn by the renderers in the
// shared animation loop; the text readouts beside them are sampled at 4 Hz.
import { useCallback, useEffect, useRef, useState } from "react";
import { AudioWaveform, BarChart3, RotateCcw, Waves } from "lucide-react";
import type { MeterStore } from "../lib/meterStore";
import { useSampled } from "../hooks/useSampled";
import { CanvasView } from "./CanvasView";
import { Panel } from "./Panel";
import { Segmented } from "./Field";
import { SpectrumRenderer, type SpectrumMode } from "../render/SpectrumRenderer";
import { SpectrogramRenderer } from "../render/SpectrogramRenderer";
import { WaveformRenderer } from "../render/WaveformRenderer";
import { spectrumBands } from "../render/spectrumData";
import { argMax, formatDb, peakFrequency } from "../render/scales";
import { formatFreq } from "./Field";

interface ViewProps {
  store: MeterStore;
  sampleRate: number;
}

function usePeakReadout(store: MeterStore, sampleRate: number) {
  return useSampled(
    () => {
      const b = spectrumBands(store.meter, store.ready, sampleRate);
      if (!b) return null;
      const i = argMax(b.db);
      if (i < 0 || !Number.isFinite(b.db[i]) || b.db[i] < -90) return null;
      return { hz: peakFrequency(b.db, b.hz), db: b.db[i] };
    },
    250,
    (a, b) => a?.hz === b?.hz && a?.db === b?.db,
  );
}

export function SpectrumView({ store, sampleRate, cutoff }: ViewProps & { cutoff: number | null }) {
  const [mode, setMode] = useState<SpectrumMode>("bars");
  const rRef = useRef<SpectrumRenderer | null>(null);
  const peak = usePeakReadout(store, sampleRate);
  const create = useCallback((c: HTMLCanvasElement) => new SpectrumRenderer(c, store, sampleRate), [store, sampleRate]);
  useEffect(() => rRef.current?.setMode(mode), [mode]);
  useEffect(() => rRef.current?.setCutoff(cutoff), [cutoff]);
  useEffect(() => rRef.current?.setSampleRate(sampleRate), [sampleRate]);
  return (
    <Panel
      id="spectrum"
      title="Spectrum"
      icon={<BarChart3 size={16} aria-hidden="true" />}
      className="view-spectrum"
      actions={
        <>
          <span className="readout" data-testid="spectrum-peak" aria-live="off">
            Peak{" "}
            <b data-testid="spectrum-peak-hz" data-hz={peak?.hz ? peak.hz.toFixed(1) : ""}>
              {peak?.hz ? formatFreq(peak.hz) : "—"}
            </b>{" "}
            <b data-testid="spectrum-peak-db" data-db={peak ? peak.db.toFixed(2) : ""}>
              {peak ? `${formatDb(peak.db)} dB` : ""}
            </b>
          </span>
          <Segmented
            label="Spectrum style"
            value={mode}
            onChange={setMode}
            options={[
              { value: "bars", label: "Bars" },
              { value: "line", label: "Line" },
            ]}
          />
          <button type="button" className="icon-btn" onClick={() => rRef.current?.resetPeaks()} title="Reset peak hold" aria-label="Reset spectrum peak hold">
            <RotateCcw size={15} aria-hidden="true" />
          </button>
        </>
      }
    >
      <CanvasView
        create={create}
        onReady={(r) => {
          rRef.current = r;
          r?.setMode(mode);
          r?.setCutoff(cutoff);
        }}
        label="Spectrum: level in dB against frequency on a logarithmic axis, with a peak-hold trace"
        className="tall"
        testId="spectrum-canvas"
      />
    </Panel>
  );
}

export function SpectrogramView({ store, sampleRate }: ViewProps) {
  const create = useCallback((c: HTMLCanvasElement) => new SpectrogramRenderer(c, store, sampleRate), [store, sampleRate]);
  return (
    <Panel id="spectrogram" title="Spectrogram" icon={<Waves size={16} aria-hidden="true" />} className="view-spectrogram">
      <CanvasView create={create} label="Spectrogram: frequency over time, newest on the right" testId="spectrogram-canvas" />
    </Panel>
  );
}

export function WaveformView({ store }: { store: MeterStore }) {
  const create = useCallback((c: HTMLCanvasElement) => new WaveformRenderer(c, store), [store]);
  return (
    <Panel id="waveform" title="Waveform" icon={<AudioWaveform size={16} aria-hidden="true" />} className="view-waveform">
      <CanvasView create={create} label="Waveform: minimum and maximum of the latest audio" testId="waveform-canvas" />
    </Panel>
  );
}

