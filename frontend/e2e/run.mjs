#!/usr/bin/env node
// e2e/run.mjs - browser tests of the dashboard against the real backend, in Debian's Chromium.
//
// NOTES: starts recorder, dsp-worker host and gateway (e2e/backend.mjs),
// with the gateway serving frontend/dist, then drives Chromium through
// playwright-core. The fake microphone plays a 1 kHz WAV written here.
// Every wait is bounded. Screenshots and backend logs go to
// frontend/test-results/. Ends with "e2e: N passed, N failed"; when the
// backend binaries or the build are missing it says why and counts the
// tests as skipped (exit 0), or failed with PYC_E2E_REQUIRED=1.
// Usage: npm run test:e2e [-- name-filter]
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { Backend, FRONTEND, REPO, freePort, missingPieces } from "./backend.mjs";
import { launch, CHROMIUM } from "./browser.mjs";
import { parseWav, writeSineWav } from "./wav.mjs";
import { existsSync } from "node:fs";

const BUILD = resolve(process.env.PYC_BUILD_DIR || join(REPO, "build"));
const DIST = resolve(process.env.FRONTEND_DIR || join(FRONTEND, "dist"));
const OUT = join(FRONTEND, "test-results");
const filter = process.argv[2] || "";

const TONE_HZ = 1000;
const MIC_AMPLITUDE = 0.5; // peak; RMS = 0.5 / sqrt(2) = -9.03 dBFS
const SIGNAL_LEVEL_DB = -12; // the dashboard's default test signal (peak dBFS)
const rmsOfSineDb = (peakDb) => peakDb - 10 * Math.log10(2);

// ---- tiny harness ---------------------------------------------------------
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

async function waitFor(what, fn, ms = 15_000, every = 200) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// ---- page helpers ---------------------------------------------------------
async function readout(page) {
  return page.evaluate(() => {
    const q = (id, attr) => document.querySelector(`[data-testid="${id}"]`)?.getAttribute(attr) ?? null;
    const num = (v) => (v === null || v === "" || v === "-inf" ? null : Number(v));
    return {
      state: q("connection-state", "data-state"),
      peakHz: num(q("spectrum-peak-hz", "data-hz")),
      peakDb: num(q("spectrum-peak-db", "data-db")),
      rmsL: num(q("rms-L", "data-db")),
      rmsR: num(q("rms-R", "data-db")),
      rate: Number(document.querySelector('[data-testid="meter-rate"]')?.textContent ?? 0),
      source: q("source-active", "data-source"),
    };
  });
}

async function openDashboard(browser, backend, viewport = { width: 1440, height: 900 }, scale = 1) {
  const ctx = await browser.newContext({ viewport, deviceScaleFactor: scale, acceptDownloads: true });
  await ctx.grantPermissions(["microphone"], { origin: backend.url });
  const page = await ctx.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && !/WebSocket|Failed to load resource/.test(m.text())) page.errors.push(m.text());
  });
  await page.goto(`${backend.url}/`);
  return { ctx, page };
}

async function waitLive(page, ms = 15_000) {
  await waitFor("the connection to be live", async () => (await readout(page)).state === "live", ms);
}

/** Waits until the left RMS is steady within 0.3 dB over a second and returns it with the peak. */
async function steadyLevel(page, ms = 15_000) {
  let prev = null;
  return waitFor(
    "a steady level",
    async () => {
      const r = await readout(page);
      if (r.rate <= 0 || r.rmsL === null) return null;
      const ok = prev && Math.abs(prev.rmsL - r.rmsL) < 0.3;
      prev = r;
      return ok ? r : null;
    },
    ms,
    500,
  );
}

function near(x, target, tol) {
  return x !== null && Math.abs(x - target) <= tol;
}

async function setNumber(page, testId, value) {
  const box = page.locator(`[data-testid="${testId}-number"]`);
  await box.fill(String(value));
  await box.press("Enter");
}

async function sessionIdOf(page) {
  return page.evaluate(() => sessionStorage.getItem("pycoustics.session_id"));
}

