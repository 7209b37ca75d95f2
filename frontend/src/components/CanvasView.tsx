// components/CanvasView.tsx - a canvas that fills its container, sized for the screen's pixel ratio, drawn by a Renderer.
//
// NOTES: creates the renderer, the ResizeObserver and the render-loop
// registration in one effect and undoes all three in its cleanup (Foxglove
// Plot.tsx). A change of pixel ratio (window moved to another screen,
// browser zoom) re-sizes the backing store too.
import { useEffect, useRef } from "react";
import { RenderLoop, type Renderer } from "../render/RenderLoop";

interface Props<R extends Renderer> {
  create: (canvas: HTMLCanvasElement) => R;
  onReady?: (r: R | null) => void;
  label: string;
  className?: string;
  testId?: string;
}

export function CanvasView<R extends Renderer>({ create, onReady, label, className, testId }: Props<R>) {
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const createRef = useRef(create);
  const readyRef = useRef(onReady);
  readyRef.current = onReady;

  useEffect(() => {
    const box = boxRef.current!;
    const canvas = canvasRef.current!;
    const r = createRef.current(canvas);
    let last = { w: 0, h: 0, dpr: 0 };
    const fit = () => {
      const rect = box.getBoundingClientRect();
      const dpr = window.devicePixelRatio || 1;
      const w = Math.floor(rect.width);
      const h = Math.floor(rect.height);
      if (w === last.w && h === last.h && dpr === last.dpr) return;
      last = { w, h, dpr };
      canvas.style.width = `${w}px`;
      canvas.style.height = `${h}px`;
      r.resize(w, h, dpr);
    };
    const ro = new ResizeObserver(fit);
    ro.observe(box);
    let mq: MediaQueryList | null = null;
    const onDpr = () => {
      fit();
      mq?.removeEventListener("change", onDpr);
      mq = window.matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`);
      mq.addEventListener("change", onDpr);
    };
    onDpr();
    RenderLoop.shared.add(r);
    readyRef.current?.(r);
    return () => {
      readyRef.current?.(null);
      RenderLoop.shared.remove(r);
      ro.disconnect();
      mq?.removeEventListener("change", onDpr);
      r.dispose?.();
    };
  }, []);

  return (
    <div ref={boxRef} className={`canvas-box ${className ?? ""}`} data-testid={testId}>
      <canvas ref={canvasRef} role="img" aria-label={label} />
    </div>
  );
}
