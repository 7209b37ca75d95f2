// e2e/backend.mjs - starts the real backend (recorder, dsp-worker host, gateway) for the browser tests.
//
// NOTES: binaries come from $PYC_BUILD_DIR (default: <repo>/build). Each
// run gets its own DATA_DIR and RUN_DIR in a temp folder, so it never
// touches a developer's recordings, and ipc:// sockets live there too. The
// gateway serves the built dashboard (FRONTEND_DIR), the API and the
// WebSocket on its one port, BACKEND_PORT (8000 unless httpPort says
// otherwise): the dashboard opens its WebSocket on the page's own port.
// With runLocal the backend is `make run`'s supervisor,
// scripts/run-local.sh, as a developer starts it (its own FRONTEND_URL
// default). $PYC_E2E_START may name a command that starts the backend
// instead (it gets the same environment and must keep running).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";

const HERE = dirname(fileURLToPath(import.meta.url));
export const FRONTEND = resolve(HERE, "..");
export const REPO = resolve(FRONTEND, "..");

export const BINARIES = {
  recorder: "recorder/pyc-recorder",
  dsp: "dsp-worker/pyc-dsp-worker",
  gateway: "gateway/pyc-gateway",
};

/** Why the backend cannot be started here, or null if it can. */
export function missingPieces(buildDir, frontendDir) {
  const out = [];
  if (!process.env.PYC_E2E_START) {
    for (const rel of Object.values(BINARIES)) {
      if (!existsSync(join(buildDir, rel))) out.push(`${join(buildDir, rel)} is missing (build the backend: make build)`);
    }
  }
  if (!existsSync(join(frontendDir, "index.html"))) out.push(`${frontendDir}/index.html is missing (npm run build)`);
  return out;
}

/** A free loopback port (the kernel's choice; never 8000). */
export async function freePort() {
  for (;;) {
    const port = await new Promise((res, rej) => {
      const s = net.createServer();
      s.once("error", rej);
      s.listen(0, "127.0.0.1", () => {
        const p = s.address().port;
        s.close(() => res(p));
      });
    });
    if (port !== 8000) return port;
  }
}

function portFree(port) {
  return new Promise((res) => {
    const s = net.createServer();
    s.once("error", () => res(false));
    s.listen(port, "127.0.0.1", () => s.close(() => res(true)));
  });
}

async function waitHttp(url, ms, isAlive) {
  const end = Date.now() + ms;
  let last = "";
  while (Date.now() < end) {
    if (!isAlive()) throw new Error(`the backend exited while starting (${last})`);
    try {
      const r = await fetch(url);
      if (r.ok) return await r.json().catch(() => ({}));
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e.cause?.code ?? e.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready after ${ms} ms (${last})`);
}

export class Backend {
  constructor({ buildDir, frontendDir, logDir, httpPort = 8000, runLocal = false }) {
    this.buildDir = buildDir;
    this.frontendDir = frontendDir;
    this.logDir = logDir;
    this.httpPort = httpPort;
    this.runLocal = runLocal;
    this.procs = new Map(); // name -> ChildProcess
    this.tmp = mkdtempSync(join(tmpdir(), "pyc-e2e-"));
    this.env = {
      ...process.env,
      DATA_DIR: join(this.tmp, "data"),
      RUN_DIR: join(this.tmp, "run"),
      BACKEND_PORT: String(httpPort),
      BIND_ADDRESS: "127.0.0.1",
      FRONTEND_DIR: frontendDir,
      FRONTEND_URL: `http://127.0.0.1:${httpPort},http://localhost:${httpPort}`,
      SESSION_GRACE_SECONDS: "30",
      DSP_POOL_SPARE: "2",
      LOG_LEVEL: process.env.LOG_LEVEL || "info",
    };
    delete this.env.WS_PORT;
    if (runLocal) delete this.env.FRONTEND_URL; // run-local.sh's own default for its port
    mkdirSync(this.env.DATA_DIR, { recursive: true });
    mkdirSync(this.env.RUN_DIR, { recursive: true });
    mkdirSync(logDir, { recursive: true });
  }

  get url() {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  #spawn(name, cmd, args, shell = false) {
    const log = openSync(join(this.logDir, `backend-${name}.log`), "a");
    const p = spawn(cmd, args, { env: this.env, stdio: ["ignore", log, log], shell });
    p.on("exit", (code, sig) => {
      p.exitInfo = sig ? `signal ${sig}` : `exit ${code}`;
    });
    this.procs.set(name, p);
    return p;
  }

  async start() {
    if (!(await portFree(this.httpPort))) throw new Error(`port ${this.httpPort} is in use (stop \`make run\` or whatever holds it)`);
    if (this.runLocal) {
      this.#spawn("run-local", join(REPO, "scripts", "run-local.sh"), [this.buildDir]);
    } else if (process.env.PYC_E2E_START) {
      this.#spawn("custom", process.env.PYC_E2E_START, [], true);
    } else {
      this.#spawn("recorder", join(this.buildDir, BINARIES.recorder), []);
      this.#spawn("dsp", join(this.buildDir, BINARIES.dsp), []);
      this.#spawn("gateway", join(this.buildDir, BINARIES.gateway), []);
    }
    const alive = () => [...this.procs.values()].every((p) => p.exitCode === null && p.signalCode === null);
    this.health = await waitHttp(`${this.url}/health`, 20_000, alive);
    return this;
  }

  /** Pids of dsp-worker processes whose title names the session (first 8 characters of its id). */
  workerPidsFor(sessionId) {
    const needle = `session ${sessionId.slice(0, 8)}`;
    const pids = [];
    for (const d of readdirSync("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const cmd = readFileSync(`/proc/${d}/cmdline`, "latin1").replace(/\0+/g, " ");
        if (cmd.includes("pycoustics-dsp") && cmd.includes(needle)) pids.push(Number(d));
      } catch {
        /* gone */
      }
    }
    return pids;
  }

  /** Pids whose parent is `pid` (the dsp host's session workers). */
  childrenOf(pid) {
    const out = [];
    for (const d of readdirSync("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, "latin1");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (ppid === pid) out.push(Number(d));
      } catch {
        /* gone */
      }
    }
    return out;
  }

  async stop() {
    const ps = [...this.procs.values()].reverse();
    const orphans = ps.flatMap((p) => (p.pid ? this.childrenOf(p.pid) : []));
    for (const p of ps) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
    const end = Date.now() + 5000;
    while (Date.now() < end && ps.some((p) => p.exitCode === null && p.signalCode === null)) {
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const p of ps) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    for (const pid of orphans) {
      try {
        process.kill(pid, "SIGKILL"); // a worker its host did not take down
      } catch {
        /* already gone */
      }
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
