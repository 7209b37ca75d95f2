// lib/api.ts - the HTTP API of DESIGN.md: list, fetch and delete a session's recordings.
//
// NOTES: errors carry the server's `detail` text so the page can show it;
// a network failure becomes a plain "cannot reach" message. The response of
// the list is validated row by row: a malformed row is skipped, not fatal.
import type { Recording } from "../protocol/types";

export class ApiError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

type Fetch = typeof fetch;

async function request(fetchFn: Fetch, url: string, init?: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetchFn(url, init);
  } catch (e) {
    if ((e as Error)?.name === "AbortError") throw e;
    throw new ApiError("Cannot reach the server.", 0);
  }
  if (!res.ok) {
    let detail = `${res.status} ${res.statusText}`.trim();
    try {
      const j = await res.json();
      if (j && typeof j.detail === "string") detail = j.detail;
    } catch {
      /* not JSON */
    }
    throw new ApiError(detail, res.status);
  }
  return res;
}

export function parseRecordings(v: unknown): Recording[] {
  if (!Array.isArray(v)) throw new ApiError("The server sent an unexpected recordings list.", 200);
  const out: Recording[] = [];
  for (const r of v) {
    if (!r || typeof r !== "object") continue;
    const o = r as Record<string, unknown>;
    if (typeof o.filename !== "string" || !o.filename) continue;
    out.push({
      id: typeof o.id === "number" ? o.id : 0,
      filename: o.filename,
      duration_seconds: typeof o.duration_seconds === "number" ? o.duration_seconds : 0,
      timestamp: typeof o.timestamp === "string" ? o.timestamp : "",
      session_id: typeof o.session_id === "string" ? o.session_id : "",
      settings: o.settings,
      channels: typeof o.channels === "number" ? o.channels : undefined,
      sample_rate: typeof o.sample_rate === "number" ? o.sample_rate : undefined,
      size_bytes: typeof o.size_bytes === "number" ? o.size_bytes : undefined,
      state: typeof o.state === "string" ? o.state : undefined,
    });
  }
  return out;
}

export async function listRecordings(
  apiBase: string,
  sessionId: string,
  opts: { skip?: number; limit?: number; signal?: AbortSignal; fetchFn?: Fetch } = {},
): Promise<Recording[]> {
  const q = new URLSearchParams({ session_id: sessionId, skip: String(opts.skip ?? 0), limit: String(opts.limit ?? 100) });
  const res = await request(opts.fetchFn ?? fetch, `${apiBase}/recordings?${q}`, { signal: opts.signal, headers: { Accept: "application/json" } });
  return parseRecordings(await res.json());
}

export async function deleteRecording(apiBase: string, filename: string, fetchFn: Fetch = fetch): Promise<void> {
  await request(fetchFn, recordingUrl(apiBase, filename), { method: "DELETE" });
}

export function recordingUrl(apiBase: string, filename: string): string {
  return `${apiBase}/recordings/${encodeURIComponent(filename)}`;
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined) return "—";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "—";
  const m = Math.floor(s / 60);
  const sec = s - m * 60;
  return `${m}:${sec < 10 ? "0" : ""}${sec.toFixed(1)}`;
}
