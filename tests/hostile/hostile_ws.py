#!/usr/bin/python3
"""hostile_ws.py - WebSocket clients that try to exhaust or confuse the gateway.

A 64-bit declared frame length far beyond WS_MAX_MESSAGE_BYTES (closed
with 1009 before anything is buffered: the gateway's resident memory must
not grow), floods of fragments without FIN (closed at the 256-frame or the
byte cap, never buffered beyond it), JSON nested 10 000 deep, 1 MiB
strings in commands, numbers out of double range and NaN-like tokens, NUL
in strings, binary frames of odd length (the trailing partial frame is
dropped, never carried into the next chunk), foreign and look-alike
Origins (403 at the upgrade), and permessage-deflate offers (never
accepted; a compressed frame is then a protocol error). Every command the
gateway cannot carry out must get an error frame and leave the connection
open and the session's settings unchanged. A canary session streams
beside all of it and must keep getting meters; /health must stay 200.

NOTES: WS_MAX_MESSAGE_BYTES is the default (1 MiB) here, so the 1 MiB
strings sit right at the limit. RSS is read from /proc/<gateway>/status;
the allowance (24 MiB) is far below what buffering any of these messages
would take (each attack declares at least 1 GiB) and above the noise of
the sanitizer build.
Usage: hostile_ws.py BUILD_DIR
"""
import json
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_util as hu  # noqa: E402
from hostile_util import frame, close_payload  # noqa: E402

CAP = 1 << 20
RSS_ALLOWANCE_KIB = 24 * 1024


def errors_until(c, want_code=None, timeout=5.0):
    """Text messages until an error (its code) or a ready/meter; None on timeout."""
    end = hu.now() + timeout
    while hu.now() < end:
        f = c.recv_frame(max(0.01, end - hu.now()))
        if f is None:
            if c.eof:
                return "closed"
            continue
        if f[2] == 9:
            c.send_frame(10, f[3])
        elif f[2] == 8:
            return f"close {struct.unpack('!H', f[3][:2])[0] if len(f[3]) >= 2 else 1005}"
        elif f[2] == 1:
            m = json.loads(f[3])
            if m.get("type") == "error":
                return m.get("code")
            if m.get("type") == "ready":
                return "ready"
    return None


def still_open(c, tag):
    """The connection still takes commands: an unknown action is answered."""
    c.send_frame(1, json.dumps({"action": f"nope-{tag}"}).encode())
    return errors_until(c) == "unknown_action"


def meter_rms(c, chunk, timeout=5.0):
    c.send_frame(2, chunk)
    m = c.messages(timeout, want="meter")
    return None if m is None else m


def too_big_count(system):
    st, _, body = hu.http(system.http_port, "GET", "/metrics")
    for line in body.decode().splitlines():
        if line.startswith('pyc_errors_total{code="message_too_big"}'):
            return float(line.split()[-1])
    return 0.0


def check_alive(system, canary, res, what):
    ok, why = canary.ok(10)
    res.check(f"canary streams and /health is 200 after {what}", ok, why)


def big_lengths(system, canary, res):
    pid = system.gateway_pid()
    before = hu.rss_kib(pid)
    socks = []
    got = []
    for i, n in enumerate([1 << 30, 1 << 32, 1 << 40, (1 << 62), (1 << 63) - 1] * 4):
        c = hu.RawWS(system.ws_port, f"biglen-{i}")
        c.send(frame(2, b"\0" * 4096, length=n)[:14 + 4096])
        code, _, _, _ = c.expect_close(5, linger=0.2)
        got.append((n, code))
        socks.append(c)
    after = hu.rss_kib(pid)
    for c in socks:
        c.close()
    print(f"declared lengths: {sorted(set(got))}", flush=True)
    print(f"gateway RSS {before} KiB -> {after} KiB", flush=True)
    # up to 2^40 the gateway sees the length and refuses with 1009; larger
    # ones lws itself drops (fail the connection) before the gateway sees them
    res.check("declared lengths <= 2^40 closed with 1009",
              all(code == 1009 for n, code in got if n <= 1 << 40), str(got))
    res.check("larger declared lengths closed (1009 or dropped)",
              all(code in (1009, None) for n, code in got if n > 1 << 40), str(got))
    res.check("gateway RSS did not grow with 20 huge declared lengths",
              after - before < RSS_ALLOWANCE_KIB, f"{before} -> {after} KiB")
    check_alive(system, canary, res, "huge declared lengths")