// ---- the tests ------------------------------------------------------------
let backend;
let browser;
let micBrowser;

test("test signal: a fresh page goes live and shows a 1 kHz peak at the signal's level", async () => {
  const { ctx, page } = await openDashboard(browser, backend);
  try {
    await waitLive(page);
    const r = await steadyLevel(page);
    assert(r.source === "signal", `the test signal should stream by itself, source is ${r.source}`);
    assert(near(r.peakHz, TONE_HZ, TONE_HZ * 0.06), `spectrum peak at ${r.peakHz} Hz, expected ~${TONE_HZ} Hz`);
    const want = rmsOfSineDb(SIGNAL_LEVEL_DB);
    assert(near(r.rmsL, want, 1) && near(r.rmsR, want, 1), `RMS ${r.rmsL}/${r.rmsR} dB, expected ${want.toFixed(2)} +-1 dB`);
    // the other signals reach the meters too
    for (const type of ["white", "pink", "sweep"]) {
      await page.locator('[data-testid="signal-type"] button', { hasText: new RegExp(`^${type}$`, "i") }).click();
      await page.waitForTimeout(1200);
      const s = await readout(page);
      assert(s.rmsL !== null && s.rmsL > -40, `${type}: level ${s.rmsL} dB looks like silence`);
    }
    await page.locator('[data-testid="signal-type"] button', { hasText: /^sine$/i }).click();
    await page.selectOption('[data-testid="signal-route"]', "left");
    await waitFor("the right channel to fall silent", async () => {
      const s = await readout(page);
      return s.rmsR !== null && s.rmsR < -60 && s.rmsL > -20;
    }, 8000);
    assert(page.errors.length === 0, `page errors: ${page.errors.join("; ")}`);
  } finally {
    await ctx.close();
  }
});

test("monitor: the processed audio comes back and plays", async () => {
  const { ctx, page } = await openDashboard(browser, backend);
  try {
    await waitLive(page);
    await steadyLevel(page);
    await page.click('[data-testid="monitor"]');
    const rate = await waitFor(
      "processed audio frames",
      async () => Number((await page.textContent('[data-testid="monitor-rate"]').catch(() => "0")) || 0) >= 20 && page.textContent('[data-testid="monitor-rate"]'),
      10_000,
    );
    assert(Number(rate) <= 60, `monitor frames per second ${rate}`);
    const errors = await page.locator('[data-testid="notice-error"]').allTextContents();
    assert(errors.length === 0, `errors shown: ${errors.join(" | ")}`);
    await page.click('[data-testid="monitor"]');
    await waitFor("the monitor stream to stop", async () => (await page.locator('[data-testid="monitor-rate"]').count()) === 0, 5000);
  } finally {
    await ctx.close();
  }
});

test("screenshots at desktop and phone sizes with live data", async () => {
  mkdirSync(join(OUT, "screenshots"), { recursive: true });
  for (const [name, vp, scale] of [["desktop-1440x900", { width: 1440, height: 900 }, 1], ["phone-390x844", { width: 390, height: 844 }, 2]]) {
    const { ctx, page } = await openDashboard(browser, backend, vp, scale);
    try {
      await waitLive(page);
      await steadyLevel(page);
      await page.waitForTimeout(2500); // let the spectrogram fill a little
      await page.screenshot({ path: join(OUT, "screenshots", `${name}.png`) });
      await page.screenshot({ path: join(OUT, "screenshots", `${name}-full.png`), fullPage: true });
    } finally {
      await ctx.close();
    }
  }
});

