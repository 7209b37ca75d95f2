// components/Meters.tsx - VU meters with clip lights and readouts, and the balance / correlation view.
import { useCallback } from "react";
import { Gauge, MoveHorizontal } from "lucide-react";
import type { MeterStore } from "../lib/meterStore";
import { useSampled } from "../hooks/useSampled";
import { CanvasView } from "./CanvasView";
import { Panel } from "./Panel";
import { MeterRenderer, channelLevels } from "../render/MeterRenderer";
import { BalanceRenderer } from "../render/BalanceRenderer";
import { formatDb } from "../render/scales";

const sameArr = (a: unknown[], b: unknown[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export function VuMeters({ store }: { store: MeterStore }) {
  const create = useCallback((c: HTMLCanvasElement) => new MeterRenderer(c, store), [store]);
  const v = useSampled(
    () => {
      const l = channelLevels(store.meter, 0);
      const r = channelLevels(store.meter, 1);
      return [l.rms, r.rms, l.hold, r.hold, store.clipped(0), store.clipped(1)] as const;
    },
    150,
    sameArr as never,
  );
  const names = ["L", "R"];
  return (
    <Panel id="meters" title="Levels" icon={<Gauge size={16} aria-hidden="true" />} className="view-meters">
      <div className="clip-row">
        {[0, 1].map((c) => (
          <button
            key={c}
            type="button"
            className={`clip-light ${v[4 + c] ? "lit" : ""}`}
            aria-pressed={Boolean(v[4 + c])}
            aria-label={`${names[c]} channel ${v[4 + c] ? "clipped" : "has not clipped"}; press to reset`}
            title="Clip indicator: click to reset"
            data-testid={`clip-${names[c]}`}
            onClick={() => store.resetClips()}
          >
            CLIP {names[c]}
          </button>
        ))}
      </div>
      <CanvasView create={create} label="Level meters per channel in dBFS" className="meter-canvas" testId="vu-canvas" />
      <dl className="readouts">
        {[0, 1].map((c) => (
          <div key={c}>
            <dt>RMS {names[c]}</dt>
            <dd data-testid={`rms-${names[c]}`} data-db={Number.isFinite(v[c] as number) ? (v[c] as number).toFixed(2) : "-inf"}>
              {formatDb(v[c] as number)}
            </dd>
          </div>
        ))}
        {[0, 1].map((c) => (
          <div key={`h${c}`}>
            <dt>Peak {names[c]}</dt>
            <dd data-testid={`peak-${names[c]}`}>{formatDb(v[2 + c] as number)}</dd>
          </div>
        ))}
      </dl>
    </Panel>
  );
}

export function BalanceView({ store }: { store: MeterStore }) {
  const create = useCallback((c: HTMLCanvasElement) => new BalanceRenderer(c, store), [store]);
  const v = useSampled(() => [store.meter?.panning ?? 0, store.meter?.correlation ?? NaN] as const, 200, sameArr as never);
  const fmt = (x: number) => (Number.isFinite(x) ? (x >= 0 ? "+" : "") + x.toFixed(2) : "—");
  return (
    <Panel id="balance" title="Balance & correlation" icon={<MoveHorizontal size={16} aria-hidden="true" />} className="view-balance">
      <CanvasView create={create} label="Stereo balance from left to right, and phase correlation from -1 to +1" className="balance-canvas" />
      <dl className="readouts">
        <div>
          <dt>Balance</dt>
          <dd data-testid="balance">{fmt(v[0])}</dd>
        </div>
        <div>
          <dt>Correlation</dt>
          <dd data-testid="correlation">{fmt(v[1])}</dd>
        </div>
      </dl>
    </Panel>
  );
}
