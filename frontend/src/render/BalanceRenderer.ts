// render/BalanceRenderer.ts - stereo balance needle and phase-correlation bar.
//
// NOTES: balance is the meter's `panning`, (R - L) / (R + L) of the channels'
// RMS, so -1 is hard left. Correlation +1 is mono, 0 unrelated channels, -1
// out of phase (a warning for mono compatibility: drawn red below zero).
import type { MeterStore } from "../lib/meterStore";
import { StoreRenderer } from "./StoreRenderer";
import { THEME } from "./theme";

/** x of a value in -1..1 across [x0, x1], clamped. */
export function bipolarX(v: number, x0: number, x1: number): number {
  const c = Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0;
  return x0 + ((c + 1) / 2) * (x1 - x0);
}

export class BalanceRenderer extends StoreRenderer {
  constructor(canvas: HTMLCanvasElement, store: MeterStore) {
    super(canvas, store, 20);
  }

  protected paint(ctx: CanvasRenderingContext2D, w: number, h: number): void {
    ctx.fillStyle = THEME.bg;
    ctx.fillRect(0, 0, w, h);
    const m = this.store.meter;
    const x0 = 14;
    const x1 = w - 14;
    const rowH = (h - 8) / 2;
    this.#track(ctx, w, 4, rowH, "L", "C", "R");
    this.#track(ctx, w, 4 + rowH, rowH, "-1", "0", "+1");
    if (m) {
      // balance needle
      const bx = bipolarX(m.panning, x0, x1);
      ctx.fillStyle = THEME.trace;
      ctx.fillRect(bx - 1.5, 4 + 6, 3, rowH - 22);
      // correlation bar from 0
      if (m.correlation !== undefined) {
        const cx = bipolarX(m.correlation, x0, x1);
        const mid = (x0 + x1) / 2;
        ctx.fillStyle = m.correlation < 0 ? THEME.red : THEME.green;
        ctx.fillRect(Math.min(mid, cx), 4 + rowH + 8, Math.abs(cx - mid), rowH - 26);
      }
    }
  }

  #track(ctx: CanvasRenderingContext2D, w: number, y: number, hgt: number, left: string, mid: string, right: string): void {
    const x0 = 14;
    const x1 = w - 14;
    const cx = (x0 + x1) / 2;
    ctx.fillStyle = THEME.meterBg;
    ctx.fillRect(x0, y + 6, x1 - x0, hgt - 22);
    ctx.fillStyle = THEME.gridStrong;
    ctx.fillRect(cx - 0.5, y + 2, 1, hgt - 14);
    for (const f of [0.25, 0.75]) ctx.fillRect(x0 + f * (x1 - x0) - 0.5, y + 6, 1, hgt - 22);
    ctx.font = THEME.font;
    ctx.fillStyle = THEME.axis;
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    ctx.fillText(left, x0, y + hgt - 14);
    ctx.textAlign = "center";
    ctx.fillText(mid, cx, y + hgt - 14);
    ctx.textAlign = "right";
    ctx.fillText(right, x1, y + hgt - 14);
  }
}
