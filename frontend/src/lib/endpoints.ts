// lib/endpoints.ts - where the HTTP API and the WebSocket live, from build-time settings and the page's address.
//
// NOTES: one build must work in three places: behind the docker-compose nginx
// proxy (one origin for everything), on split domains (VITE_API_URL and
// VITE_WS_URL set at build time), and from `make run`, where the gateway
// serves the page and the API on BACKEND_PORT (8000) and the WebSocket on
// its own port (8001). Pure, so it is unit-tested without a browser.

export const LOCAL_HTTP_PORT = "8000";
export const LOCAL_WS_PORT = "8001";

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
    if (loc.port === LOCAL_HTTP_PORT) wsBase = `${scheme}//${host}:${LOCAL_WS_PORT}`;
    else wsBase = `${scheme}//${host}${loc.port ? `:${loc.port}` : ""}`;
  }
  return { apiBase, wsBase };
}

export function audioSocketUrl(wsBase: string, sessionId: string): string {
  return `${wsBase}/ws/audio?session_id=${encodeURIComponent(sessionId)}`;
}
