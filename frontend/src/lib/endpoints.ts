// lib/endpoints.ts - where the HTTP API and the WebSocket live, from build-time settings and the page's address.
//
// NOTES: one build must work in three places: behind the docker-compose nginx
// proxy, from `make run` (the gateway serves the page, the API and the
// WebSocket on its one port, BACKEND_PORT, whatever its number), and on
// other domains (VITE_API_URL and VITE_WS_URL set at build time). Without
// VITE_WS_URL the WebSocket is on the page's own host and port; no port is
// special. Pure, so it is unit-tested without a browser.

export interface PageLocation {
  protocol: string; // "http:" | "https:"
  hostname: string;
  port: string; // "" for the scheme's default
  origin: string;
}

export interface Endpoints {
  apiBase: string; // no trailing slash
  wsBase: string; // no trailing slash
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, "");
}

/** A configured WebSocket base may be written http(s)://; the WebSocket wants ws(s)://. */
function toWsScheme(url: string): string {
  return url.replace(/^http(s?):\/\//i, "ws$1://");
}

export function resolveEndpoints(
  env: { VITE_API_URL?: string; VITE_WS_URL?: string },
  loc: PageLocation,
): Endpoints {
  const api = (env.VITE_API_URL ?? "").trim();
  const ws = (env.VITE_WS_URL ?? "").trim();
  const apiBase = api ? trimSlash(api) : trimSlash(loc.origin);
  let wsBase: string;
  if (ws) {
    wsBase = trimSlash(toWsScheme(ws));
  } else {
    const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
    const host = loc.hostname.includes(":") && !loc.hostname.startsWith("[") ? `[${loc.hostname}]` : loc.hostname;
    wsBase = `${scheme}//${host}${loc.port ? `:${loc.port}` : ""}`;
  }
  return { apiBase, wsBase };
}

export function audioSocketUrl(wsBase: string, sessionId: string): string {
  return `${wsBase}/ws/audio?session_id=${encodeURIComponent(sessionId)}`;
}
