// lib/sessionId.ts - the session id: 128 random bits, kept for the tab's life.
//
// NOTES: knowing the id is what gives access to a session's recordings, so
// it comes from crypto.getRandomValues and is written as 22 characters of
// URL-safe base64 without padding, the form the backend generates and
// accepts ([A-Za-z0-9_-]). sessionStorage keeps it across a reload of the
// same tab and never shares it with another tab.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const STORAGE_KEY = "pycoustics.session_id";
const VALID = /^[A-Za-z0-9_-]{1,128}$/;

export function base64url(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63];
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63];
  }
  return out;
}

export function newSessionId(rng: (a: Uint8Array) => Uint8Array = (a) => crypto.getRandomValues(a)): string {
  return base64url(rng(new Uint8Array(16)));
}

export function isValidSessionId(s: string): boolean {
  return VALID.test(s);
}

/** The tab's session id: the stored one if valid, else a new one that is stored. */
export function tabSessionId(storage: Pick<Storage, "getItem" | "setItem"> | undefined = safeSessionStorage()): string {
  const kept = storage?.getItem(STORAGE_KEY);
  if (kept && isValidSessionId(kept)) return kept;
  const id = newSessionId();
  try {
    storage?.setItem(STORAGE_KEY, id);
  } catch {
    /* private mode: the id lives in memory only */
  }
  return id;
}

function safeSessionStorage(): Storage | undefined {
  try {
    return typeof sessionStorage === "undefined" ? undefined : sessionStorage;
  } catch {
    return undefined;
  }
}
