#!/usr/bin/python3
"""it_multihost.py - the multi-host topology, for real, without containers.

The gateway, the recorder and two dsp-worker hosts each run in their own
network namespace (ip netns), joined by veth pairs to a bridge in a fifth
namespace, on private test addresses this test makes and removes. They are
configured only through the environment variables docker-compose.yml sets
(tcp:// addresses instead of the compose service names, as there is no DNS
here). A client in its own namespace streams and records four sessions,
then one worker host is killed: its sessions must move to the other host
(worker_restarted, then meters again) and the others must notice nothing.
Needs root; exits 77 (skipped) otherwise.
Usage: it_multihost.py BUILD_DIR
"""
import asyncio
import json
import math
import os
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycsys  # noqa: E402

SKIP = 77
NET = "10.213.77"
HOSTS = {"gw": 2, "rec": 3, "w1": 4, "w2": 5, "cl": 6}


def sh(*cmd, check=True):
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r


def ns(prefix, h):
    return f"{prefix}-{h}"


def make_topology(prefix):
    sw = ns(prefix, "sw")
    sh("ip", "netns", "add", sw)
    sh("ip", "-n", sw, "link", "add", "br0", "type", "bridge")
    sh("ip", "-n", sw, "link", "set", "br0", "up")
    for i, (h, last) in enumerate(HOSTS.items()):
        n = ns(prefix, h)
        sh("ip", "netns", "add", n)
        sh("ip", "link", "add", f"v{i}a", "netns", n, "type", "veth",
           "peer", "name", f"v{i}b", "netns", sw)
        sh("ip", "-n", sw, "link", "set", f"v{i}b", "master", "br0")
        sh("ip", "-n", sw, "link", "set", f"v{i}b", "up")
        sh("ip", "-n", n, "addr", "add", f"{NET}.{last}/24", "dev", f"v{i}a")
        sh("ip", "-n", n, "link", "set", f"v{i}a", "up")
        sh("ip", "-n", n, "link", "set", "lo", "up")


def remove_topology(prefix):
    for h in list(HOSTS) + ["sw"]:
        n = ns(prefix, h)
        r = sh("ip", "netns", "pids", n, check=False)
        for pid in r.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        sh("ip", "netns", "del", n, check=False)


def tone(frames, freq, rate=48000, amp=0.3, t0=0):
    b = bytearray()
    for i in range(frames):
        v = int(round(amp * 32767 * math.sin(2 * math.pi * freq * (t0 + i) / rate)))
        b += struct.pack("<hh", v, v)
    return bytes(b)


# ---- the client, run inside the client namespace ----

