#!/usr/bin/python3
"""check_deploy.py - validates the deployment files without a Docker engine.

Runs Debian's docker-compose `config` on the base file, on base + override,
and with a sample .env, and checks what a deployment relies on: no host
ports in the base file, a scalable dsp-worker, internal-only workers and
recorder, hardening on every service, variables substituted. Then runs
dockerfilelint (npm) on the four Dockerfiles, and that no deployment file
still names the old WebSocket port 8001. Prints `N passed, N failed`.
"""
import os
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond)))
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else "  " + detail))


def compose(*args, env_file=None):
    cmd = ["docker-compose", "--project-directory", ROOT]
    if env_file:
        cmd += ["--env-file", env_file]
    cmd += list(args) + ["config"]
    env = {k: v for k, v in os.environ.items()
           if k not in ("FRONTEND_URL", "API_URL", "WS_URL", "BACKEND_PORT",
                        "WS_PORT", "FRONTEND_PORT")}
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        return None
    return yaml.safe_load(out.stdout)


def published(svc):
    ports = []
    for p in svc.get("ports", []) or []:
        if isinstance(p, dict):
            ports.append(f"{p.get('published')}:{p.get('target')}")
        else:
            ports.append(str(p))
    return ports


base = compose("-f", "docker-compose.yml")
check("base file is valid", base is not None)
if base:
    svcs = base["services"]
    check("four services", sorted(svcs) == ["dsp-worker", "frontend", "gateway", "recorder"],
          str(sorted(svcs)))
    check("no host ports in the base file",
          all(not s.get("ports") for s in svcs.values()))
    check("dsp-worker is scalable (no container_name)", "container_name" not in svcs["dsp-worker"])
    check("dsp-worker has init for its forked workers", svcs["dsp-worker"].get("init") is True)
    for n in ("dsp-worker", "recorder"):
        check(f"{n} only on the internal network", list(svcs[n]["networks"]) == ["backend"],
              str(svcs[n]["networks"]))
    check("backend network is internal", base["networks"]["backend"].get("internal") is True)
    for n, s in svcs.items():
        check(f"{n} has a read-only root", s.get("read_only") is True)
        check(f"{n} drops all capabilities", s.get("cap_drop") == ["ALL"])
        check(f"{n} sets no-new-privileges", "no-new-privileges:true" in s.get("security_opt", []))
        check(f"{n} has a restart policy", s.get("restart") == "unless-stopped")
        check(f"{n} has a tmpfs", "/tmp" in (s.get("tmpfs") or []))
        check(f"{n} has resource limits", "limits" in s.get("deploy", {}).get("resources", {}))
    vols = [v["source"] if isinstance(v, dict) else v.split(":")[0]
            for v in svcs["recorder"].get("volumes", [])]
    check("recorder has named volumes for recordings and database",
          "recordings" in vols and "database" in vols, str(vols))
    check("workers dial the gateway over tcp",
          svcs["dsp-worker"]["environment"]["GATEWAY_URL"] == "tcp://gateway:7000")
    check("stop grace long enough to finalise recordings",
          all(svcs[n].get("stop_grace_period") for n in ("gateway", "dsp-worker", "recorder")))
    check("gateway waits for a healthy recorder",
          svcs["gateway"]["depends_on"]["recorder"]["condition"] == "service_healthy")
    check("default FRONTEND_URL", svcs["gateway"]["environment"]["FRONTEND_URL"] == "http://localhost:3000")
    gw_env = svcs["gateway"]["environment"]
    check("the gateway has one public port: no WS_PORT, 8000 exposed, not 8001",
          "WS_PORT" not in gw_env and gw_env.get("BACKEND_PORT") == "8000" and
          "8001" not in [str(p) for p in svcs["gateway"].get("expose", [])],
          str(gw_env) + str(svcs["gateway"].get("expose")))
    fe_env = svcs["frontend"]["environment"]
    check("nginx proxies the API and /ws/ to the gateway's one port",
          fe_env.get("GATEWAY_ADDR") == "gateway:8000" and "GATEWAY_WS" not in fe_env,
          str(fe_env))

full = compose()
check("base + override is valid", full is not None)
if full:
    s = full["services"]
    check("override publishes the frontend on 3000", "3000:8080" in published(s["frontend"]),
          str(published(s["frontend"])))
    check("override publishes the gateway's one port, 8000 (API and WebSocket)",
          published(s["gateway"]) == ["8000:8000"], str(published(s["gateway"])))
    check("workers and recorder publish nothing",
          not s["dsp-worker"].get("ports") and not s["recorder"].get("ports"))

env = compose(env_file=os.path.join(HERE, "sample.env"))
check("with a sample .env it is valid", env is not None)
if env:
    s = env["services"]
    check("ports come from .env", "4000:8080" in published(s["frontend"]) and
          published(s["gateway"]) == ["9000:8000"],
          str(published(s["frontend"])) + str(published(s["gateway"])))
    args = s["frontend"]["build"]["args"]
    check("API_URL and WS_URL become the dashboard's build args",
          args.get("VITE_API_URL") == "https://api.example.com" and
          args.get("VITE_WS_URL") == "wss://api.example.com", str(args))
    check("FRONTEND_URL reaches the gateway",
          s["gateway"]["environment"]["FRONTEND_URL"] == "https://app.example.com")
    check("pool size comes from .env", s["dsp-worker"]["environment"]["DSP_POOL_SPARE"] == "8")

lint = os.path.join(HERE, "node_modules", ".bin", "dockerfilelint")
if not os.path.exists(lint):
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=False,
                   capture_output=True, timeout=300)
for svc in ("gateway", "dsp-worker", "recorder", "frontend"):
    path = os.path.join(ROOT, svc, "Dockerfile")
    r = subprocess.run([lint, path], capture_output=True, text=True, timeout=60)
    check(f"dockerfilelint {svc}/Dockerfile", r.returncode == 0, r.stdout[-500:])

for rel in ("docker-compose.yml", "docker-compose.override.yml", ".env",
            "deploy/nginx.conf.template", "deploy/frontend-entrypoint.sh",
            "gateway/Dockerfile", "frontend/Dockerfile", "gateway/openapi.json"):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        text = f.read()
    check(f"{rel} does not name port 8001 or GATEWAY_WS",
          "8001" not in text and "GATEWAY_WS" not in text)

passed = sum(1 for _, ok in results if ok)
failed = len(results) - passed
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
