// render/SpectrogramRenderer.ts - scrolling waterfall of spectrum_db: time to the left, log frequency up.
//
// NOTES: each meter becomes one column written into a fixed-size offscreen
// image used as a ring (no shifting of pixels per meter); a draw copies the
// ring in two slices, oldest first, scaled to the view. Rows map to log
// frequency, each interpolated between the two nearest bands, and levels
// map through a 256-entry colour table. Columns are written as meters
// arrive (subscribe), the view is drawn once per animation frame.
import type { MeterStore } from "../lib/meterStore";
import type { MeterMessage } from "../protocol/types";
import { formatHz, freqTicks, LogFreqScale } from "./scales";
import { spectrumBands } from "./spectrumData";
import { StoreRenderer } from "./StoreRenderer";
import { spectrogramLut, THEME } from "./theme";

const M = { left: 38, right: 10, top: 6, bottom: 6 };
const ROWS = 256;
const COLS = 600;
export const SPECTROGRAM_DB_MIN = -100;
export const SPECTROGRAM_DB_MAX = -10;

/** For each row (top = fMax), the lower band index and the weight of the band above it. */
export function rowBandMap(hz: ArrayLike<number>, rows: number, fMin: number, fMax: number): { idx: Int32Array; frac: Float32Array } {
  const idx = new Int32Array(rows);
  const frac = new Float32Array(rows);
  const n = hz.length;
  const lMin = Math.log10(fMin);
  const span = Math.log10(fMax) - lMin;
  let j = 0;
  for (let r = rows - 1; r >= 0; r--) {
    const f = Math.pow(10, lMin + ((rows - 1 - r + 0.5) / rows) * span);
    while (j < n - 1 && hz[j + 1] < f) j++;
    if (n === 1 || f <= hz[0]) {
      idx[r] = 0;
      frac[r] = 0;
    } else if (j >= n - 1) {
      idx[r] = n - 2;
      frac[r] = 1;
    } else {
      idx[r] = j;
      frac[r] = (Math.log10(f) - Math.log10(hz[j])) / (Math.log10(hz[j + 1]) - Math.log10(hz[j]));
    }
  }
  return { idx, frac };
}

export class SpectrogramRenderer extends StoreRenderer {
  #off: HTMLCanvasElement;
  #offCtx: CanvasRenderingContext2D;
  #col: ImageData;
  #lut = spectrogramLut();
  #head = 0; // next column to write
  #written = 0;
  #map: { idx: Int32Array; frac: Float32Array } | null = null;
  #mapKey = "";
  #rate: number;
  #unsubscribe: () => void;

  constructor(canvas: HTMLCanvasElement, store: MeterStore, sampleRate: number) {
    super(canvas, store);
    this.#rate = sampleRate;
    this.#off = document.createElement("canvas");
    this.#off.width = COLS;
    this.#off.height = ROWS;
    this.#offCtx = this.#off.getContext("2d", { alpha: false })!;
    this.#offCtx.fillStyle = `rgb(${this.#lut[0]},${this.#lut[1]},${this.#lut[2]})`;
    this.#offCtx.fillRect(0, 0, COLS, ROWS);
    this.#col = this.#offCtx.createImageData(1, ROWS);
    this.#unsubscribe = store.subscribe((m) => this.#push(m));
  }

  setSampleRate(rate: number): void {
    this.#rate = rate;
    this.#mapKey = "";
  }

  #push(m: MeterMessage): void {
    const bands = spectrumBands(m, this.store.ready, this.#rate);
    if (!bands) return;
    const { db, hz } = bands;
    const fMax = Math.min(20000, this.#rate / 2);
    const key = `${hz.length}:${hz[0]}:${hz[hz.length - 1]}:${fMax}`;
    if (key !== this.#mapKey) {
      this.#map = rowBandMap(hz, ROWS, 20, fMax);
      this.#mapKey = key;
    }
    const { idx, frac } = this.#map!;
    const px = this.#col.data;
    const lut = this.#lut;
    const scale = 255 / (SPECTROGRAM_DB_MAX - SPECTROGRAM_DB_MIN);
    for (let r = 0; r < ROWS; r++) {
      const i = idx[r];
      const a = db[i];
      const b = db[Math.min(i + 1, db.length - 1)];
      const t = frac[r];
      const v = Number.isFinite(a) && Number.isFinite(b) ? a + (b - a) * t : Math.max(a, b);
      const k = Math.max(0, Math.min(255, Math.round((v - SPECTROGRAM_DB_MIN) * scale))) * 4 || 0;
      px[r * 4] = lut[k];
      px[r * 4 + 1] = lut[k + 1];
      px[r * 4 + 2] = lut[k + 2];
      px[r * 4 + 3] = 255;
    }
    this.#offCtx.putImageData(this.#col, this.#head, 0);
    this.#head = (this.#head + 1) % COLS;
    this.#written++;
    this.invalidate();
  }

  /** Only a new column (invalidate() in #push) or a resize redraws, not every store version. */
  protected override changed(): boolean {
    return false;
  }

  protected paint(ctx: CanvasRenderingContext2D, w: number, h: number, dpr: number): void {
    ctx.fillStyle = THEME.plot;
    ctx.fillRect(0, 0, w, h);
    const x0 = M.left;
    const pw = w - M.left - M.right;
    const ph = h - M.top - M.bottom;
    ctx.imageSmoothingEnabled = true;
    // oldest part: columns head..COLS-1, then 0..head-1
    const olderW = COLS - this.#head;
    const split = (olderW / COLS) * pw;
    ctx.drawImage(this.#off, this.#head, 0, olderW, ROWS, x0, M.top, split, ph);
    if (this.#head > 0) ctx.drawImage(this.#off, 0, 0, this.#head, ROWS, x0 + split, M.top, pw - split, ph);
    // frequency axis
    const fMax = Math.min(20000, this.#rate / 2);
    const fy = new LogFreqScale(20, fMax, h - M.bottom, M.top);
    ctx.font = THEME.font;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    ctx.lineWidth = 1 / dpr;
    // decades first, then the 2s and 5s where there is room
    const placed: number[] = [];
    const ticks = freqTicks(20, fMax).sort((a, b) => Number(!/^10*$/.test(String(a / 10))) - Number(!/^10*$/.test(String(b / 10))));
    for (const f of ticks) {
      const y = Math.round(fy.toX(f)) + 0.5 / dpr;
      if (placed.some((p) => Math.abs(p - y) < 16)) continue;
      placed.push(y);
      ctx.strokeStyle = "rgba(255,255,255,0.08)";
      ctx.beginPath();
      ctx.moveTo(x0, y);
      ctx.lineTo(w - M.right, y);
      ctx.stroke();
      ctx.fillStyle = THEME.axis;
      ctx.fillText(formatHz(f), x0 - 6, Math.min(Math.max(y, M.top + 6), h - M.bottom - 6));
    }
  }

  dispose(): void {
    this.#unsubscribe();
  }
}
