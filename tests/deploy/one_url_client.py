#!/usr/bin/python3
"""one_url_client.py - a client set up the earlier way: one base URL for the
HTTP API and the WebSocket.

The earlier system served everything on one port, and its frontend was
configured with API_URL=https://api.example.com and WS_URL=wss://api.example.com:
one host. This client takes that one base URL (http:// or https://), derives
the WebSocket's ws:// or wss:// from it, and does what the dashboard does:
streams a tone and gets meters, records, lists the session's recordings,
downloads the WAV (checked), deletes it and sees it gone.

Usage: one_url_client.py BASE_URL [ORIGIN]   (exit 0 if every step passed)
As a module: run(base_url, origin, res) with a pycsys.Results.
"""
import asyncio
import json
import math
import os
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycsys  # noqa: E402

RATE = 48000
CHUNK = 960  # 20 ms


def ws_url(base):
    """ws(s)://host[:port] from http(s)://host[:port][/path]: the same host and port."""
    u = urllib.parse.urlsplit(base)
    scheme = {"http": "ws", "https": "wss"}.get(u.scheme, u.scheme)
    return urllib.parse.urlunsplit((scheme, u.netloc, u.path.rstrip("/"), "", ""))


def tone(frames, t0=0, freq=1000.0, amp=0.5):
    out = bytearray()
    for i in range(frames):
        v = int(round(amp * 32767 * math.sin(2 * math.pi * freq * (t0 + i) / RATE)))
        out += struct.pack("<hh", v, v)
    return bytes(out)


def request(method, url, origin, timeout=10):
    req = urllib.request.Request(url, method=method, headers={"Origin": origin} if origin else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


async def next_of(ws, want, timeout=10.0):
    """The next JSON message of type want (bounded); None if none came."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            raw = await asyncio.wait_for(ws.recv(), max(0.05, end - time.monotonic()))
        except asyncio.TimeoutError:
            break
        if isinstance(raw, bytes):
            continue
        m = json.loads(raw)
        if m.get("type") == want:
            return m
        if m.get("type") == "error":
            print(f"server error: {m}", flush=True)
    return None


async def session(base, origin, sid, res):
    url = f"{ws_url(base)}/ws/audio?session_id={sid}"
    print(f"one base URL {base}: WebSocket {url}", flush=True)
    kw = {"origin": origin} if origin else {}
    async with websockets.connect(url, open_timeout=10, max_size=2 ** 22, **kw) as ws:
        await ws.send(json.dumps({"action": "init", "sample_rate": RATE, "channels": 2}))
        res.check("WebSocket on the base URL's host and port: ready after init",
                  await next_of(ws, "ready") is not None)
        await ws.send(json.dumps({"action": "start_record"}))
        meter = None
        t = 0
        start = time.monotonic()
        for k in range(75):  # 1.5 s of audio at real-time pace
            await ws.send(tone(CHUNK, t))
            t += CHUNK
            await asyncio.sleep(max(0.0, start + (k + 1) * CHUNK / RATE - time.monotonic()))
        meter = await next_of(ws, "meter")
        res.check("audio streamed: a meter with the tone's level (-9 dBFS)",
                  meter is not None and abs(meter.get("rms", 0) - (-9.03)) < 0.5, str(meter)[:160])
        await ws.send(json.dumps({"action": "stop_record"}))
        saved = await next_of(ws, "recording_saved", 15)
        res.check("recorded: recording_saved after stop_record", saved is not None, str(saved))
        return saved


def run(base, origin, res):
    base = base.rstrip("/")
    sid = f"oneurl-{os.getpid()}-{int(time.time() * 1000) % 100000000}"
    st, _, body = request("GET", f"{base}/health", origin)
    res.check("HTTP on the base URL: /health answers", st in (200, 503), f"{st} {body[:120]!r}")
    saved = asyncio.run(asyncio.wait_for(session(base, origin, sid, res), 60))
    if not saved:
        return
    name = saved.get("filename", "")
    st, _, body = request("GET", f"{base}/recordings?session_id={sid}", origin)
    listed = json.loads(body) if st == 200 else []
    res.check("listed: the session's one recording", st == 200 and [r.get("filename") for r in listed]
              == [name], f"{st} {body[:200]!r}")
    st, hdr, wav = request("GET", f"{base}/recordings/{name}", origin)
    ok = st == 200 and wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    frames = (len(wav) - 44) // 4 if ok else 0
    res.check("downloaded: a WAV of about 1.5 s, 48 kHz stereo",
              ok and struct.unpack("<I", wav[24:28])[0] == RATE and 1.0 * RATE <= frames <= 2.0 * RATE,
              f"{st} {len(wav)} bytes")
    st, _, body = request("DELETE", f"{base}/recordings/{name}", origin)
    res.check("deleted", st == 200 and json.loads(body).get("filename") == name, f"{st} {body[:120]!r}")
    st, _, body = request("GET", f"{base}/recordings?session_id={sid}", origin)
    res.check("... and no longer listed nor downloadable",
              st == 200 and json.loads(body) == [] and
              request("GET", f"{base}/recordings/{name}", origin)[0] == 404, f"{st} {body[:120]!r}")


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    res = pycsys.Results()
    try:
        run(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else None, res)
    except Exception as e:  # a failure anywhere is a failed check
        res.check("no exception", False, repr(e))
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