def fragment_floods(system, canary, res):
    pid = system.gateway_pid()
    before = hu.rss_kib(pid)
    # one-byte fragments without FIN: closed at the 257th frame
    tb0 = too_big_count(system)
    c = hu.RawWS(system.ws_port, "flood-1b")
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)
    first = frame(2, b"\0", fin=False)
    burst = b"".join(frame(0, b"\0", fin=False) for _ in range(1000))
    sent = 0
    c.send(first)
    c.sock.settimeout(0.5)
    t0 = hu.now()
    while sent < 100 and hu.now() - t0 < 5:  # up to 100 000 fragments, stops when refused
        try:
            c.sock.sendall(burst)
        except OSError:
            break
        sent += 1
    code, reason, _, _ = c.expect_close(5, linger=0.2)
    c.close()
    print(f"one-byte flood: {sent}k fragments written before the close, code {code}",
          flush=True)
    # the client is still writing when the gateway closes, so its kernel may
    # answer with a reset that discards the close frame: the count tells
    res.check("a flood of one-byte fragments is closed (1009, or reset while writing)",
              code in (1009, None) and too_big_count(system) == tb0 + 1,
              f"{code}, message_too_big {tb0} -> {too_big_count(system)}")
    c = hu.RawWS(system.ws_port, "flood-258")
    c.send(b"".join(frame(2 if i == 0 else 0, b"\0", fin=False) for i in range(258)))
    code, _, _, _ = c.expect_close(5, linger=0.2)
    c.close()
    res.check("258 one-byte fragments without FIN, then silence: 1009", code == 1009, str(code))
    # 8 KiB fragments without FIN: closed when the byte cap is reached. The
    # close frame comes then; the server drops what still arrives until the
    # client answers it (or lws's close timeout), so the flood stops as soon
    # as the close frame can be read.
    c = hu.RawWS(system.ws_port, "flood-8k")
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)
    piece = b"\x01" * 8192
    c.send(frame(2, piece, fin=False))
    written = 8192
    c.sock.settimeout(2)
    while written < 16 * CAP:
        try:
            c.sock.sendall(frame(0, piece, fin=False))
        except OSError:
            break
        written += 8192
        if select.select([c.sock], [], [], 0)[0]:
            break
    code, _, _, _ = c.expect_close(5, linger=0.2)
    c.close()
    res.check("8 KiB fragments without FIN are closed at the cap (1009, or reset)",
              code in (1009, None) and written < 16 * CAP,
              f"{code} after {written} bytes")
    after = hu.rss_kib(pid)
    print(f"gateway RSS {before} KiB -> {after} KiB after the floods", flush=True)
    res.check("gateway RSS bounded after the fragment floods",
              after - before < RSS_ALLOWANCE_KIB, f"{before} -> {after} KiB")
    check_alive(system, canary, res, "fragment floods")


