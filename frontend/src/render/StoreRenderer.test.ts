import { describe, expect, it } from "vitest";
import { MeterStore } from "../lib/meterStore";
import { StoreRenderer } from "./StoreRenderer";

const fakeCanvas = () => ({ width: 0, height: 0, getContext: () => ({ setTransform() {} }) }) as unknown as HTMLCanvasElement;

class Probe extends StoreRenderer {
  painted: number[][] = [];
  until = 0;
  protected paint(_ctx: CanvasRenderingContext2D, w: number, h: number, dpr: number, now: number): void {
    this.painted.push([w, h, dpr, now]);
  }
  protected override changed(now: number): boolean {
    return super.changed(now) || now <= this.until;
  }
  poke(): void {
    this.invalidate();
  }
}

describe("store renderer", () => {
  it("paints after a resize, a new store version or an invalidate, once each", () => {
    const store = new MeterStore();
    const r = new Probe(fakeCanvas(), store);
    r.resize(200, 100, 2);
    r.draw(1);
    r.draw(2);
    expect(r.painted).toEqual([[200, 100, 2, 1]]);
    store.version++;
    r.draw(3);
    r.draw(4);
    r.poke();
    r.draw(5);
    r.resize(300, 100, 1);
    r.draw(6);
    r.draw(7);
    expect(r.painted.map((p) => p[3])).toEqual([1, 3, 5, 6]);
  });

  it("keeps drawing while changed() says so", () => {
    const r = new Probe(fakeCanvas(), new MeterStore());
    r.resize(200, 100, 1);
    r.until = 3;
    for (let t = 1; t <= 5; t++) r.draw(t);
    expect(r.painted.map((p) => p[3])).toEqual([1, 2, 3]);
  });

  it("skips views smaller than the minimum size", () => {
    const r = new Probe(fakeCanvas(), new MeterStore());
    r.resize(9, 100, 1);
    r.draw(1);
    expect(r.painted).toEqual([]);
    r.resize(10, 10, 1);
    r.draw(2);
    expect(r.painted.length).toBe(1);
  });
});
