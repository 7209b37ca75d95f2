// render/MeterRenderer.ts - VU meters per channel: RMS bar, peak marker, peak hold, dB scale.
//
// NOTES: levels come from the meter's per-channel fields (rms_db, peak_db,
// peak_hold_db); a server that sends only the mono `rms` shows it on both
// bars. The bar colour follows the level (green, amber from -18 dBFS, red
// from -6 dBFS) through a gradient fixed to the scale. The clip light is an
// HTML button beside the canvas, so it is focusable and resettable.
import type { MeterStore } from "../lib/meterStore";
import { StoreRenderer } from "./StoreRenderer";
import { DbScale } from "./scales";
import { THEME } from "./theme";

export const METER_DB_MIN = -60;
export const METER_DB_MAX = 0;
const TICKS = [0, -3, -6, -12, -18, -24, -36, -48, -60];

export interface ChannelLevels {
  rms: number;
  peak: number;
  hold: number;
}

/** Per-channel levels of a meter message, falling back to the mono mix. */
export function channelLevels(m: MeterStore["meter"], c: number): ChannelLevels {
  if (!m) return { rms: -Infinity, peak: -Infinity, hold: -Infinity };
  const rms = m.rms_db?.[c] ?? m.rms;
  const peak = m.peak_db?.[c] ?? rms;
  const hold = m.peak_hold_db?.[c] ?? peak;
  return { rms, peak, hold };
}

export class MeterRenderer extends StoreRenderer {
  protected paint(ctx: CanvasRenderingContext2D, w: number, h: number, dpr: number): void {
    const top = 8;
    const bottom = h - 20;
    const scale = new DbScale(METER_DB_MIN, METER_DB_MAX, top, bottom);
    ctx.fillStyle = THEME.bg;
    ctx.fillRect(0, 0, w, h);

    const labelW = 30;
    const gap = 10;
    const barW = Math.max(8, Math.min(52, (w - labelW - gap * 3) / 2));
    const total = labelW + 2 * barW + gap * 2;
    const x0 = Math.max(0, (w - total) / 2);
    const bars = [x0 + labelW + gap, x0 + labelW + gap * 2 + barW];

    // scale
    ctx.font = THEME.font;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    ctx.lineWidth = 1 / dpr;
    let lastY = -Infinity;
    for (const d of TICKS) {
      const y = Math.round(scale.toY(d)) + 0.5 / dpr;
      if (y - lastY >= 12) {
        ctx.fillStyle = THEME.axis;
        ctx.fillText(`${d}`, x0 + labelW, y);
        lastY = y;
      }
      ctx.strokeStyle = THEME.grid;
      ctx.beginPath();
      ctx.moveTo(bars[0] - 4, y);
      ctx.lineTo(bars[1] + barW + 2, y);
      ctx.stroke();
    }

    const grad = ctx.createLinearGradient(0, bottom, 0, top);
    const g = scale.fraction(-18);
    const r = scale.fraction(-6);
    grad.addColorStop(0, THEME.green);
    grad.addColorStop(Math.max(0, g - 0.02), THEME.green);
    grad.addColorStop(g, THEME.yellow);
    grad.addColorStop(Math.max(g, r - 0.02), THEME.yellow);
    grad.addColorStop(r, THEME.red);
    grad.addColorStop(1, THEME.red);

    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (let c = 0; c < 2; c++) {
      const x = bars[c];
      const lv = channelLevels(this.store.meter, c);
      ctx.fillStyle = THEME.meterBg;
      ctx.fillRect(x, top, barW, bottom - top);
      const y = scale.toY(lv.rms);
      if (y < bottom) {
        ctx.fillStyle = grad;
        ctx.fillRect(x, y, barW, bottom - y);
      }
      // peak (thin) and peak hold (thicker, amber)
      if (lv.peak > METER_DB_MIN) {
        ctx.fillStyle = "rgba(255,255,255,0.85)";
        ctx.fillRect(x, Math.round(scale.toY(lv.peak)) - 1, barW, 1.5);
      }
      if (lv.hold > METER_DB_MIN) {
        ctx.fillStyle = lv.hold >= -0.1 ? THEME.red : THEME.peak;
        ctx.fillRect(x, Math.round(scale.toY(lv.hold)) - 1.5, barW, 3);
      }
      ctx.fillStyle = THEME.text;
      ctx.fillText(c === 0 ? "L" : "R", x + barW / 2, bottom + 5);
    }
  }
}
