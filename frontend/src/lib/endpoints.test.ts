import { describe, expect, it } from "vitest";
import { audioSocketUrl, resolveEndpoints } from "./endpoints";

const page = (url: string) => {
  const u = new URL(url);
  return { protocol: u.protocol, hostname: u.hostname, port: u.port, origin: u.origin };
};

describe("endpoints", () => {
  it("uses the page's own port for the WebSocket when the gateway serves the page (make run)", () => {
    expect(resolveEndpoints({}, page("http://localhost:8000/"))).toEqual({
      apiBase: "http://localhost:8000",
      wsBase: "ws://localhost:8000",
    });
  });

  it("special-cases no port: any BACKEND_PORT keeps the page's port", () => {
    for (const port of ["18800", "8001", "9000", "3000"]) {
      expect(resolveEndpoints({}, page(`http://box.lan:${port}/`)).wsBase).toBe(`ws://box.lan:${port}`);
    }
  });

  it("stays on the page's origin behind the nginx proxy", () => {
    expect(resolveEndpoints({}, page("http://localhost:3000/"))).toEqual({
      apiBase: "http://localhost:3000",
      wsBase: "ws://localhost:3000",
    });
    expect(resolveEndpoints({}, page("https://audio.example.org/"))).toEqual({
      apiBase: "https://audio.example.org",
      wsBase: "wss://audio.example.org",
    });
  });

  it("uses wss for a page served over https", () => {
    expect(resolveEndpoints({}, page("https://box.lan:8000/")).wsBase).toBe("wss://box.lan:8000");
  });

  it("takes one host for both as the earlier deployment instructions set it", () => {
    expect(
      resolveEndpoints(
        { VITE_API_URL: "https://api.example.com", VITE_WS_URL: "wss://api.example.com" },
        page("https://app.example.com/"),
      ),
    ).toEqual({ apiBase: "https://api.example.com", wsBase: "wss://api.example.com" });
  });

  it("takes the build-time URLs for split domains, without trailing slashes", () => {
    expect(
      resolveEndpoints(
        { VITE_API_URL: "https://api.example.org/", VITE_WS_URL: "wss://ws.example.org/" },
        page("https://app.example.org/"),
      ),
    ).toEqual({ apiBase: "https://api.example.org", wsBase: "wss://ws.example.org" });
  });

  it("accepts an http(s) URL for the WebSocket base and converts the scheme", () => {
    expect(resolveEndpoints({ VITE_WS_URL: "https://ws.example.org" }, page("https://a.example.org/")).wsBase).toBe(
      "wss://ws.example.org",
    );
    expect(resolveEndpoints({ VITE_WS_URL: "http://10.0.0.2:8000" }, page("http://a/")).wsBase).toBe("ws://10.0.0.2:8000");
  });

  it("treats empty settings as unset", () => {
    expect(resolveEndpoints({ VITE_API_URL: " ", VITE_WS_URL: "" }, page("http://127.0.0.1:8000/"))).toEqual({
      apiBase: "http://127.0.0.1:8000",
      wsBase: "ws://127.0.0.1:8000",
    });
  });

  it("brackets an IPv6 host", () => {
    expect(resolveEndpoints({}, page("http://[::1]:8000/")).wsBase).toBe("ws://[::1]:8000");
  });

  it("builds the audio socket URL with the session id", () => {
    expect(audioSocketUrl("ws://h:8000", "abc_-1")).toBe("ws://h:8000/ws/audio?session_id=abc_-1");
  });
});
