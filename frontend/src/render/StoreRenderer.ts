// render/StoreRenderer.ts - base of the canvas renderers that draw from the meter store.
//
// NOTES: owns what every view repeats: the canvas and its 2d context, the
// size in CSS pixels and the pixel ratio, and the decision whether a frame
// needs drawing. draw() paints only after a resize, an invalidate(), or a
// change reported by changed() (by default: the store's version moved), and
// never into a view smaller than minSize in either direction. A renderer
// that redraws for other reasons (a falling peak hold, columns pushed by a
// subscription) overrides changed() or calls invalidate().
import type { MeterStore } from "../lib/meterStore";
import { fitCanvas, type Renderer } from "./RenderLoop";

export abstract class StoreRenderer implements Renderer {
  #canvas: HTMLCanvasElement;
  #ctx: CanvasRenderingContext2D;
  #store: MeterStore;
  #minSize: number;
  #w = 0;
  #h = 0;
  #dpr = 1;
  #version = -1;
  #dirty = true;

  constructor(canvas: HTMLCanvasElement, store: MeterStore, minSize = 10) {
    this.#canvas = canvas;
    this.#ctx = canvas.getContext("2d", { alpha: false })!;
    this.#store = store;
    this.#minSize = minSize;
  }

  protected get store(): MeterStore {
    return this.#store;
  }

  /** Makes the next draw() paint. */
  protected invalidate(): void {
    this.#dirty = true;
  }

  /** True if the view shows something new besides a resize or an invalidate(): by default, a new store version. */
  protected changed(_now: number): boolean {
    return this.#store.version !== this.#version;
  }

  /** Draws the whole view, w x h CSS pixels at pixel ratio dpr. */
  protected abstract paint(ctx: CanvasRenderingContext2D, w: number, h: number, dpr: number, now: number): void;

  resize(w: number, h: number, dpr: number): void {
    this.#w = w;
    this.#h = h;
    this.#dpr = dpr;
    fitCanvas(this.#canvas, this.#ctx, w, h, dpr);
    this.#dirty = true;
  }

  draw(now: number): void {
    if (!this.#dirty && !this.changed(now)) return;
    this.#version = this.#store.version;
    this.#dirty = false;
    if (this.#w < this.#minSize || this.#h < this.#minSize) return;
    this.paint(this.#ctx, this.#w, this.#h, this.#dpr, now);
  }
}