test("microphone: the fake device's 1 kHz tone shows its peak and level", async () => {
  const { ctx, page } = await openDashboard(micBrowser, backend);
  try {
    await waitLive(page);
    await page.click('[data-testid="tab-mic"]');
    await page.click('[data-testid="mic-start"]');
    await waitFor("the microphone to stream", async () => (await readout(page)).source === "mic", 10_000);
    await page.waitForTimeout(1500); // the signal generator's last meters drain
    const r = await steadyLevel(page);
    const want = rmsOfSineDb(20 * Math.log10(MIC_AMPLITUDE));
    assert(r.rmsL !== null && r.rmsL > -60, `microphone level ${r.rmsL} dB is silence`);
    assert(near(r.peakHz, TONE_HZ, TONE_HZ * 0.06), `spectrum peak at ${r.peakHz} Hz, expected ~${TONE_HZ} Hz`);
    assert(near(r.rmsL, want, 1), `microphone RMS ${r.rmsL} dB, expected ${want.toFixed(2)} +-1 dB`);
  } finally {
    await ctx.close();
  }
});

test("low-pass: a cutoff two octaves below the tone drops the level as a 4th-order Butterworth does", async () => {
  const { ctx, page } = await openDashboard(browser, backend);
  try {
    await waitLive(page);
    const before = await steadyLevel(page);
    const fc = 250;
    const order = 4;
    await page.click('[data-testid="filter-enabled"]');
    await page.selectOption('[data-testid="filter-order"]', String(order));
    await setNumber(page, "cutoff", fc);
    const expectDrop = 10 * Math.log10(1 + Math.pow(TONE_HZ / fc, 2 * order)); // 48.2 dB
    const r = await waitFor("the filtered level", async () => {
      const s = await readout(page);
      return s.rmsL !== null && before.rmsL - s.rmsL > expectDrop - 3 ? s : null;
    }, 10_000);
    const after = await steadyLevel(page);
    const drop = before.rmsL - after.rmsL;
    assert(Math.abs(drop - expectDrop) <= 3, `level fell by ${drop.toFixed(1)} dB (${before.rmsL} -> ${after.rmsL}), expected ${expectDrop.toFixed(1)} +-3 dB`);
    void r;
    // and back: the filter off restores the level
    await page.click('[data-testid="filter-enabled"]');
    await waitFor("the level to come back", async () => near((await readout(page)).rmsL, before.rmsL, 1), 10_000);
  } finally {
    await ctx.close();
  }
});

test("recording: 3 s recorded, listed, downloaded as a valid WAV of that length, played, deleted", async () => {
  const { ctx, page } = await openDashboard(browser, backend);
  try {
    await waitLive(page);
    await steadyLevel(page);
    await page.click('[data-testid="record-start"]');
    await waitFor("the recording clock", async () => (await page.textContent('[data-testid="record-clock"]')) !== "00:00.0", 3000);
    await page.waitForTimeout(3000);
    await page.click('[data-testid="record-stop"]');
    const item = page.locator('[data-testid="recording"]').first();
    await item.waitFor({ timeout: 15_000 });
    const filename = await item.getAttribute("data-filename");
    assert(filename && /\.wav$/.test(filename), `listed file name ${filename}`);
    // download through the page's own link
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: 10_000 }), item.locator('[data-testid="rec-download"]').click()]);
    const path = join(OUT, `download-${filename}`);
    await download.saveAs(path);
    const { readFileSync } = await import("node:fs");
    const wav = parseWav(readFileSync(path));
    rmSync(path, { force: true });
    const rate = await page.evaluate(() => new AudioContext().sampleRate);
    assert(wav.format === 1 && wav.bits === 16, `format ${wav.format}, ${wav.bits} bits; expected 16-bit PCM`);
    assert(wav.channels === 2, `channels ${wav.channels}`);
    assert(wav.rate === rate, `rate ${wav.rate}, the session streams at ${rate}`);
    assert(wav.seconds > 2.5 && wav.seconds < 4.0, `recording lasts ${wav.seconds.toFixed(2)} s, expected about 3 s`);
    // play in the <audio> element, and seek
    await item.locator('[data-testid="rec-play"]').click();
    const player = page.locator('[data-testid="player"]');
    await player.waitFor({ timeout: 5000 });
    const dur = await waitFor("the player to know the duration", () => player.evaluate((a) => (a.readyState >= 1 && Number.isFinite(a.duration) ? a.duration : 0)), 10_000);
    assert(Math.abs(dur - wav.seconds) < 0.1, `player duration ${dur} vs file ${wav.seconds}`);
    await player.evaluate((a) => a.play());
    await waitFor("playback to advance", () => player.evaluate((a) => a.currentTime > 0.2), 8000);
    await player.evaluate((a) => {
      a.pause();
      a.currentTime = 2.0;
    });
    await waitFor("the seek to land", () => player.evaluate((a) => !a.seeking && Math.abs(a.currentTime - 2.0) < 0.05), 5000);
    // delete, with confirmation
    await item.locator('[data-testid="rec-delete"]').click();
    await page.click('[data-testid="rec-confirm-delete"]');
    await waitFor("the list to lose the recording", async () => (await page.locator(`[data-filename="${filename}"]`).count()) === 0, 10_000);
    const gone = await fetch(`${backend.url}/recordings/${encodeURIComponent(filename)}`);
    assert(gone.status === 404, `GET after delete answered ${gone.status}`);
  } finally {
    await ctx.close();
  }
});

