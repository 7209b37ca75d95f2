// render/WaveformRenderer.ts - oscilloscope of the latest audio as a min/max envelope.
//
// NOTES: the server sends `waveform` as min/max pairs (min0, max0, min1,
// max1 ...) of the newest block. Each pixel column takes the extremes of the
// pairs that fall into it, so the envelope never hides a peak however many
// points arrive; a column narrower than one pair draws at least 1 px.
import { StoreRenderer } from "./StoreRenderer";
import { THEME } from "./theme";

const M = { left: 38, right: 10, top: 8, bottom: 8 };

/** Reduces min/max pairs to `columns` columns: [min, max] per column, interleaved. */
export function envelopeColumns(pairs: ArrayLike<number>, columns: number): Float32Array {
  const n = Math.floor(pairs.length / 2);
  const out = new Float32Array(columns * 2);
  if (n === 0 || columns <= 0) return out;
  for (let x = 0; x < columns; x++) {
    const a = Math.floor((x * n) / columns);
    const b = Math.max(a + 1, Math.floor(((x + 1) * n) / columns));
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = a; i < b && i < n; i++) {
      const mn = pairs[2 * i];
      const mx = pairs[2 * i + 1];
      if (mn < lo) lo = mn;
      if (mx > hi) hi = mx;
    }
    out[2 * x] = Math.max(-1, lo);
    out[2 * x + 1] = Math.min(1, hi);
  }
  return out;
}

export class WaveformRenderer extends StoreRenderer {
  protected paint(ctx: CanvasRenderingContext2D, w: number, h: number, dpr: number): void {
    const top = M.top;
    const bottom = h - M.bottom;
    const mid = (top + bottom) / 2;
    const half = (bottom - top) / 2;
    const px = 1 / dpr;
    ctx.fillStyle = THEME.plot;
    ctx.fillRect(0, 0, w, h);
    ctx.lineWidth = px;
    ctx.font = THEME.font;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const [v, label] of [[1, "+1"], [0.5, ""], [0, "0"], [-0.5, ""], [-1, "-1"]] as const) {
      const y = Math.round(mid - v * half) + 0.5 * px;
      ctx.strokeStyle = v === 0 ? THEME.gridStrong : THEME.grid;
      ctx.beginPath();
      ctx.moveTo(M.left, y);
      ctx.lineTo(w - M.right, y);
      ctx.stroke();
      if (label) {
        ctx.fillStyle = THEME.axis;
        ctx.fillText(label, M.left - 6, y);
      }
    }
    const wf = this.store.meter?.waveform;
    if (!wf || wf.length < 2) return;
    const cols = Math.max(1, Math.floor((w - M.left - M.right) * dpr));
    const env = envelopeColumns(wf, cols);
    ctx.fillStyle = THEME.wave;
    const colW = (w - M.left - M.right) / cols;
    let pLo = env[0];
    let pHi = env[1];
    for (let x = 0; x < cols; x++) {
      // join each column to the previous one so the trace stays continuous
      const lo = env[2 * x];
      const hi = env[2 * x + 1];
      const y0 = mid - Math.max(hi, pLo) * half;
      const y1 = mid - Math.min(lo, pHi) * half;
      pLo = lo;
      pHi = hi;
      ctx.fillRect(M.left + x * colW, y0, Math.max(colW, px), Math.max(y1 - y0, px));
    }
  }
}
