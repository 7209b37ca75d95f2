"""hostile_util.py - the running system and raw clients for the hostile-client tests.

NOTES: these tests talk to the gateway the way an attacker would, so they
build WebSocket frames and HTTP requests byte by byte on plain sockets
instead of through a client library that would refuse to send them. Every
test starts the real recorder, dsp-worker host and gateway (tests/deploy/
pycsys.py) on free loopback ports and keeps a canary session streaming
audio at real time beside the attack: after each case the canary must still
get meters and /health must answer 200, and at the end every service must
exit 0 on SIGTERM (a crash or a hang at shutdown fails the test). Every
socket operation and every wait has a timeout.
"""
import json
import math
import os
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "deploy"))
import pycsys  # noqa: E402

ORIGIN = "http://allowed.example"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def now():
    return time.monotonic()


def tone(frames, rate=48000, freq=1000.0, amp=0.5, channels=2):
    out = bytearray()
    for i in range(frames):
        v = int(round(amp * 32767 * math.sin(2 * math.pi * freq * i / rate)))
        out += struct.pack("<h", v) * channels
    return bytes(out)


# ---- the system ----

class HostileSystem:
    """The three services on loopback; stop() returns True only if each
    exited 0 on SIGTERM."""

    def __init__(self, build_dir, extra=None, bind="127.0.0.1"):
        self.sysm = pycsys.System(build_dir)
        self.http_port = pycsys.free_port()
        self.ws_port = self.http_port  # one public port: the WebSocket is on it too
        self.env = pycsys.local_env(self.sysm.tmp, self.http_port, origins=ORIGIN)
        self.env["BIND_ADDRESS"] = bind
        self.env["DSP_POOL_SPARE"] = "4"
        self.env["DSP_POOL_MAX"] = "64"
        self.env.update(extra or {})
        self.tmp = self.sysm.tmp
        self.data = self.env["DATA_DIR"]
        self.recordings = os.path.join(self.data, "recordings")
        self.procs = {}

    def start(self, timeout=30.0):
        for kind in ("recorder", "dsp-worker", "gateway"):
            self.procs[kind] = self.sysm.start(kind, self.env)
        end = now() + timeout
        while now() < end:
            try:
                st, _, body = http(self.http_port, "GET", "/health", timeout=2)
                if st == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        print("the system did not come up", flush=True)
        return False

    def gateway_pid(self):
        return self.procs["gateway"].pid

    def alive(self):
        return all(p.poll() is None for p in self.procs.values())

    def stop(self):
        """SIGTERM, gateway first; True if every service exited 0 by itself."""
        ok = True
        for kind in ("gateway", "dsp-worker", "recorder"):
            p = self.procs.get(kind)
            if p is None:
                continue
            if p.poll() is None:
                try:
                    os.killpg(p.pid, 15)
                except ProcessLookupError:
                    pass
            try:
                rc = p.wait(timeout=15)
            except Exception:
                rc = "hung"
            if rc != 0:
                print(f"{kind} ended with {rc} (expected 0 on SIGTERM)", flush=True)
                ok = False
        self.sysm.stop(timeout=5)
        return ok


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


# ---- HTTP on a raw socket ----