test("worker crash: the dashboard reports the restart and the meters come back", async () => {
  const { ctx, page } = await openDashboard(browser, backend);
  try {
    await waitLive(page);
    const before = await steadyLevel(page);
    const sid = await sessionIdOf(page);
    const pids = await waitFor("the session's worker process", () => backend.workerPidsFor(sid).length && backend.workerPidsFor(sid), 5000);
    for (const pid of pids) process.kill(pid, "SIGKILL");
    await waitFor(
      "a restart notice or a reconnect",
      async () =>
        (await page.locator('[data-testid="notice-warn"][data-code="worker_restarted"]').count()) > 0 ||
        (await readout(page)).state !== "live",
      10_000,
      100,
    );
    await waitLive(page, 20_000);
    const after = await steadyLevel(page, 20_000);
    assert(near(after.rmsL, before.rmsL, 1), `level after restart ${after.rmsL} dB, before ${before.rmsL} dB`);
    const newPids = backend.workerPidsFor(sid);
    assert(newPids.length && !newPids.some((p) => pids.includes(p)), `the session should have a new worker (old ${pids}, now ${newPids})`);
  } finally {
    await ctx.close();
  }
});

test("network drop: the WebSocket returns and resumes the same session (parameters and recording kept)", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const links = [];
  // every dashboard socket goes through a relay the test can cut
  await page.routeWebSocket(/\/ws\/audio/, (ws) => {
    const server = ws.connectToServer();
    links.push({ ws, server, url: ws.url() });
  });
  try {
    await page.goto(`${backend.url}/`);
    await waitLive(page);
    const base = await steadyLevel(page);
    await setNumber(page, "gain", 6);
    const gained = await waitFor("the gain to apply", async () => {
      const r = await readout(page);
      return near(r.rmsL, base.rmsL + 6, 0.7) ? r : null;
    }, 10_000);
    await page.click('[data-testid="record-start"]');
    await page.waitForTimeout(1500);
    const sid = await sessionIdOf(page);
    const n = links.length;
    links[n - 1].server.close({ code: 1011, reason: "link cut by test" });
    links[n - 1].ws.close({ code: 1011, reason: "link cut by test" });
    await waitFor("the dashboard to notice the drop", async () => (await readout(page)).state !== "live", 5000, 50);
    await waitLive(page, 15_000);
    assert(links.length > n, "no new connection was made");
    assert(links[links.length - 1].url.includes(`session_id=${sid}`), `reconnected with ${links[links.length - 1].url}, expected session ${sid}`);
    assert((await sessionIdOf(page)) === sid, "the session id changed");
    const after = await steadyLevel(page);
    assert(near(after.rmsL, gained.rmsL, 1), `level after resume ${after.rmsL} dB, before the drop ${gained.rmsL} dB (gain kept?)`);
    await page.waitForTimeout(1000);
    await page.click('[data-testid="record-stop"]');
    const item = page.locator('[data-testid="recording"]').first();
    await item.waitFor({ timeout: 15_000 });
    const errors = await page.locator('[data-testid="notice-error"]').allTextContents();
    assert(errors.length === 0, `errors shown: ${errors.join(" | ")}`);
    const list = await (await fetch(`${backend.url}/recordings?session_id=${sid}`)).json();
    assert(list.length === 1, `expected the one recording that spans the drop, got ${list.length}`);
    assert(list[0].duration_seconds > 2.0, `recording across the drop lasts ${list[0].duration_seconds} s`);
  } finally {
    await ctx.close();
  }
});

