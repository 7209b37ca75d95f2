// render/theme.ts - colours and fonts of the canvas views, matching styles.css.
export const THEME = {
  bg: "#0d1117",
  plot: "#0f141b",
  grid: "#1f2733",
  gridStrong: "#2b3544",
  axis: "#8b96a8",
  text: "#c9d1dc",
  trace: "#2dd4bf",
  traceFill: "rgba(45, 212, 191, 0.22)",
  peak: "#fbbf24",
  wave: "#60a5fa",
  waveFill: "rgba(96, 165, 250, 0.35)",
  cutoff: "#f472b6",
  green: "#22c55e",
  yellow: "#eab308",
  red: "#ef4444",
  meterBg: "#151b24",
  font: '11px "JetBrains Mono", ui-monospace, monospace',
} as const;

/** 256-entry colour map for the spectrogram (dark blue -> violet -> orange -> pale yellow). */
export function spectrogramLut(): Uint8ClampedArray {
  const stops: [number, number, number, number][] = [
    [0.0, 8, 10, 18],
    [0.18, 24, 20, 70],
    [0.38, 90, 24, 120],
    [0.58, 190, 50, 90],
    [0.78, 245, 130, 40],
    [1.0, 252, 245, 180],
  ];
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let k = 0;
    while (k < stops.length - 2 && t > stops[k + 1][0]) k++;
    const [t0, r0, g0, b0] = stops[k];
    const [t1, r1, g1, b1] = stops[k + 1];
    const u = (t - t0) / (t1 - t0);
    lut[i * 4] = r0 + (r1 - r0) * u;
    lut[i * 4 + 1] = g0 + (g1 - g0) * u;
    lut[i * 4 + 2] = b0 + (b1 - b0) * u;
    lut[i * 4 + 3] = 255;
  }
  return lut;
}