def tcp(port, host="127.0.0.1", source=None, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source is not None:
        s.bind((source, 0))
    s.connect((host, port))
    return s


def read_all(s, timeout=5.0, limit=1 << 24):
    """Reads until EOF (or timeout); the bytes read."""
    buf = bytearray()
    end = now() + timeout
    while now() < end and len(buf) < limit:
        s.settimeout(max(0.05, end - now()))
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not d:
            break
        buf += d
    return bytes(buf)


def parse_response(raw):
    """(status, headers dict lower-cased (lists joined by ', '), body); status
    0 when there is no answer."""
    if not raw:
        return 0, {}, b""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return -1, {}, raw
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        k = k.strip().lower().decode("latin-1")
        v = v.strip().decode("latin-1")
        hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
    return status, hdrs, body


def http_raw(port, data, timeout=5.0, source=None):
    s = tcp(port, source=source, timeout=timeout)
    try:
        s.sendall(data)
        raw = read_all(s, timeout)
    except (BrokenPipeError, ConnectionResetError):
        raw = b""
    finally:
        s.close()
    return parse_response(raw)


def http(port, method, path, headers=None, body=b"", timeout=5.0, source=None):
    req = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    for k, v in (headers or {}).items():
        req += f"{k}: {v}\r\n"
    if body:
        req += f"Content-Length: {len(body)}\r\n"
    data = req.encode("latin-1") + b"\r\n" + body
    return http_raw(port, data, timeout, source)


# ---- WebSocket frames ----

def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, length=None):
    """One frame; length overrides the declared payload length."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    m = 0x80 if mask else 0
    if n < 126:
        hdr = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, m | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, m | 127, n)
    if not mask:
        return hdr + payload
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if len(payload) < 4096 \
        else _mask_fast(payload, key)
    return hdr + key + masked


def _mask_fast(payload, key):
    k = int.from_bytes(key * ((len(payload) + 3) // 4), "little")
    p = int.from_bytes(payload + b"\0" * ((-len(payload)) % 4), "little")
    return (p ^ k).to_bytes(len(payload) + (-len(payload)) % 4, "little")[:len(payload)]


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


class RawWS:
    """A WebSocket client that sends whatever bytes it is told to."""

    def __init__(self, port, sid=None, path=None, headers=None, source=None, timeout=5.0):
        self.port = port
        self.buf = bytearray()
        self.closed = False
        self.eof = False
        if path is None:
            path = f"/ws/audio?session_id={sid}"
        self.sock = tcp(port, source=source, timeout=timeout)
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n")
        for k, v in (headers or {}).items():
            req += f"{k}: {v}\r\n"
        self.sock.sendall(req.encode("latin-1") + b"\r\n")
        head = bytearray()
        end = now() + timeout
        while b"\r\n\r\n" not in head and now() < end:
            self.sock.settimeout(max(0.05, end - now()))
            try:
                d = self.sock.recv(4096)
            except socket.timeout:
                break
            if not d:
                break
            head += d
        h, sep, rest = bytes(head).partition(b"\r\n\r\n")
        self.status, self.headers, _ = parse_response(h + b"\r\n\r\n")
        self.head = h.decode("latin-1")
        self.buf += rest

    @property
    def upgraded(self):
        return self.status == 101

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def send_frame(self, opcode, payload=b"", **kw):
        return self.send(frame(opcode, payload, **kw))

    def _fill(self, deadline):
        if self.eof:
            return False
        self.sock.settimeout(max(0.01, deadline - now()))
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return False
        except OSError:
            self.eof = True
            return False
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def recv_frame(self, timeout=5.0):
        """(fin, rsv, opcode, payload), or None on timeout or EOF."""
        end = now() + timeout
        while True:
            f = self._parse()
            if f is not None:
                return f
            if now() >= end or not self._fill(end):
                if self.eof or now() >= end:
                    return None

    def _parse(self):
        b = self.buf
        if len(b) < 2:
            return None
        fin, rsv, op = b[0] >> 7, (b[0] >> 4) & 7, b[0] & 15
        masked, n, off = b[1] >> 7, b[1] & 127, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, off = struct.unpack("!H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, off = struct.unpack("!Q", b[2:10])[0], 10
        if masked:
            off += 4
        if len(b) < off + n:
            return None
        payload = bytes(b[off:off + n])
        del b[:off + n]
        return fin, rsv, op, payload

    def messages(self, timeout=5.0, want=None):
        """Text messages as dicts until one with type want (returned) or the
        timeout; answers pings on the way."""
        end = now() + timeout
        while now() < end:
            f = self.recv_frame(max(0.01, end - now()))
            if f is None:
                if self.eof:
                    return None
                continue
            fin, rsv, op, p = f
            if op == 9:
                self.send_frame(10, p)
            elif op == 8:
                self.closed = True
                self.close_frame = p
                return None
            elif op == 1 and want is not None:
                try:
                    m = json.loads(p)
                except ValueError:
                    continue
                if m.get("type") == want:
                    return m
        return None

    def expect_close(self, timeout=5.0, linger=5.0):
        """Reads until the server's close frame; returns (code, reason bytes,
        frames before it, tcp closed after) with code None for a connection
        dropped without a close frame, 1005 for a close without a code.
        Echoes the close as a client must, then waits for the TCP end."""
        end = now() + timeout
        before = []
        while now() < end:
            f = self.recv_frame(max(0.01, end - now()))
            if f is None:
                if self.eof:
                    return None, b"", before, True
                continue
            fin, rsv, op, p = f
            if op == 8:
                code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005
                self.send_frame(8, p[:2])
                tcp_end = self.wait_eof(linger)
                return code, p[2:], before, tcp_end
            if op == 9:
                self.send_frame(10, p)
            before.append((op, p))
        return "timeout", b"", before, False

    def wait_eof(self, timeout):
        end = now() + timeout
        while not self.eof and now() < end:
            if not self._fill(end):
                if self.eof:
                    break
            else:
                self.buf.clear()
        return self.eof

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def ws_init(port, sid, rate=48000, channels=2, timeout=8.0, **kw):
    """A raw connection that sent init and got ready (None if not)."""
    c = RawWS(port, sid, **kw)
    if not c.upgraded:
        return c
    c.send_frame(1, json.dumps({"action": "init", "sample_rate": rate,
                                "channels": channels}).encode())
    c.ready = c.messages(timeout, want="ready")
    return c


# ---- the canary ----

class Canary(threading.Thread):
    """A session that streams 50 ms of audio every 50 ms and counts meters.
    ok(timeout) checks that meters keep coming and /health says 200."""

    def __init__(self, system, sid="canary-session"):
        super().__init__(daemon=True)
        self.system = system
        self.sid = sid
        self.meters = 0
        self.error = None
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.chunk = tone(2400)

    def run(self):
        try:
            c = ws_init(self.system.ws_port, self.sid)
            if not c.upgraded or c.ready is None:
                self.error = f"canary did not start (status {c.status})"
                return
            nxt = now()
            while not self.stopping.is_set():
                if not c.send_frame(2, self.chunk):
                    self.error = "canary: send failed"
                    return
                nxt += 0.05
                while now() < nxt:
                    f = c.recv_frame(max(0.005, nxt - now()))
                    if f is None:
                        if c.eof:
                            self.error = "canary: connection dropped"
                            return
                        continue
                    op, p = f[2], f[3]
                    if op == 9:
                        c.send_frame(10, p)
                    elif op == 8:
                        self.error = f"canary: closed by the server {p[:2].hex()}"
                        return
                    elif op == 1 and b'"meter"' in p:
                        with self.lock:
                            self.meters += 1
                if now() - nxt > 1.0:  # fell far behind (a loaded machine): resync
                    nxt = now()
            c.send_frame(8, close_payload(1000))
            c.expect_close(3)
            c.close()
        except Exception as e:  # reported by ok()
            self.error = f"canary: {e!r}"

    def count(self):
        with self.lock:
            return self.meters

    def ok(self, timeout=10.0):
        """(True, "") when new meters arrive within timeout and /health is 200."""
        if self.error:
            return False, self.error
        start = self.count()
        end = now() + timeout
        while self.count() < start + 3 and now() < end and self.error is None:
            time.sleep(0.05)
        if self.count() < start + 3:
            return False, self.error or f"canary got no meters for {timeout} s"
        try:
            st, _, body = http(self.system.http_port, "GET", "/health", timeout=5)
        except OSError as e:
            return False, f"/health: {e!r}"
        if st != 200:
            return False, f"/health answered {st} {body[:200]!r}"
        if not self.system.alive():
            return False, "a service died"
        return True, ""

    def stop(self):
        self.stopping.set()
        self.join(10)


def run_main(fn, extra=None, bind="127.0.0.1"):
    """Starts the system and a canary, runs fn(system, canary, results),
    stops everything; the exit status."""
    if len(sys.argv) != 2:
        print("usage: <script> BUILD_DIR")
        return 2
    res = pycsys.Results()
    system = HostileSystem(sys.argv[1], extra, bind)
    canary = None
    try:
        if not res.check("system up", system.start()):
            return 1
        canary = Canary(system)
        canary.start()
        ok, why = canary.ok(15)
        res.check("canary streams", ok, why)
        fn(system, canary, res)
        ok, why = canary.ok(10)
        res.check("canary still streams at the end", ok, why)
    except Exception as e:
        import traceback
        traceback.print_exc()
        res.check("no exception in the test", False, repr(e))
    finally:
        if canary is not None:
            canary.stop()
        res.check("every service exits 0 on SIGTERM", system.stop())
    return res.finish()
