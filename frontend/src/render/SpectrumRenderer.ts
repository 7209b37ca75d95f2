// render/SpectrumRenderer.ts - spectrum as bars or a line on a log frequency axis, with a peak-hold trace.
//
// NOTES: draws the newest meter once per animation frame. Bars span each
// band's edges (geometric midpoints between centres) so their widths follow
// the log axis. The peak hold is kept here, in display time, so it falls
// smoothly between meters. The filter cutoff is marked when the filter is on.
import type { MeterStore } from "../lib/meterStore";
import { DbScale, dbTicks, formatHz, freqTicks, LogFreqScale } from "./scales";
import { PeakHold, spectrumBands } from "./spectrumData";
import { StoreRenderer } from "./StoreRenderer";
import { THEME } from "./theme";

export type SpectrumMode = "bars" | "line";

const M = { left: 38, right: 10, top: 10, bottom: 22 };
export const SPECTRUM_DB_MIN = -100;
export const SPECTRUM_DB_MAX = 0;

/** Starts a new path through the points (hz[i], db[i]), i < db.length. */
function tracePath(ctx: CanvasRenderingContext2D, fx: LogFreqScale, dy: DbScale, hz: ArrayLike<number>, db: ArrayLike<number>): void {
  ctx.beginPath();
  for (let i = 0; i < db.length; i++) {
    const x = fx.toX(hz[i]);
    const y = dy.toY(db[i]);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  }
}

export class SpectrumRenderer extends StoreRenderer {
  #mode: SpectrumMode = "bars";
  #cutoff: number | null = null;
  #rate: number;
  #hold = new PeakHold();
  #holdActiveUntil = 0;

  constructor(canvas: HTMLCanvasElement, store: MeterStore, sampleRate: number) {
    super(canvas, store);
    this.#rate = sampleRate;
  }

  setMode(mode: SpectrumMode): void {
    this.#mode = mode;
    this.invalidate();
  }

  setCutoff(hz: number | null): void {
    this.#cutoff = hz;
    this.invalidate();
  }

  setSampleRate(rate: number): void {
    if (rate !== this.#rate) {
      this.#rate = rate;
      this.#hold.reset();
      this.invalidate();
    }
  }

  resetPeaks(): void {
    this.#hold.reset();
    this.invalidate();
  }

  /** A new meter, or a peak hold still falling. */
  protected override changed(now: number): boolean {
    return super.changed(now) || now <= this.#holdActiveUntil;
  }

  protected paint(ctx: CanvasRenderingContext2D, w: number, h: number, dpr: number, now: number): void {
    const fMax = Math.min(20000, this.#rate / 2);
    const fx = new LogFreqScale(20, fMax, M.left, w - M.right);
    const dy = new DbScale(SPECTRUM_DB_MIN, SPECTRUM_DB_MAX, M.top, h - M.bottom);

    ctx.fillStyle = THEME.plot;
    ctx.fillRect(0, 0, w, h);
    this.#grid(ctx, w, h, dpr, fx, dy);

    const bands = spectrumBands(this.store.meter, this.store.ready, this.#rate);
    if (bands) {
      const { db, hz } = bands;
      const floor = dy.y1;
      ctx.save();
      ctx.beginPath();
      ctx.rect(M.left, M.top, w - M.left - M.right, h - M.top - M.bottom);
      ctx.clip();
      if (this.#mode === "bars") {
        const grad = ctx.createLinearGradient(0, M.top, 0, floor);
        grad.addColorStop(0, THEME.trace);
        grad.addColorStop(1, "rgba(45, 212, 191, 0.25)");
        ctx.fillStyle = grad;
        const gap = hz.length > 96 ? 0 : 1;
        for (let i = 0; i < db.length; i++) {
          const lo = i > 0 ? Math.sqrt(hz[i - 1] * hz[i]) : hz[i] / Math.sqrt(hz[1] / hz[0] || 2);
          const hi = i < hz.length - 1 ? Math.sqrt(hz[i] * hz[i + 1]) : hz[i] * Math.sqrt(hz[i] / hz[i - 1] || 2);
          const x0 = fx.toX(lo);
          const x1 = fx.toX(hi);
          const y = dy.toY(db[i]);
          if (x1 - x0 - gap > 0.2) ctx.fillRect(x0, y, x1 - x0 - gap, floor - y);
        }
      } else {
        tracePath(ctx, fx, dy, hz, db);
        ctx.strokeStyle = THEME.trace;
        ctx.lineWidth = 1.5;
        ctx.stroke();
        ctx.lineTo(fx.toX(hz[hz.length - 1]), floor);
        ctx.lineTo(fx.toX(hz[0]), floor);
        ctx.closePath();
        ctx.fillStyle = THEME.traceFill;
        ctx.fill();
      }
      // peak hold
      tracePath(ctx, fx, dy, hz, this.#hold.update(db, now));
      ctx.strokeStyle = THEME.peak;
      ctx.lineWidth = 1;
      ctx.stroke();
      ctx.restore();
      this.#holdActiveUntil = now + 4000;
    }

    if (this.#cutoff !== null && this.#cutoff >= 20 && this.#cutoff <= fMax) {
      const x = Math.round(fx.toX(this.#cutoff)) + 0.5;
      ctx.save();
      ctx.setLineDash([4, 3]);
      ctx.strokeStyle = THEME.cutoff;
      ctx.beginPath();
      ctx.moveTo(x, M.top);
      ctx.lineTo(x, h - M.bottom);
      ctx.stroke();
      ctx.restore();
    }
  }

  #grid(ctx: CanvasRenderingContext2D, w: number, h: number, dpr: number, fx: LogFreqScale, dy: DbScale): void {
    const px = 1 / dpr;
    ctx.font = THEME.font;
    ctx.lineWidth = px;
    ctx.textBaseline = "middle";
    ctx.textAlign = "right";
    for (const d of dbTicks(dy.dbMin, dy.dbMax, 10)) {
      const y = Math.round(dy.toY(d)) + 0.5 * px;
      ctx.strokeStyle = d % 20 === 0 ? THEME.gridStrong : THEME.grid;
      ctx.beginPath();
      ctx.moveTo(M.left, y);
      ctx.lineTo(w - M.right, y);
      ctx.stroke();
      if (d % 20 === 0) {
        ctx.fillStyle = THEME.axis;
        ctx.fillText(`${d}`, M.left - 6, y);
      }
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const ticks = freqTicks(fx.fMin, fx.fMax);
    const narrow = w < 420;
    for (const f of ticks) {
      const x = Math.round(fx.toX(f)) + 0.5 * px;
      ctx.strokeStyle = THEME.grid;
      ctx.beginPath();
      ctx.moveTo(x, M.top);
      ctx.lineTo(x, h - M.bottom);
      ctx.stroke();
      const major = f === 20 || f === 100 || f === 1000 || f === 10000;
      if (!narrow || major) {
        ctx.fillStyle = THEME.axis;
        ctx.fillText(formatHz(f), Math.min(Math.max(x, M.left + 8), w - M.right - 10), h - M.bottom + 5);
      }
    }
    ctx.textAlign = "left";
    ctx.fillStyle = THEME.axis;
    ctx.fillText("dB", 6, h - M.bottom + 5);
  }
}
