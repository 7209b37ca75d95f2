#!/usr/bin/python3
"""it_run_local.py - `make run`'s supervisor (scripts/run-local.sh) on a
non-default BACKEND_PORT, used by a client set up the earlier way.

Starts scripts/run-local.sh with BACKEND_PORT on a free port (never 8000)
and its data in a temporary folder, checks that the printed WebSocket URL
is on that same port, then runs one_url_client.py against the one base URL
http://127.0.0.1:PORT (stream, record, list, download, delete), with the
page's own origin as a browser would send it (run-local.sh allows it), and
finally that SIGTERM stops everything with status 0.
Usage: it_run_local.py BUILD_DIR
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import one_url_client  # noqa: E402
import pycsys  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    res = pycsys.Results()
    tmp = tempfile.mkdtemp(prefix="pyc-runlocal-")
    port = pycsys.free_port()
    while port == 8000:
        port = pycsys.free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("FRONTEND_URL", "WS_PORT", "BACKEND_PORT")}
    env.update({"BACKEND_PORT": str(port), "DATA_DIR": os.path.join(tmp, "data"),
                "RUN_DIR": os.path.join(tmp, "run"), "BIND_ADDRESS": "127.0.0.1",
                "DSP_POOL_SPARE": "2", "LOG_LEVEL": "warn"})
    out_path = os.path.join(tmp, "run-local.out")
    out = open(out_path, "w")
    p = subprocess.Popen([os.path.join(ROOT, "scripts", "run-local.sh"), sys.argv[1]], env=env,
                         stdout=out, stderr=sys.stderr, start_new_session=True)
    try:
        res.check(f"run-local.sh serves port {port}", pycsys.wait_port("127.0.0.1", port, 15))
        base = f"http://127.0.0.1:{port}"
        end = time.monotonic() + 20
        while time.monotonic() < end:
            try:
                if pycsys.http_get(base + "/health")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        printed = open(out_path).read()
        res.check("it prints the WebSocket on the same port",
                  f"ws://localhost:{port}/ws/audio" in printed, printed[-400:])
        one_url_client.run(base, base, res)
    except Exception as e:  # a failure anywhere is a failed check
        res.check("no exception", False, repr(e))
    finally:
        os.killpg(p.pid, signal.SIGTERM) if p.poll() is None else None
        try:
            rc = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            rc = p.wait(timeout=5)
        res.check("SIGTERM stops run-local.sh and its processes (status 0)", rc == 0, str(rc))
        out.close()
        subprocess.run(["rm", "-rf", tmp], check=False)
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
