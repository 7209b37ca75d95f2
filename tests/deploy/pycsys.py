"""pycsys.py - starts the real Pycoustics processes for the deployment tests.

The processes are configured only through the environment variables the
compose file sets, optionally inside a network namespace (`ip netns exec`).
Every wait is bounded and every process is stopped (SIGTERM, then SIGKILL)
when the test ends, pass or fail.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BINARIES = {
    "gateway": "gateway/pyc-gateway",
    "dsp-worker": "dsp-worker/pyc-dsp-worker",
    "recorder": "recorder/pyc-recorder",
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(host, port, timeout=10.0, netns=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if netns is None:
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    return True
            except OSError:
                pass
        else:
            r = subprocess.run(["ip", "netns", "exec", netns, "bash", "-c",
                                f"exec 3<>/dev/tcp/{host}/{port}"],
                               capture_output=True, timeout=5)
            if r.returncode == 0:
                return True
        time.sleep(0.05)
    return False


def http_get(url, timeout=5.0, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class System:
    """A set of service processes; stop() ends them all."""

    def __init__(self, build_dir):
        self.build_dir = os.path.abspath(build_dir)
        self.procs = []
        self.tmp = tempfile.mkdtemp(prefix="pycoustics-test-")

    def binary(self, kind):
        path = os.path.join(self.build_dir, BINARIES[kind])
        if not os.access(path, os.X_OK):
            raise FileNotFoundError(f"{path} is not built")
        return path

    def start(self, kind, env, netns=None, name=None):
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "LOG_LEVEL": os.environ.get("PYC_TEST_LOG_LEVEL", "warn")}
        full_env.update(env)
        cmd = [self.binary(kind)]
        if netns:
            cmd = ["ip", "netns", "exec", netns, "env", "-i"] + \
                  [f"{k}={v}" for k, v in full_env.items()] + cmd
        p = subprocess.Popen(cmd, env=full_env, stdout=sys.stderr, stderr=sys.stderr,
                             start_new_session=True)
        p.pyc_name = name or kind
        self.procs.append(p)
        return p

    def kill(self, p, sig=signal.SIGKILL):
        """Signals the process group (a host and its workers share it)."""
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout=10.0):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        end = time.monotonic() + timeout
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        subprocess.run(["rm", "-rf", self.tmp], check=False)


def local_env(tmp, http_port, origins="http://localhost:3000"):
    """The environment of a one-machine system on loopback and ipc://; the
    gateway serves HTTP and the WebSocket on http_port."""
    return {
        "DATA_DIR": os.path.join(tmp, "data"),
        "RUN_DIR": os.path.join(tmp, "run"),
        "BACKEND_PORT": str(http_port),
        "BIND_ADDRESS": "127.0.0.1",
        "FRONTEND_URL": origins,
        "DSP_POOL_SPARE": "2",
        "DSP_POOL_MAX": "16",
    }


class Results:
    def __init__(self):
        self.items = []

    def check(self, name, cond, detail=""):
        self.items.append(bool(cond))
        print(("ok   " if cond else "FAIL ") + name + ("" if cond else f"  {detail}"),
              flush=True)
        return bool(cond)

    def finish(self):
        passed = sum(self.items)
        failed = len(self.items) - passed
        print(f"{passed} passed, {failed} failed", flush=True)
        return 0 if failed == 0 and passed > 0 else 1


def meter_after(ws_recv, timeout=5.0, want="meter"):
    """Receives JSON messages until one of type `want` arrives (bounded)."""
    end = time.monotonic() + timeout
    seen = []
    while time.monotonic() < end:
        msg = ws_recv(max(0.05, end - time.monotonic()))
        if msg is None:
            continue
        if isinstance(msg, bytes):
            continue
        data = json.loads(msg)
        seen.append(data.get("type"))
        if data.get("type") == want:
            return data, seen
    return None, seen