def json_attacks(system, canary, res):
    c = hu.ws_init(system.ws_port, "json-attacks")
    res.check("json session ready", c.ready is not None)
    chunk = hu.tone(4800)  # 100 ms of a 0.5 sine: -9.03 dBFS
    m = meter_rms(c, chunk)
    base = m["rms"] if m else None
    res.check("meter before the attacks", base is not None and abs(base + 9.03) < 0.5, str(base))

    cases = [
        ("10 000 nested arrays", b"[" * 10000 + b"]" * 10000, {"bad_json"}),
        ("10 000 nested objects", b'{"a":' * 10000 + b"1" + b"}" * 10000, {"bad_json"}),
        ("nested 10 000 deep inside a command",
         b'{"action":"set_params","gain":' + b"[" * 10000 + b"]" * 10000 + b"}",
         {"bad_json", "bad_type"}),
        ("1 MiB action name", json.dumps({"action": "x" * (CAP - 20)}).encode(),
         {"unknown_action"}),
        ("1 MiB string as gain", json.dumps({"action": "set_params",
                                              "gain": "9" * (CAP - 40)}).encode(), {"bad_type"}),
        ("1 MiB unknown field beside a bad gain",
         b'{"action":"set_params","x":"' + b"y" * (CAP - 60) + b'","gain":1e309}', {"out_of_range"}),
        ("gain 1e309", b'{"action":"set_params","gain":1e309}', {"out_of_range"}),
        ("gain -1e309", b'{"action":"set_params","gain":-1e309}', {"out_of_range"}),
        ("gain NaN", b'{"action":"set_params","gain":NaN}', {"bad_json"}),
        ("gain nan", b'{"action":"set_params","gain":nan}', {"bad_json"}),
        ("gain Infinity", b'{"action":"set_params","gain":Infinity}', {"bad_json"}),
        ("gain -Infinity", b'{"action":"set_params","gain":-Infinity}', {"bad_json"}),
        ("gain 1e400 written out", b'{"action":"set_params","gain":1' + b"0" * 400 + b"}",
         {"out_of_range"}),
        ("sample_rate 1e309", b'{"action":"init","sample_rate":1e309}', {"bad_type"}),
        ("sample_rate 99999999999999999999", b'{"action":"init","sample_rate":99999999999999999999}',
         {"out_of_range"}),
        ("sample_rate 44100.5", b'{"action":"init","sample_rate":44100.5}', {"bad_type"}),
        ("channels -0.0000001", b'{"action":"init","channels":-0.0000001}', {"bad_type"}),
        ("fft_size 2^63", b'{"action":"set_params","fft_size":9223372036854775808}', {"out_of_range"}),
        ("gain \"0x10\"", b'{"action":"set_params","gain":"0x10"}', {"bad_type"}),
        ("NUL escaped in the action (not read as init)", b'{"action":"init\\u0000evil"}',
         {"bad_json"}),
        ("raw NUL byte in the action (not read as init)", b'{"action":"init\x00evil"}',
         {"bad_json"}),
        ("NUL byte after the object", b'{"action":"nope-after"}\x00{"action":"init"}',
         {"bad_json"}),
        ("a second object after the first", b'{"action":"init"}{"action":"init"}', {"bad_json"}),
        ("garbage after the object", b'{"action":"init"}xyz', {"bad_json"}),
        ("NUL only", b"\x00", {"bad_json"}),
        ("empty text frame", b"", {"bad_json"}),
        ("array, not an object", b'[{"action":"init"}]', {"bad_json"}),
        ("action not a string", b'{"action":["init"]}', {"bad_type"}),
        ("duplicate action keys (the first counts)",
         b'{"action":"nope-dup","action":"init","gain":99}', {"unknown_action"}),
        ("boolean as 2", b'{"action":"set_params","filter_enabled":2}', {"bad_type"}),
    ]
    for name, payload, want in cases:
        c.send_frame(1, payload)
        got = errors_until(c, timeout=8)
        res.check(f"{name}: {'/'.join(sorted(want))}", got in want, str(got))
        if got in ("closed",) or (got or "").startswith("close"):
            return
    # nothing above changed the session: the level is still the 0 dB one
    m = meter_rms(c, chunk)
    res.check("settings unchanged after the bad commands (rms as before)",
              m is not None and base is not None and abs(m["rms"] - base) < 0.5,
              str(m and m["rms"]))
    res.check("connection still open after the JSON attacks", still_open(c, "json"))
    # just over the cap: 1009 (the header says so: nothing is buffered)
    tb0 = too_big_count(system)
    c.send_frame(1, json.dumps({"action": "x" * CAP}).encode())
    code, _, _, _ = c.expect_close(8, linger=0.2)
    res.check("a command over WS_MAX_MESSAGE_BYTES is closed with 1009 (or reset while writing)",
              code in (1009, None) and too_big_count(system) == tb0 + 1, str(code))
    c.close()
    check_alive(system, canary, res, "JSON attacks")


