import { describe, expect, it } from "vitest";
import { base64url, isValidSessionId, newSessionId, tabSessionId } from "./sessionId";

describe("session id", () => {
  it("is 22 URL-safe characters made from 16 random bytes", () => {
    let asked = 0;
    const id = newSessionId((a) => {
      asked = a.length;
      return a.fill(0xff);
    });
    expect(asked).toBe(16);
    expect(id).toBe("_____________________w");
    expect(isValidSessionId(id)).toBe(true);
  });

  it("encodes base64url without padding", () => {
    expect(base64url(new Uint8Array([0xfb, 0xff]))).toBe("-_8");
    expect(base64url(new TextEncoder().encode("Man"))).toBe("TWFu");
    expect(base64url(new TextEncoder().encode("Ma"))).toBe("TWE");
  });

  it("differs between calls with the real random source", () => {
    const ids = new Set(Array.from({ length: 50 }, () => newSessionId()));
    expect(ids.size).toBe(50);
  });

  it("is kept for the tab: the stored id is reused, a bad one replaced", () => {
    const m = new Map<string, string>();
    const storage = { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
    const a = tabSessionId(storage);
    expect(tabSessionId(storage)).toBe(a);
    m.set("pycoustics.session_id", "../etc/passwd");
    const b = tabSessionId(storage);
    expect(b).not.toBe("../etc/passwd");
    expect(isValidSessionId(b)).toBe(true);
  });
});
