// components/Field.tsx - labelled controls: a slider with an editable number, a log-scale slider, a switch, a select.
//
// NOTES: native inputs, so keyboard operation and screen-reader labels come
// for free; each slider's number box lets a value be typed exactly. The log
// slider moves over 1000 steps of log frequency, so every decade gets the
// same travel (20 Hz .. 20 kHz).
import { useId, useState, useEffect, type ReactNode } from "react";

interface SliderProps {
  label: string;
  value: number;
  min: number;
  max: number;
  step: number;
  unit: string;
  onChange: (v: number) => void;
  disabled?: boolean;
  format?: (v: number) => string;
  testId?: string;
}

function NumberBox({
  value, min, max, step, unit, onChange, disabled, label, testId,
}: Omit<SliderProps, "format"> & { label: string }) {
  const [text, setText] = useState(String(value));
  const [editing, setEditing] = useState(false);
  useEffect(() => {
    if (!editing) setText(String(Number(value.toFixed(3))));
  }, [value, editing]);
  const commit = () => {
    setEditing(false);
    const v = Number(text);
    if (text.trim() !== "" && Number.isFinite(v)) onChange(Math.min(max, Math.max(min, v)));
    else setText(String(value));
  };
  return (
    <span className="numbox">
      <input
        type="number"
        inputMode="decimal"
        aria-label={`${label} (${unit})`}
        value={text}
        min={min}
        max={max}
        step={step}
        disabled={disabled}
        data-testid={testId ? `${testId}-number` : undefined}
        onFocus={() => setEditing(true)}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit();
        }}
      />
      <span className="unit">{unit}</span>
    </span>
  );
}

export function Slider({ label, value, min, max, step, unit, onChange, disabled, format, testId }: SliderProps) {
  const id = useId();
  return (
    <div className="field">
      <div className="field-row">
        <label htmlFor={id}>{label}</label>
        <NumberBox {...{ value, min, max, step, unit, onChange, disabled, label, testId }} />
      </div>
      <input
        id={id}
        type="range"
        min={min}
        max={max}
        step={step}
        value={value}
        disabled={disabled}
        aria-valuetext={format ? format(value) : `${value} ${unit}`}
        data-testid={testId}
        onChange={(e) => onChange(Number(e.target.value))}
      />
    </div>
  );
}

const LOG_STEPS = 1000;

export function toLogPosition(v: number, min: number, max: number): number {
  const t = (Math.log(Math.min(max, Math.max(min, v))) - Math.log(min)) / (Math.log(max) - Math.log(min));
  return Math.round(t * LOG_STEPS);
}

export function fromLogPosition(p: number, min: number, max: number): number {
  if (p >= LOG_STEPS) return max;
  if (p <= 0) return min;
  const v = Math.exp(Math.log(min) + (p / LOG_STEPS) * (Math.log(max) - Math.log(min)));
  // keep 3 significant digits: 1234.5 -> 1230, 87.31 -> 87.3
  const mag = Math.pow(10, Math.floor(Math.log10(v)) - 2);
  return Math.min(max, Math.max(min, Math.round(v / mag) * mag));
}

export function formatFreq(hz: number): string {
  return hz >= 1000 ? `${(hz / 1000).toFixed(hz >= 10000 ? 1 : 2)} kHz` : `${hz.toFixed(hz < 100 ? 1 : 0)} Hz`;
}

export function LogSlider({ label, value, min, max, onChange, disabled, testId }: Omit<SliderProps, "step" | "unit" | "format">) {
  const id = useId();
  return (
    <div className="field">
      <div className="field-row">
        <label htmlFor={id}>{label}</label>
        <NumberBox value={value} min={min} max={max} step={1} unit="Hz" onChange={onChange} disabled={disabled} label={label} testId={testId} />
      </div>
      <input
        id={id}
        type="range"
        min={0}
        max={LOG_STEPS}
        step={1}
        value={toLogPosition(value, min, max)}
        disabled={disabled}
        aria-valuetext={formatFreq(value)}
        data-testid={testId}
        onChange={(e) => onChange(fromLogPosition(Number(e.target.value), min, max))}
      />
      <div className="scale-hints" aria-hidden="true">
        <span>{formatFreq(min)}</span>
        <span>{formatFreq(max)}</span>
      </div>
    </div>
  );
}

export function Switch({ label, checked, onChange, disabled, testId, hint }: {
  label: string; checked: boolean; onChange: (v: boolean) => void; disabled?: boolean; testId?: string; hint?: ReactNode;
}) {
  const id = useId();
  return (
    <div className="field switch-field">
      <label htmlFor={id} className="switch-label">
        <span>{label}</span>
        {hint && <span className="hint">{hint}</span>}
      </label>
      <button
        id={id}
        type="button"
        role="switch"
        aria-checked={checked}
        className={`switch ${checked ? "on" : ""}`}
        disabled={disabled}
        data-testid={testId}
        onClick={() => onChange(!checked)}
      >
        <span className="knob" />
      </button>
    </div>
  );
}

export function Select<T extends string | number>({ label, value, options, onChange, disabled, testId }: {
  label: string; value: T; options: { value: T; label: string }[]; onChange: (v: T) => void; disabled?: boolean; testId?: string;
}) {
  const id = useId();
  return (
    <div className="field field-inline">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={String(value)}
        disabled={disabled}
        data-testid={testId}
        onChange={(e) => {
          const o = options.find((x) => String(x.value) === e.target.value);
          if (o) onChange(o.value);
        }}
      >
        {options.map((o) => (
          <option key={String(o.value)} value={String(o.value)}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function Segmented<T extends string>({ label, value, options, onChange, testId }: {
  label: string; value: T; options: { value: T; label: string }[]; onChange: (v: T) => void; testId?: string;
}) {
  return (
    <div className="segmented" role="radiogroup" aria-label={label} data-testid={testId}>
      {options.map((o) => (
        <button
          key={o.value}
          type="button"
          role="radio"
          aria-checked={value === o.value}
          className={value === o.value ? "active" : ""}
          onClick={() => onChange(o.value)}
        >
          {o.label}
        </button>
      ))}
    </div>
  );
}