def odd_binary(system, canary, res):
    c = hu.ws_init(system.ws_port, "odd-binary", rate=48000, channels=2)
    tone = hu.tone(1200)
    rms = []
    for i in range(6):
        # 1200 stereo frames plus 1..3 stray bytes: dropped, never carried over
        m = meter_rms(c, tone + b"\x7f\x01\x7f"[: 1 + i % 3])
        if m:
            rms.append((m["rms"], m.get("panning")))
    res.check("odd-length binary frames give meters", len(rms) == 6, str(rms))
    res.check("the stray bytes are dropped: level and balance of the sine kept",
              all(abs(r + 9.03) < 0.5 and abs(p or 0) < 0.05 for r, p in rms[1:]), str(rms))
    for n in (1, 2, 3):
        c.send_frame(2, b"\x01" * n)
    res.check("frames shorter than one frame are ignored, connection open",
              still_open(c, "odd"))
    c.send_frame(8, close_payload(1000))
    c.expect_close(3, linger=0.2)
    c.close()
    check_alive(system, canary, res, "odd binary frames")


def origins(system, canary, res):
    for origin, want in [
        ("http://evil.example", 403),
        ("null", 403),
        ("http://allowed.example.evil.com", 403),
        ("http://evil.allowed.example", 403),
        ("https://allowed.example", 403),
        ("http://allowed.example:8080", 403),
        ("http://allowed.exampl", 403),
        ("http://allowed.example, http://evil.example", 403),
        ("", 101),
        (hu.ORIGIN, 101),
    ]:
        hdr = {"Origin": origin} if origin else {}
        c = hu.RawWS(system.ws_port, "origin-test", headers=hdr)
        ok = c.status == want and (want != 403 or "sec-websocket-accept" not in c.headers)
        res.check(f"Origin {origin!r}: {want}", ok, f"{c.status}")
        c.close()
    c = hu.RawWS(system.ws_port, "origin-dup",
                 path="/ws/audio?session_id=origin-dup",
                 headers={"Origin": hu.ORIGIN, "origin": "http://evil.example"})
    res.check("two Origin headers (allowed, foreign) refused or the first used",
              c.status in (403, 101), str(c.status))
    c.close()
    check_alive(system, canary, res, "foreign origins")


def deflate(system, canary, res):
    for offer in ["permessage-deflate",
                  "permessage-deflate; client_max_window_bits",
                  "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                  "x-webkit-deflate-frame",
                  "permessage-deflate; server_max_window_bits=8, permessage-deflate"]:
        c = hu.RawWS(system.ws_port, "deflate-test", headers={"Sec-WebSocket-Extensions": offer})
        res.check(f"offer {offer!r}: upgraded without Sec-WebSocket-Extensions",
                  c.status == 101 and "sec-websocket-extensions" not in c.headers,
                  f"{c.status} {c.headers}")
        # a frame compressed anyway (RSV1) is a protocol error
        c.send_frame(1, b"\xaa\x56\x4a\x4c\x2e\xc9\xcc\xcf\x53\xb2\x52\xca\xcb\xcf\x4b\x55\xaa\x05\x00",
                     rsv=4)
        code, _, _, _ = c.expect_close(5, linger=0.2)
        res.check(f"offer {offer!r}: a compressed frame is closed with 1002", code == 1002, str(code))
        c.close()
    check_alive(system, canary, res, "deflate offers")


def hostile(system, canary, res):
    big_lengths(system, canary, res)
    fragment_floods(system, canary, res)
    json_attacks(system, canary, res)
    odd_binary(system, canary, res)
    origins(system, canary, res)
    deflate(system, canary, res)


if __name__ == "__main__":
    sys.exit(hu.run_main(hostile, {"SESSION_GRACE_SECONDS": "0"}))
