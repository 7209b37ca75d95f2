// hooks/useSampled.ts - a value read from a mutable source a few times a second.
//
// NOTES: for the numbers shown as text (levels, rate, latency): reading them
// at 4-10 Hz is what a person can follow, and it re-renders only the small
// component that shows them.
import { useEffect, useRef, useState } from "react";

export function useSampled<T>(read: () => T, intervalMs = 250, equal: (a: T, b: T) => boolean = Object.is): T {
  const readRef = useRef(read);
  readRef.current = read;
  const [value, setValue] = useState<T>(() => read());
  useEffect(() => {
    const id = setInterval(() => {
      const v = readRef.current();
      setValue((old) => (equal(old, v) ? old : v));
    }, intervalMs);
    return () => clearInterval(id);
  }, [intervalMs, equal]);
  return value;
}
