import { describe, expect, it } from "vitest";
import { audioSocketUrl, resolveEndpoints } from "./endpoints";

const page = (url: string) => {
  const u = new URL(url);
  return { protocol: u.protocol, hostname: u.hostname, port: u.port, origin: u.origin };
};

describe("endpoints", () => {
  it("uses the gateway's WebSocket port when the page comes from the local HTTP port (make run)", () => {
    expect(resolveEndpoints({}, page("http://localhost:8000/"))).toEqual({
      apiBase: "http://localhost:8000",
      wsBase: "ws://localhost:8001",
    });
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

  it("uses wss for a page served over https on the local port", () => {
    expect(resolveEndpoints({}, page("https://box.lan:8000/")).wsBase).toBe("wss://box.lan:8001");
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
    expect(resolveEndpoints({ VITE_WS_URL: "http://10.0.0.2:8001" }, page("http://a/")).wsBase).toBe("ws://10.0.0.2:8001");
  });

  it("treats empty settings as unset", () => {
    expect(resolveEndpoints({ VITE_API_URL: " ", VITE_WS_URL: "" }, page("http://127.0.0.1:8000/"))).toEqual({
      apiBase: "http://127.0.0.1:8000",
      wsBase: "ws://127.0.0.1:8001",
    });
  });

  it("brackets an IPv6 host", () => {
    expect(resolveEndpoints({}, page("http://[::1]:8000/")).wsBase).toBe("ws://[::1]:8001");
  });

  it("builds the audio socket URL with the session id", () => {
    expect(audioSocketUrl("ws://h:8001", "abc_-1")).toBe("ws://h:8001/ws/audio?session_id=abc_-1");
  });
});
