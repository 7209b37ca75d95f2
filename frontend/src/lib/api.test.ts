import { describe, expect, it } from "vitest";
import { ApiError, deleteRecording, formatBytes, formatDuration, listRecordings, parseRecordings, recordingUrl } from "./api";

function fakeFetch(status: number, body: unknown, seen: { url?: string; init?: RequestInit } = {}) {
  return (async (url: string, init?: RequestInit) => {
    seen.url = url;
    seen.init = init;
    return new Response(typeof body === "string" ? body : JSON.stringify(body), { status });
  }) as unknown as typeof fetch;
}

describe("HTTP API", () => {
  it("lists the session's recordings with skip and limit", async () => {
    const seen: { url?: string } = {};
    const rows = [{ id: 1, filename: "rec_a.wav", duration_seconds: 3, timestamp: "2026-01-01T00:00:00Z", session_id: "S", size_bytes: 10 }];
    const list = await listRecordings("http://h:8000", "S 1", { fetchFn: fakeFetch(200, rows, seen) });
    expect(seen.url).toBe("http://h:8000/recordings?session_id=S+1&skip=0&limit=100");
    expect(list[0].filename).toBe("rec_a.wav");
    expect(list[0].size_bytes).toBe(10);
  });

  it("skips malformed rows and rejects a non-list", () => {
    expect(parseRecordings([{ filename: "" }, null, { filename: "ok.wav" }]).map((r) => r.filename)).toEqual(["ok.wav"]);
    expect(() => parseRecordings({ detail: "x" })).toThrow(ApiError);
  });

  it("shows the server's detail on an error", async () => {
    await expect(deleteRecording("http://h", "x.wav", fakeFetch(404, { detail: "Recording not found" }))).rejects.toThrow("Recording not found");
  });

  it("says when the server cannot be reached", async () => {
    const down = (async () => {
      throw new TypeError("fetch failed");
    }) as unknown as typeof fetch;
    await expect(deleteRecording("http://h", "x.wav", down)).rejects.toThrow("Cannot reach the server.");
  });

  it("sends DELETE to the file's URL, escaping the name", async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    await deleteRecording("http://h", "a b.wav", fakeFetch(200, { status: "ok" }, seen));
    expect(seen.url).toBe("http://h/recordings/a%20b.wav");
    expect(seen.init?.method).toBe("DELETE");
    expect(recordingUrl("http://h", "r.wav")).toBe("http://h/recordings/r.wav");
  });

  it("formats sizes and durations", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(2048)).toBe("2.0 KB");
    expect(formatBytes(5 * 1048576)).toBe("5.0 MB");
    expect(formatDuration(3.04)).toBe("0:03.0");
    expect(formatDuration(75.5)).toBe("1:15.5");
  });
});
