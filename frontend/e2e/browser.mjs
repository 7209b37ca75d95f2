// e2e/browser.mjs - launches Debian's Chromium through playwright-core, kept off the network.
//
// NOTES: no browser is downloaded: the executable is /usr/bin/chromium (or
// $CHROMIUM). The flags keep Chromium from reaching anything but the pages
// the tests open: no QUIC, no background networking, component updates,
// sync or first-run pages. Each launch gets a fresh, empty profile: Playwright
// itself passes a new temporary --user-data-dir (and refuses one in args).
import { chromium } from "playwright-core";
import { existsSync } from "node:fs";

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

export const QUIET_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
  "--disable-domain-reliability",
  "--metrics-recording-only",
  "--no-default-browser-check",
];

/** Launches Chromium; `extraArgs` for the fake media devices. Returns { browser, close }. */
export async function launch(extraArgs = []) {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...QUIET_FLAGS, ...extraArgs],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
    },
  };
}