async def client(prefix):
    import websockets
    res = pycsys.Results()
    gw = f"{NET}.{HOSTS['gw']}"
    api = f"http://{gw}:8000"

    def health():
        st, _, body = pycsys.http_get(api + "/health")
        return json.loads(body) if body else {}

    end = time.monotonic() + 15
    hosts = 0
    while time.monotonic() < end:
        try:
            hosts = health().get("workers", {}).get("hosts", 0)
        except OSError:
            pass
        if hosts >= 2:
            break
        await asyncio.sleep(0.2)
    res.check("both worker hosts registered with the gateway", hosts == 2, str(hosts))

    ids = [f"multihost-{i}" for i in range(4)]
    conns = []
    for sid in ids:
        ws = await websockets.connect(f"ws://{gw}:8000/ws/audio?session_id={sid}",
                                      open_timeout=5, max_size=2 ** 22)
        await ws.send(json.dumps({"action": "init", "sample_rate": 48000, "channels": 2}))
        await ws.send(json.dumps({"action": "start_record"}))
        conns.append(ws)

    async def stream(ws, sid, seconds, t0):
        """Sends `seconds` of audio in 20 ms chunks at real-time pace and
        collects every message; returns them."""
        got = []
        freq = 300 + 100 * ids.index(sid)

        async def reader():
            try:
                while True:
                    raw = await ws.recv()
                    if isinstance(raw, str):
                        got.append((time.monotonic(), json.loads(raw)))
            except Exception:
                pass

        task = asyncio.create_task(reader())
        n = int(seconds / 0.02)
        start = time.monotonic()
        for k in range(n):
            await ws.send(tone(960, freq, t0=t0 + k * 960))
            delay = start + (k + 1) * 0.02 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        await asyncio.sleep(0.3)
        task.cancel()
        return got

    first = await asyncio.gather(*(stream(ws, sid, 1.0, 0) for ws, sid in zip(conns, ids)))
    for sid, got in zip(ids, first):
        meters = [m for _, m in got if m.get("type") == "meter"]
        errors = [m for _, m in got if m.get("type") == "error"]
        res.check(f"{sid}: meters flow across namespaces", len(meters) >= 40, str(len(meters)))
        res.check(f"{sid}: recording and streaming without errors", not errors, str(errors))

    # Kill worker host 1 and every worker it forked.
    killed_at = time.monotonic()
    r = sh("ip", "netns", "pids", ns(prefix, "w1"), check=False)
    for pid in r.stdout.split():
        os.kill(int(pid), signal.SIGKILL)

    second = await asyncio.gather(*(stream(ws, sid, 2.0, 48000) for ws, sid in zip(conns, ids)))
    moved = 0
    for sid, got in zip(ids, second):
        errors = [m.get("code") for _, m in got if m.get("type") == "error"]
        meters = [(t, m) for t, m in got if m.get("type") == "meter"]
        if "worker_restarted" in errors:
            moved += 1
            res.check(f"{sid}: told its recording failed", "recording_failed" in errors,
                      str(errors))
            late = [t for t, _ in meters]
            res.check(f"{sid}: meters resume on the other host within 1.5 s",
                      late and min(late) - killed_at < 1.5,
                      f"{(min(late) - killed_at) if late else None}")
        else:
            res.check(f"{sid}: on the surviving host, noticed nothing",
                      not errors and len(meters) >= 90, f"{errors} {len(meters)}")
        res.check(f"{sid}: meters after the kill", len(meters) >= 50, str(len(meters)))
    res.check("some sessions had to move", 1 <= moved <= 3, str(moved))
    h = health()
    res.check("gateway now counts one host", h.get("workers", {}).get("hosts") == 1, str(h))

    for ws in conns:
        await ws.send(json.dumps({"action": "stop_record"}))
    saved = 0
    for ws in conns:
        try:
            for _ in range(200):
                m = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if m.get("type") in ("recording_saved",):
                    saved += 1
                    break
                if m.get("type") == "error" and m.get("code") in ("not_recording", "recording_failed"):
                    break
        except Exception:
            pass
        await ws.close()
    res.check("the sessions on the surviving host saved their recordings", saved >= 4 - moved,
              f"{saved} saved, {moved} moved")
    listed = 0
    for sid in ids:
        st, _, body = pycsys.http_get(api + f"/recordings?session_id={sid}")
        listed += len(json.loads(body)) if st == 200 else 0
    res.check("recordings listed through the gateway from the recorder's namespace",
              listed >= 4, str(listed))
    return res.finish()


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        return asyncio.run(asyncio.wait_for(client(sys.argv[2]), 90))
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    if os.geteuid() != 0:
        print("SKIP: the network-namespace topology test needs root")
        return SKIP
    prefix = f"pyc{os.getpid() % 100000}"
    sysm = pycsys.System(sys.argv[1])
    rc = 1
    try:
        make_topology(prefix)
        gw, rec = f"{NET}.{HOSTS['gw']}", f"{NET}.{HOSTS['rec']}"
        common = {"RUN_DIR": os.path.join(sysm.tmp, "{h}", "run"),
                  "LOG_LEVEL": "warn"}

        def env(h, extra):
            e = {k: v.format(h=h) for k, v in common.items()}
            e["DATA_DIR"] = os.path.join(sysm.tmp, h, "data")
            e.update(extra)
            return e

        sysm.start("recorder", env("rec", {
            "RECORDER_LISTEN_URL": "tcp://0.0.0.0:7101",
            "RECORDER_CTL_LISTEN_URL": "tcp://0.0.0.0:7102",
            "RECORDER_CTL_URL": "tcp://127.0.0.1:7102",
            "RECORDINGS_DIR": os.path.join(sysm.tmp, "rec", "data", "recordings"),
            "DB_PATH": os.path.join(sysm.tmp, "rec", "db", "pycoustics.db")}),
            netns=ns(prefix, "rec"))
        # as compose's depends_on: service_healthy, the others start once
        # the recorder answers
        if not pycsys.wait_port(rec, 7102, timeout=10, netns=ns(prefix, "gw")):
            raise RuntimeError("recorder not reachable from the gateway namespace")
        sysm.start("gateway", env("gw", {
            "BACKEND_PORT": "8000", "BIND_ADDRESS": "0.0.0.0",
            "WORKER_LISTEN_URL": "tcp://0.0.0.0:7000",
            "RECORDER_CTL_URL": f"tcp://{rec}:7102",
            "FRONTEND_URL": "http://localhost:3000",
            "SESSION_GRACE_SECONDS": "30"}), netns=ns(prefix, "gw"))
        for w in ("w1", "w2"):
            sysm.start("dsp-worker", env(w, {
                "GATEWAY_URL": f"tcp://{gw}:7000",
                "RECORDER_URL": f"tcp://{rec}:7101",
                "DSP_POOL_SPARE": "3", "DSP_POOL_MAX": "16",
                "DSP_HOST_ID": f"worker-{w}"}), netns=ns(prefix, w), name=w)
        if not pycsys.wait_port(gw, 8000, timeout=10, netns=ns(prefix, "cl")):
            print("FAIL gateway not reachable from the client namespace")
            print("0 passed, 1 failed")
            return 1
        r = subprocess.run(["ip", "netns", "exec", ns(prefix, "cl"), sys.executable,
                            os.path.abspath(__file__), "--client", prefix], timeout=120)
        rc = r.returncode
    except Exception as e:
        print(f"FAIL topology: {e!r}")
        print("0 passed, 1 failed")
        rc = 1
    finally:
        sysm.stop()
        remove_topology(prefix)
    return rc


if __name__ == "__main__":
    sys.exit(main())
