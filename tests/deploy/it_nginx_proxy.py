#!/usr/bin/python3
"""it_nginx_proxy.py - the frontend container's nginx in front of a running gateway.

Starts the real recorder, dsp-worker host and gateway on loopback, renders
deploy/nginx.conf.template with deploy/frontend-entrypoint.sh exactly as the
frontend container does, starts Debian's nginx on a free loopback port, and
checks through it: the built dashboard at / with its index fallback, the
HTTP API routes proxied to the gateway, and a WebSocket session (upgrade,
init, audio, meter) proxied to the same gateway port (its only one); then
a client set up the earlier way, with one base URL (nginx's) for HTTP and
the WebSocket, streams, records, lists, downloads and deletes through it
(one_url_client.py).
Usage: it_nginx_proxy.py BUILD_DIR
"""
import asyncio
import json
import os
import shutil
import struct
import subprocess
import sys
import math

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import one_url_client  # noqa: E402
import pycsys  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DIST = os.path.join(ROOT, "frontend", "dist")


def tone(frames, rate=48000, freq=1000.0, amp=0.5):
    out = bytearray()
    for i in range(frames):
        v = int(round(amp * 32767 * math.sin(2 * math.pi * freq * i / rate)))
        out += struct.pack("<hh", v, v)
    return bytes(out)


async def ws_session(url, origin, res):
    async with websockets.connect(url, origin=origin, open_timeout=5,
                                  max_size=2 ** 22) as ws:
        await ws.send(json.dumps({"action": "init", "sample_rate": 48000, "channels": 2}))
        ready = None
        for _ in range(20):
            m = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if m.get("type") == "ready":
                ready = m
                break
        res.check("WebSocket through nginx: ready after init", ready is not None)
        await ws.send(tone(960))
        meter = None
        for _ in range(50):
            raw = await asyncio.wait_for(ws.recv(), 5)
            if isinstance(raw, bytes):
                continue
            m = json.loads(raw)
            if m.get("type") == "meter":
                meter = m
                break
        res.check("WebSocket through nginx: a meter answers audio",
                  meter is not None and len(meter.get("spectrum", [])) == 32, str(meter)[:200])
        if meter:
            # a 0.5-amplitude sine: RMS = 0.5/sqrt(2) -> -9.03 dBFS
            res.check("meter RMS of the tone through the proxy",
                      abs(meter["rms"] - (-9.03)) < 0.5, str(meter["rms"]))


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    res = pycsys.Results()
    if shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"):
        print("nginx is not installed (scripts/install-deps.sh installs it)")
        return 1
    if not os.path.exists(os.path.join(DIST, "index.html")):
        print(f"{DIST}/index.html is missing: build the dashboard first (make frontend)")
        return 1
    sysm = pycsys.System(sys.argv[1])
    nginx = None
    try:
        http_port, nginx_port = (pycsys.free_port() for _ in range(2))
        origin = f"http://127.0.0.1:{nginx_port}"
        env = pycsys.local_env(sysm.tmp, http_port, origins=origin)
        sysm.start("recorder", env)
        sysm.start("dsp-worker", env)
        sysm.start("gateway", env)
        res.check("gateway port up", pycsys.wait_port("127.0.0.1", http_port))

        nginx_run = os.path.join(sysm.tmp, "nginx")
        nenv = dict(os.environ, GATEWAY_ADDR=f"127.0.0.1:{http_port}",
                    LISTEN_PORT=str(nginx_port),
                    DASHBOARD_DIR=DIST, NGINX_RUN=nginx_run,
                    NGINX_TEMPLATE=os.path.join(ROOT, "deploy", "nginx.conf.template"))
        nginx = subprocess.Popen([os.path.join(ROOT, "deploy", "frontend-entrypoint.sh")],
                                 env=nenv, stdout=sys.stderr, stderr=sys.stderr,
                                 start_new_session=True)
        res.check("nginx up", pycsys.wait_port("127.0.0.1", nginx_port))
        base = f"http://127.0.0.1:{nginx_port}"

        st, hdr, body = pycsys.http_get(base + "/")
        index = open(os.path.join(DIST, "index.html"), "rb").read()
        res.check("dashboard served at /", st == 200 and body == index, f"{st}")
        st, hdr, body = pycsys.http_get(base + "/some/client/route")
        res.check("index fallback for client routes", st == 200 and body == index, f"{st}")
        st, hdr, body = pycsys.http_get(base + "/nginx-health")
        res.check("nginx health endpoint", st == 200)

        st, hdr, body = pycsys.http_get(base + "/health")
        ok = st in (200, 503) and "status" in json.loads(body or b"{}")
        res.check("/health proxied to the gateway", ok, f"{st} {body[:200]!r}")
        st, hdr, body = pycsys.http_get(base + "/recordings?session_id=nginxtest")
        res.check("/recordings proxied", st == 200 and json.loads(body) == [], f"{st} {body[:200]!r}")
        st, hdr, body = pycsys.http_get(base + "/recordings/rec_missing.wav")
        res.check("unknown recording is 404 with its detail through the proxy",
                  st == 404 and json.loads(body).get("detail") == "Recording not found",
                  f"{st} {body[:200]!r}")
        st, hdr, body = pycsys.http_get(base + "/openapi.json")
        res.check("/openapi.json proxied", st == 200 and "openapi" in json.loads(body))
        st, hdr, body = pycsys.http_get(base + "/docs")
        res.check("/docs proxied", st == 200 and b"<html" in body.lower())

        asyncio.run(asyncio.wait_for(
            ws_session(f"ws://127.0.0.1:{nginx_port}/ws/audio?session_id=nginx-proxy-1",
                       origin, res), 30))
        one_url_client.run(base, origin, res)
    except Exception as e:  # a failure anywhere is a failed check, not a crash
        res.check("no exception", False, repr(e))
    finally:
        if nginx is not None:
            try:
                os.killpg(nginx.pid, 15)
                nginx.wait(timeout=5)
            except Exception:
                os.killpg(nginx.pid, 9)
        sysm.stop()
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
