// render/RenderLoop.ts - one requestAnimationFrame loop for every canvas view.
//
// NOTES: data arrives at the meter rate, the screen refreshes at its own;
// each renderer draws at most once per animation frame from the newest data
// and skips the frame when nothing changed (Foxglove's PlotCoordinator
// debounces the same way). The loop runs only while a view is mounted, and
// the browser pauses it in a hidden tab.

export interface Renderer {
  /** Size of the drawing area in CSS pixels and the device pixel ratio. */
  resize(width: number, height: number, dpr: number): void;
  /** Draws if something changed since the last call. */
  draw(now: number): void;
  dispose?(): void;
}

export class RenderLoop {
  static readonly shared = new RenderLoop();
  #renderers = new Set<Renderer>();
  #raf = 0;

  add(r: Renderer): void {
    this.#renderers.add(r);
    if (!this.#raf && typeof requestAnimationFrame === "function") this.#raf = requestAnimationFrame(this.#frame);
  }

  remove(r: Renderer): void {
    this.#renderers.delete(r);
    if (this.#renderers.size === 0 && this.#raf) {
      cancelAnimationFrame(this.#raf);
      this.#raf = 0;
    }
  }

  #frame = (now: number): void => {
    for (const r of this.#renderers) {
      try {
        r.draw(now);
      } catch (e) {
        console.error("render failed", e);
      }
    }
    this.#raf = this.#renderers.size ? requestAnimationFrame(this.#frame) : 0;
  };
}

/** Sizes a canvas's backing store for the device pixel ratio and scales its context to CSS pixels. */
export function fitCanvas(canvas: HTMLCanvasElement, ctx: CanvasRenderingContext2D, w: number, h: number, dpr: number): void {
  const bw = Math.max(1, Math.round(w * dpr));
  const bh = Math.max(1, Math.round(h * dpr));
  if (canvas.width !== bw) canvas.width = bw;
  if (canvas.height !== bh) canvas.height = bh;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
}