test("make run on a non-default BACKEND_PORT: the dashboard opens its WebSocket on that port, streams and shows meters", async () => {
  const port = await freePort();
  const local = new Backend({ buildDir: BUILD, frontendDir: DIST, logDir: join(OUT, "run-local"), httpPort: port, runLocal: true });
  let ctx;
  try {
    await local.start();
    ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    const sockets = [];
    page.on("websocket", (ws) => sockets.push(ws.url()));
    await page.goto(`${local.url}/`);
    await waitLive(page);
    const r = await steadyLevel(page);
    assert(sockets.length > 0, "the page opened no WebSocket");
    assert(sockets.every((u) => u.startsWith(`ws://127.0.0.1:${port}/ws/audio?session_id=`)), `WebSocket URLs ${sockets.join(", ")}, expected the page's own port ${port}`);
    assert(near(r.peakHz, TONE_HZ, TONE_HZ * 0.06), `spectrum peak at ${r.peakHz} Hz, expected ~${TONE_HZ} Hz`);
    assert(near(r.rmsL, rmsOfSineDb(SIGNAL_LEVEL_DB), 1), `RMS ${r.rmsL} dB on port ${port}`);
    const errors = await page.locator('[data-testid="notice-error"]').allTextContents();
    assert(errors.length === 0, `errors shown: ${errors.join(" | ")}`);
  } finally {
    await ctx?.close();
    await local.stop();
  }
});

// ---- runner ---------------------------------------------------------------
async function main() {
  const selected = tests.filter((t) => t.name.includes(filter));
  const missing = missingPieces(BUILD, DIST);
  if (!existsSync(CHROMIUM)) missing.push(`${CHROMIUM} is missing (apt-get install chromium)`);
  if (missing.length) {
    for (const m of missing) console.log(`SKIP: ${m}`);
    const required = process.env.PYC_E2E_REQUIRED === "1";
    console.log(`e2e: 0 passed, ${required ? selected.length : 0} failed, ${required ? 0 : selected.length} skipped`);
    process.exit(required ? 1 : 0);
  }
  mkdirSync(OUT, { recursive: true });
  const tone = join(OUT, "tone-1khz.wav");
  writeSineWav(tone, { freq: TONE_HZ, amplitude: MIC_AMPLITUDE, seconds: 10, rate: 48000, channels: 2 });

  let passed = 0;
  let failed = 0;
  try {
    backend = new Backend({ buildDir: BUILD, frontendDir: DIST, logDir: OUT });
    await backend.start();
    console.log(`backend up at ${backend.url} (health: ${JSON.stringify(backend.health).slice(0, 120)})`);
    ({ browser } = await launch());
    ({ browser: micBrowser } = await launch([
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${tone}`,
    ]));
    for (const t of selected) {
      const t0 = Date.now();
      try {
        await t.fn();
        passed++;
        console.log(`ok - ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (e) {
        failed++;
        console.log(`not ok - ${t.name}\n    ${String(e.stack || e).split("\n").slice(0, 3).join("\n    ")}`);
      }
    }
  } catch (e) {
    failed = selected.length - passed;
    console.log(`e2e setup failed: ${e.message}\n  backend logs: ${OUT}/backend-*.log`);
  } finally {
    await browser?.close().catch(() => {});
    await micBrowser?.close().catch(() => {});
    await backend?.stop().catch(() => {});
  }
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
