#!/usr/bin/python3
"""hostile_exhaust.py - one address trying to take every connection.

More WebSocket sessions than MAX_SESSIONS_PER_IP from one address get a
clear refusal (HTTP 429 to the upgrade, no WebSocket, the connection
closed) while other addresses are still served; refusals never use up a
slot, and a slot freed by a closed connection is usable again. The same
for HTTP_MAX_PER_IP on the public port (the gateway's dispatcher: the
connection is closed at once, without an answer), plus a burst of 200
connections from one address. Loopback has all of 127.0.0.0/8, so the
clients bind 127.0.0.2..127.0.0.9 while the server binds 127.0.0.1
(BIND_ADDRESS); a second system bound to 127.0.0.2 shows BIND_ADDRESS is
honoured on the public port, HTTP and WebSocket (nothing answers on
127.0.0.1 there).

NOTES: TRUSTED_PROXIES is empty, so every address is limited;
MAX_SESSIONS_PER_IP and HTTP_MAX_PER_IP are 4 to keep the test small.
Usage: hostile_exhaust.py BUILD_DIR
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_util as hu  # noqa: E402

LIMIT = 4


def served_session(system, sid, source):
    c = hu.ws_init(system.ws_port, sid, source=source)
    if not c.upgraded or c.ready is None:
        return c, False
    c.send_frame(2, hu.tone(960))
    return c, c.messages(5, want="meter") is not None


def closed_without_answer(s, timeout=2.0):
    """True if the peer closes the connection without sending anything."""
    data = hu.read_all(s, timeout)
    return data == b"", data


def ws_limit(system, canary, res):
    mine = []
    for i in range(LIMIT):
        c, ok = served_session(system, f"exhaust-a{i}", "127.0.0.2")
        res.check(f"127.0.0.2 session {i + 1} of {LIMIT} served", ok, str(c.status))
        mine.append(c)
    refused = []
    for i in range(20):
        c = hu.RawWS(system.ws_port, f"exhaust-x{i}", source="127.0.0.2")
        refused.append((c.status, "sec-websocket-accept" in c.headers, c.wait_eof(3)))
        if i == 0:
            print("the refusal as the client sees it:\n  " + c.head.replace("\r\n", "\n  "),
                  flush=True)
        c.close()
    res.check("20 more upgrades from 127.0.0.2: HTTP 429, no WebSocket, connection closed",
              all(st == 429 and not acc and eof for st, acc, eof in refused), str(refused[:3]))
    others = []
    for i in range(LIMIT):
        c, ok = served_session(system, f"exhaust-b{i}", "127.0.0.3")
        others.append((c, ok))
    res.check(f"meanwhile 127.0.0.3 gets its {LIMIT} sessions with meters",
              all(ok for _, ok in others))
    ok, why = canary.ok(10)
    res.check("meanwhile the canary (127.0.0.1) streams", ok, why)
    # a freed slot is usable again; refusals did not take any
    mine.pop(0).close()
    ok = False
    end = hu.now() + 5
    while not ok and hu.now() < end:
        time.sleep(0.1)
        c, ok = served_session(system, "exhaust-again", "127.0.0.2")
        if not ok:
            c.close()
        else:
            mine.append(c)
    res.check("after one of its connections closes, 127.0.0.2 is served again", ok)
    for c in mine:
        c.close()
    for c, _ in others:
        c.close()
    time.sleep(0.5)
    back = []
    for i in range(LIMIT):
        c, ok = served_session(system, f"exhaust-c{i}", "127.0.0.2")
        back.append((c, ok))
    res.check(f"once all are closed, 127.0.0.2 has all {LIMIT} slots again",
              all(ok for _, ok in back))
    for c, _ in back:
        c.close()


def http_limit(system, canary, res):
    held = [hu.tcp(system.http_port, source="127.0.0.4") for _ in range(LIMIT)]
    time.sleep(0.3)
    extra = hu.tcp(system.http_port, source="127.0.0.4")
    try:
        extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    except OSError:
        pass
    closed, data = closed_without_answer(extra)
    extra.close()
    res.check(f"the {LIMIT + 1}th HTTP connection from 127.0.0.4 is closed at once, unanswered",
              closed, repr(data[:80]))
    st = hu.http(system.http_port, "GET", "/health", source="127.0.0.5")[0]
    res.check("meanwhile 127.0.0.5 gets /health 200", st == 200, str(st))
    held.pop().close()
    st = 0
    for _ in range(30):
        try:
            st = hu.http(system.http_port, "GET", "/health", source="127.0.0.4", timeout=3)[0]
        except OSError:
            st = 0
        if st == 200:
            break
        time.sleep(0.1)
    res.check("after one closes, 127.0.0.4 is served again", st == 200, str(st))
    for s in held:
        s.close()
    # a burst of 200 connections from one address: bounded, nothing breaks
    burst = []
    for _ in range(200):
        try:
            burst.append(hu.tcp(system.http_port, source="127.0.0.6", timeout=2))
        except OSError:
            pass
    time.sleep(0.5)
    open_ = 0
    for s in burst:
        s.setblocking(False)
        try:
            d = s.recv(1)
            open_ += 0 if d == b"" else 1
        except BlockingIOError:
            open_ += 1
        except OSError:
            pass
    for s in burst:
        s.close()
    print(f"burst: {len(burst)} connects, {open_} kept open by the server", flush=True)
    res.check(f"a burst of 200 connections from 127.0.0.6: at most {LIMIT} kept open",
              open_ <= LIMIT, str(open_))
    st = 0
    for _ in range(30):
        try:
            st = hu.http(system.http_port, "GET", "/health", source="127.0.0.6", timeout=3)[0]
        except OSError:
            st = 0
        if st == 200:
            break
        time.sleep(0.1)
    res.check("after the burst 127.0.0.6 is served", st == 200, str(st))
    ok, why = canary.ok(10)
    res.check("the canary streams after the HTTP exhaustion", ok, why)


def bind_address(res, build_dir):
    other = hu.HostileSystem(build_dir, {"TRUSTED_PROXIES": ""}, bind="127.0.0.2")
    try:
        for kind in ("recorder", "dsp-worker", "gateway"):
            other.procs[kind] = other.sysm.start(kind, other.env)
        up = False
        end = hu.now() + 30
        while not up and hu.now() < end:
            try:
                s = hu.tcp(other.http_port, host="127.0.0.2", timeout=1)
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                up = hu.parse_response(hu.read_all(s, 3))[0] == 200
                s.close()
            except OSError:
                pass
            if not up:
                time.sleep(0.1)
        res.check("a system with BIND_ADDRESS=127.0.0.2 serves /health there", up)
        try:
            s = hu.tcp(other.http_port, host="127.0.0.1", timeout=1)
            s.close()
            refused = False
        except OSError:
            refused = True
        res.check("... and nothing answers on 127.0.0.1 at its port", refused)
        try:
            s = hu.tcp(other.ws_port, host="127.0.0.2", timeout=3)
            s.sendall(b"GET /ws/audio?session_id=bind-check HTTP/1.1\r\nHost: x\r\n"
                      b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            head = s.recv(4096)
            s.close()
        except OSError:
            head = b""
        res.check("... and its WebSocket upgrades there", head.startswith(b"HTTP/1.1 101"),
                  repr(head[:40]))
    finally:
        res.check("the 127.0.0.2 system exits 0 on SIGTERM", other.stop())


def exhaust(system, canary, res):
    ws_limit(system, canary, res)
    http_limit(system, canary, res)
    try:
        s = hu.tcp(system.http_port, host="127.0.0.2", timeout=1)
        s.close()
        reached = True
    except OSError:
        reached = False
    res.check(f"BIND_ADDRESS=127.0.0.1: port {system.http_port} is not reachable on 127.0.0.2",
              not reached)
    bind_address(res, sys.argv[1])


if __name__ == "__main__":
    sys.exit(hu.run_main(exhaust, {"TRUSTED_PROXIES": "", "SESSION_GRACE_SECONDS": "0",
                                   "MAX_SESSIONS_PER_IP": str(LIMIT),
                                   "HTTP_MAX_PER_IP": str(LIMIT)}))
