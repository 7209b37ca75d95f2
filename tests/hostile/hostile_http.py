#!/usr/bin/python3
"""hostile_http.py - hostile HTTP clients against the gateway's API.

Raw-socket requests: malformed request lines, oversized URIs and headers,
2 000 headers, duplicate Content-Length and Content-Length beside chunked
(smuggling), oversized bodies; every route with every method (GET HEAD
POST PUT DELETE PATCH OPTIONS TRACE CONNECT and a nonsense one); path
traversal in every encoding against download and delete; a symlink planted
in the recordings folder, pointing outside it (the recorder is traced with
strace when it can be: it must never open or unlink the target, and the
target must stay as it was); one session trying to list, download and
delete another session's recordings; and Debian's slowhttptest (slowloris
and slow body, a few seconds, a few hundred connections) against both
ports while a canary session keeps streaming. After each part the canary
must still get meters and /health must answer 200.

NOTES: the authorisation model (DESIGN.md, Sessions): the session id is
what lists a session's recordings, and a recording's file name (with its
own 22-character random part) is what downloads or deletes it. So the
boundary tested is: with its own id, wildcards, near-miss ids or guessed
names, a client never sees, gets or deletes another session's file, and
nothing public (/metrics, /health, /docs, error bodies, the other
session's WebSocket) leaks an id or a file name. TRUSTED_PROXIES is empty
so 127.0.0.1 is limited per address like any client (HTTP_MAX_PER_IP 32);
probes during the slow attacks come from 127.0.0.2 and 127.0.0.3.
Usage: hostile_http.py BUILD_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_util as hu  # noqa: E402

FAKE = "rec_20240101T000000Z_AAAAAAAAAAAAAAAAAAAAAA.wav"
SECRET = b"RIFF-not-a-recording: a file outside the recordings folder\n"


def record(system, sid, seconds=1.0):
    """A finished recording of session sid; (connection, filename)."""
    c = hu.ws_init(system.ws_port, sid)
    c.send_frame(1, b'{"action":"start_record"}')
    chunk = hu.tone(4800)
    for _ in range(int(seconds * 10)):
        c.send_frame(2, chunk)
        time.sleep(0.02)
    c.send_frame(1, b'{"action":"stop_record"}')
    m = c.messages(10, want="recording_saved")
    return c, (m or {}).get("filename")


def listing(system, sid_query):
    st, _, body = hu.http(system.http_port, "GET", f"/recordings?session_id={sid_query}")
    try:
        return st, json.loads(body)
    except ValueError:
        return st, body


def alive(system, canary, res, what):
    ok, why = canary.ok(10)
    res.check(f"canary streams and /health is 200 after {what}", ok, why)


# ---- malformed requests ----

def malformed(system, canary, res):
    h = b"Host: x\r\nConnection: close\r\n"
    body100k = b"a" * 100000
    chunked100k = b"".join(b"%x\r\n%s\r\n" % (10000, b"b" * 10000) for _ in range(10)) + b"0\r\n\r\n"
    cases = [
        ("request line without a version", b"GET /health\r\n\r\n", {400}),
        ("HTTP/9.9", b"GET /health HTTP/9.9\r\n" + h + b"\r\n", {505}),
        ("HTTP/1.1 without Host", b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n", {400}),
        ("a token after the version", b"GET /health HTTP/1.1 x\r\n" + h + b"\r\n", {400}),
        ("header line without a colon", b"GET /health HTTP/1.1\r\n" + h + b"Broken\r\n\r\n", {400}),
        ("space before the colon", b"GET /health HTTP/1.1\r\nHost : x\r\n\r\n", {400}),
        ("NUL in the request target", b"GET /hea\0lth HTTP/1.1\r\n" + h + b"\r\n", {400, 404}),
        ("binary garbage", bytes(range(1, 256)) * 4 + b"\r\n\r\n", {400, 0}),
        ("URI of 70 000 bytes", b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n" + h + b"\r\n", {414}),
        ("query of 8 000 bytes (served)", b"GET /recordings?session_id=" + b"a" * 8000 +
         b" HTTP/1.1\r\n" + h + b"\r\n", {200}),
        ("one header of 70 000 bytes", b"GET /health HTTP/1.1\r\n" + h + b"X-Big: " + b"a" * 70000 +
         b"\r\n\r\n", {431}),
        ("2 000 headers", b"GET /health HTTP/1.1\r\n" + h +
         b"".join(b"X-H%d: v\r\n" % i for i in range(2000)) + b"\r\n", {431}),
        ("two equal Content-Length", b"GET /health HTTP/1.1\r\n" + h +
         b"Content-Length: 0\r\nContent-Length: 0\r\n\r\n", {400}),
        ("two different Content-Length", b"POST /health HTTP/1.1\r\n" + h +
         b"Content-Length: 0\r\nContent-Length: 5\r\n\r\nhello", {400}),
        ("Content-Length and chunked", b"POST /health HTTP/1.1\r\n" + h +
         b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {400}),
        ("chunked and Content-Length", b"DELETE /recordings/" + FAKE.encode() + b" HTTP/1.1\r\n" + h +
         b"Transfer-Encoding: chunked\r\nContent-length: 3\r\n\r\n0\r\n\r\n", {400}),
        ("negative Content-Length", b"POST /health HTTP/1.1\r\n" + h + b"Content-Length: -1\r\n\r\n",
         {400}),
        ("Content-Length of 20 digits", b"POST /health HTTP/1.1\r\n" + h +
         b"Content-Length: 99999999999999999999\r\n\r\n", {413}),
        ("a 100 000-byte body", b"POST /health HTTP/1.1\r\n" + h + b"Content-Length: 100000\r\n\r\n" +
         body100k, {413}),
        ("a 100 000-byte chunked body", b"POST /health HTTP/1.1\r\n" + h +
         b"Transfer-Encoding: chunked\r\n\r\n" + chunked100k, {413}),
        ("a bad chunk size", b"POST /health HTTP/1.1\r\n" + h +
         b"Transfer-Encoding: chunked\r\n\r\nzz\r\n\r\n", {400}),
    ]
    for name, data, want in cases:
        t0 = hu.now()
        st, hdrs, body = hu.http_raw(system.http_port, data, timeout=8)
        took = hu.now() - t0
        res.check(f"{name}: {'/'.join(str(w) for w in sorted(want))}", st in want and took < 8,
                  f"{st} in {took:.1f} s {body[:80]!r}")
    alive(system, canary, res, "malformed requests")


# ---- routes x methods ----

def methods(system, canary, res):
    routes = {
        "/health": ("GET, HEAD", 200),
        "/recordings?session_id=m1": ("GET, HEAD", 200),
        "/recordings/" + FAKE: ("GET, HEAD, DELETE", 404),
        "/openapi.json": ("GET, HEAD", 200),
        "/docs": ("GET, HEAD", 200),
        "/metrics": ("GET, HEAD", 200),
        "/": ("GET, HEAD", 200),
        "/no/such/route": (None, 404),
    }
    bad = 0
    total = 0
    for path, (allowed, get_status) in routes.items():
        for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
                  "BREW"):
            st, hdrs, body = hu.http(system.http_port, m, path)
            total += 1
            if allowed is None:
                want = "404"
                ok = st == 404 and (m == "HEAD" or json.loads(body) == {"detail": "Not Found"})
            elif m in ("GET", "HEAD") or (m == "DELETE" and "DELETE" in allowed):
                want = str(get_status)
                ok = st == get_status and (m != "HEAD" or body == b"")
            else:
                # 405 with Allow naming what the route takes, never the method refused
                want = "405 + Allow"
                allow = [a.strip() for a in hdrs.get("allow", "").split(",")]
                ok = (st == 405 and json.loads(body) == {"detail": "Method Not Allowed"} and
                      all(a in allow for a in allowed.split(", ")) and m not in allow)
            if not ok:
                bad += 1
                print(f"FAIL {m} {path}: want {want}, got {st} Allow={hdrs.get('allow')} "
                      f"{body[:60]!r}", flush=True)
            if m == "TRACE":
                res.check(f"TRACE {path} does not echo the request", b"TRACE " not in body)
    res.check(f"every route x method answered right ({total} requests)", bad == 0,
              f"{bad} wrong")
    alive(system, canary, res, "every method on every route")


# ---- path traversal ----

def traversal(system, canary, res, fname):
    db = system.env.get("DB_PATH", os.path.join(system.data, "pycoustics.db"))
    secret = os.path.join(system.tmp, "secret.wav")
    with open(secret, "wb") as f:
        f.write(SECRET)
    before = {p: (os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in (db, secret)}
    rel_db = os.path.basename(db)
    attempts = [
        f"../{rel_db}", f"..%2f{rel_db}", f"%2e%2e%2f{rel_db}", f"%2E%2E%2F{rel_db}",
        f"%2e%2e/{rel_db}", f"..%5c{rel_db}", f"..\\{rel_db}", f"%252e%252e%252f{rel_db}",
        f"..%c0%af{rel_db}", f"..%e0%80%af{rel_db}", f"....//{rel_db}", f"..;/{rel_db}",
        f"%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", "../../../../../../etc/passwd",
        "/etc/passwd", "%2fetc%2fpasswd", f"%2f{secret.lstrip('/').replace('/', '%2f')}",
        secret, f"..%2f..%2f{os.path.basename(secret)}", f"../../{os.path.basename(secret)}",
        f"{fname}%00.txt", f"{fname}%00", f"{fname}%2500", f"{fname}/../{fname}",
        f"{fname}%2f..%2f..%2f{rel_db}", f"{fname}/", f"./{fname}", f"{fname}%20",
        f"{fname}.part",
        f"{fname}#../{rel_db}", "~", "%7e%2f", "rec_20240101T000000Z_AAAAAAAAAAAAAAAAAAA..%2f.wav",
        "rec_20240101T000000Z_....................%2f.wav",
    ]
    wrong = []
    for a in attempts:
        for m in ("GET", "DELETE"):
            st, _, body = hu.http(system.http_port, m, "/recordings/" + a)
            leaked = SECRET[:20] in body or b"SQLite format" in body or b"root:" in body
            if st not in (404, 400) or leaked:
                wrong.append(f"{m} {a}: {st} {body[:60]!r}")
    for w in wrong:
        print("FAIL " + w, flush=True)
    res.check(f"{len(attempts) * 2} traversal attempts on download and delete: 404/400, nothing read",
              not wrong, f"{len(wrong)} wrong")
    after = {p: (os.stat(p).st_size, os.stat(p).st_mtime_ns) if os.path.exists(p) else None
             for p in (db, secret)}
    res.check("the database and the outside file are untouched", after[secret] == before[secret]
              and after[db] is not None, str(after))
    with open(secret, "rb") as f:
        res.check("the outside file still holds what it held", f.read() == SECRET)
    st, hdrs, body = hu.http(system.http_port, "GET", f"/recordings/{fname}")
    res.check("the real recording is still served after the attempts",
              st == 200 and body[:4] == b"RIFF", str(st))
    alive(system, canary, res, "path traversal")


# ---- a planted symlink ----

def strace_start(pid, log):
    if shutil.which("strace") is None:
        return None
    p = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=open,openat,openat2,unlink,unlinkat,"
                          "rename,renameat,renameat2,truncate,readlink,readlinkat",
                          "-o", log, "-p", str(pid)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    time.sleep(0.5)
    if p.poll() is not None:
        return None
    return p


def symlink(system, canary, res):
    rec_pid = system.procs["recorder"].pid
    target = os.path.join(system.tmp, "outside-target.wav")
    with open(target, "wb") as f:
        f.write(SECRET)
    st0 = os.stat(target)
    log = os.path.join(system.tmp, "strace.log")
    c, fname = record(system, "symlink-owner")
    c2, fname2 = record(system, "symlink-owner")
    res.check("recordings to swap", fname is not None and fname2 is not None)
    tracer = strace_start(rec_pid, log)
    print(f"strace on the recorder: {'yes' if tracer else 'not available'}", flush=True)

    # 1: a symlink under a fresh valid name, no database row
    planted = "rec_20250101T000000Z_PLANTEDPLANTEDPLANTED.wav"
    link1 = os.path.join(system.recordings, planted)
    os.symlink(target, link1)
    st, _, body = hu.http(system.http_port, "GET", f"/recordings/{planted}")
    res.check("a planted symlink without a row: 404 on download", st == 404 and SECRET not in body,
              f"{st} {body[:60]!r}")
    st, _, body = hu.http(system.http_port, "DELETE", f"/recordings/{planted}")
    res.check("... and 404 on delete", st == 404, str(st))

    # 2: a real recording whose file is swapped for a symlink
    path = os.path.join(system.recordings, fname or "x")
    if fname:
        os.unlink(path)
        os.symlink(target, path)
        st, _, body = hu.http(system.http_port, "GET", f"/recordings/{fname}")
        res.check("a recording swapped for a symlink is not followed on download",
                  st in (404, 503) and SECRET not in body, f"{st} {body[:60]!r}")
        st, _, body = hu.http(system.http_port, "GET", f"/recordings/{fname}",
                              headers={"Range": "bytes=0-10"})
        res.check("... nor on a range request", st in (404, 503) and SECRET not in body, str(st))
        st, _, body = hu.http(system.http_port, "DELETE", f"/recordings/{fname}")
        res.check("delete of the swapped recording removes the link only",
                  st in (200, 404) and not os.path.lexists(path) or st == 503, f"{st}")
    # 3: the session ends (grace 0): its clean-up meets a planted link too
    if fname2:
        p2 = os.path.join(system.recordings, fname2)
        os.unlink(p2)
        os.symlink(target, p2)
    c.close()
    c2.close()
    time.sleep(1.0)
    st1 = os.stat(target)
    with open(target, "rb") as f:
        content = f.read()
    res.check("the target outside the folder is untouched (content, size, mtime)",
              content == SECRET and st1.st_size == st0.st_size and st1.st_mtime_ns == st0.st_mtime_ns)
    if tracer is not None:
        tracer.send_signal(signal.SIGINT)
        try:
            tracer.wait(5)
        except subprocess.TimeoutExpired:
            tracer.kill()
            tracer.wait(5)
        with open(log, errors="replace") as f:
            lines = f.read().splitlines()
        touching = [ln for ln in lines if "outside-target" in ln]
        planted_names = [n for n in (planted, fname, fname2) if n]
        followed = [ln for ln in lines if any(f'"{n}"' in ln for n in planted_names) and
                    re.search(r"open(at2?)?\(", ln) and not re.search(r"= -1 E", ln)]
        print(f"strace: {len(lines)} calls traced", flush=True)
        res.check("strace: the recorder never named the outside target", not touching,
                  "\n".join(touching[:5]))
        res.check("strace: every open of a planted link failed (O_NOFOLLOW)", not followed,
                  "\n".join(followed[:5]))
        res.check("strace saw the recorder's file calls (the trace worked)",
                  any("rec_" in ln for ln in lines), f"{len(lines)} lines")
    if os.path.lexists(link1):
        os.unlink(link1)
    alive(system, canary, res, "planted symlinks")


# ---- one session against another ----

def cross_session(system, canary, res):
    a_sid = "victimSession_0123456789abcdefXYZ"
    b_sid = "attackerSession-9876543210"
    ca, fa = record(system, a_sid)
    cb, fb = record(system, b_sid)
    _, fa2 = None, None
    ca.send_frame(1, b'{"action":"start_record"}')
    for _ in range(5):
        ca.send_frame(2, hu.tone(4800))
    ca.send_frame(1, b'{"action":"stop_record"}')
    fa2 = (ca.messages(10, want="recording_saved") or {}).get("filename")
    res.check("victim and attacker each recorded", fa and fb and fa2, f"{fa} {fb} {fa2}")
    st, la = listing(system, a_sid)
    res.check("the victim lists its 2 recordings", st == 200 and {r["filename"] for r in la} ==
              {fa, fa2}, str(la)[:200])
    # the attacker with its own id, near misses, wildcards and injections
    probes = [b_sid, a_sid.lower(), a_sid.upper(), a_sid[:-1], a_sid + "x", a_sid[:-1] + "_",
              "_" * len(a_sid), "%25", a_sid[:5] + "%25", "%2A", "*", a_sid + "%20",
              "%20" + a_sid, "x'%20OR%20'1'%3D'1",
              "x%22%20OR%201%3D1--", a_sid + "';--", "victimSession%5F0123456789abcdefXY"]
    leaked = []
    for q in probes:
        st, lst = listing(system, q)
        names = {r.get("filename") for r in lst} if isinstance(lst, list) else set()
        expected = {fb} if q == b_sid else set()
        if st != 200 or names != expected:
            leaked.append(f"{q}: {st} {names}")
    res.check(f"{len(probes)} listings with the attacker's id, near misses and wildcards show "
              "none of the victim's files", not leaked, "; ".join(leaked))
    # guessing the victim's file names: one character off in the random part or the time
    rnd = fa[21:43]
    guesses = [fa[:21] + ("B" if rnd[0] != "B" else "C") + rnd[1:] + ".wav",
               fa[:21] + rnd[:-1] + ("x" if rnd[-1] != "x" else "y") + ".wav",
               fa[:13] + ("0" if fa[13] != "0" else "1") + fa[14:],
               fb[:21] + rnd + ".wav", fa.upper(), fa.lower()]
    wrong = []
    for g in guesses:
        if g in (fa, fa2):
            continue
        for m in ("GET", "DELETE"):
            st, _, body = hu.http(system.http_port, m, f"/recordings/{g}")
            if st != 404:
                wrong.append(f"{m} {g}: {st}")
    res.check("guessed names (one character off) get 404 on download and delete", not wrong,
              "; ".join(wrong))
    res.check("file names carry 22 random characters that differ between recordings",
              len({fa[21:43], fa2[21:43], fb[21:43]}) == 3 and
              all(re.fullmatch(r"[A-Za-z0-9_-]{22}", n[21:43]) for n in (fa, fa2, fb)))
    # nothing public names the victim's id or files
    for path in ("/metrics", "/health", "/docs", "/openapi.json", f"/recordings/{FAKE}",
                 f"/recordings?session_id={b_sid}"):
        st, _, body = hu.http(system.http_port, "GET", path)
        res.check(f"{path} names neither the victim's id nor its files",
                  a_sid.encode() not in body and fa.encode() not in body and fa2.encode() not in body)
    # the attacker's socket never saw the victim's events
    seen = []
    end = hu.now() + 1.0
    while hu.now() < end:
        f = cb.recv_frame(0.1)
        if f and f[2] == 1:
            seen.append(f[3])
    res.check("the attacker's WebSocket saw nothing of the victim",
              not any(fa.encode() in s or a_sid.encode() in s for s in seen))
    # the victim's files are intact: downloadable by the one who holds the names
    for f_ in (fa, fa2):
        st, _, body = hu.http(system.http_port, "GET", f"/recordings/{f_}")
        res.check(f"the victim still downloads {f_[:24]}...", st == 200 and body[:4] == b"RIFF",
                  str(st))
    ca.close()
    cb.close()
    alive(system, canary, res, "cross-session attempts")


# ---- slow clients ----

def slow(system, canary, res):
    if shutil.which("slowhttptest") is None:
        res.check("slowhttptest is installed", False)
        return
    procs = []
    out = os.path.join(system.tmp, "slowhttptest")
    os.makedirs(out, exist_ok=True)
    plan = [("slowloris-http", ["-H"], system.http_port),
            ("slowbody-http", ["-B", "-s", "65000"], system.http_port),
            ("slowloris-ws", ["-H"], system.ws_port),
            ("slowbody-ws", ["-B", "-s", "65000"], system.ws_port)]
    for name, mode, port in plan:
        url = f"http://127.0.0.1:{port}/health" if port == system.http_port else \
            f"http://127.0.0.1:{port}/ws/audio?session_id=slow"
        log = open(os.path.join(out, name + ".log"), "w")
        procs.append((name, subprocess.Popen(
            ["slowhttptest"] + mode + ["-c", "200", "-r", "100", "-i", "1", "-l", "6", "-x", "8",
                                       "-p", "3", "-u", url],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log))
    time.sleep(2.5)  # the attack is in full swing
    during = []
    t_end = hu.now() + 3.0
    meters0 = canary.count()
    while hu.now() < t_end:
        try:
            st = hu.http(system.http_port, "GET", "/health", source="127.0.0.2", timeout=5)[0]
        except OSError as e:
            st = repr(e)
        during.append(st)
        time.sleep(0.3)
    c = hu.ws_init(system.ws_port, "slow-probe", source="127.0.0.3")
    res.check("during the slow attacks a new WebSocket session (another address) gets ready",
              c.upgraded and c.ready is not None, str(c.status))
    if c.upgraded:
        c.send_frame(2, hu.tone(960))
        res.check("... and its meter", c.messages(5, want="meter") is not None)
    c.close()
    res.check("during the slow attacks the canary keeps getting meters",
              canary.count() >= meters0 + 10 and canary.error is None,
              f"{canary.count() - meters0} meters in 3 s, {canary.error}")
    res.check("during the slow attacks /health (another address) answers 200",
              all(s == 200 for s in during), str(during))
    for name, p, log in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)
        log.close()
        with open(os.path.join(out, name + ".log"), errors="replace") as f:
            text = f.read()
        tail = [ln.strip() for ln in text.splitlines() if "connected:" in ln or "service available" in ln]
        print(f"{name}: exit {p.returncode}; {' | '.join(tail[-2:])}", flush=True)
    # after: the attacker's own address is served again within a few seconds
    st = 0
    for _ in range(50):
        try:
            st = hu.http(system.http_port, "GET", "/health", timeout=3)[0]
        except OSError:
            st = 0
        if st == 200:
            break
        time.sleep(0.2)
    res.check("after the slow attacks 127.0.0.1 is served again", st == 200, str(st))
    c = hu.ws_init(system.ws_port, "after-slow")
    res.check("after the slow attacks a new session from 127.0.0.1 gets ready", c.ready is not None)
    c.close()
    alive(system, canary, res, "slowhttptest")


def hostile(system, canary, res):
    malformed(system, canary, res)
    methods(system, canary, res)
    c, fname = record(system, "traversal-owner")
    res.check("a recording for the traversal attempts", fname is not None)
    traversal(system, canary, res, fname or FAKE)
    c.close()
    symlink(system, canary, res)
    cross_session(system, canary, res)
    slow(system, canary, res)


if __name__ == "__main__":
    sys.exit(hu.run_main(hostile, {"SESSION_GRACE_SECONDS": "0", "TRUSTED_PROXIES": "",
                                   "HTTP_TIMEOUT_SECONDS": "5"}))
