#!/usr/bin/env node
// scripts/screenshot.mjs - screenshots of a running dashboard at desktop and phone sizes.
// Usage: node scripts/screenshot.mjs URL OUTDIR [wait-ms]
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { launch } from "../e2e/browser.mjs";

const [url = "http://127.0.0.1:4173/", out = "test-results/screenshots", wait = "2500"] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const { browser, close } = await launch();
try {
  for (const [name, vp, scale] of [["desktop", { width: 1440, height: 900 }, 1], ["phone", { width: 390, height: 844 }, 2]]) {
    const ctx = await browser.newContext({ viewport: vp, deviceScaleFactor: scale, isMobile: name === "phone", hasTouch: name === "phone" });
    const page = await ctx.newPage();
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") console.log(`[${name}] ${m.type()}: ${m.text()}`); });
    page.on("pageerror", (e) => console.log(`[${name}] pageerror: ${e.message}`));
    await page.goto(url);
    await page.waitForTimeout(Number(wait));
    await page.screenshot({ path: join(out, `${name}.png`) });
    await page.screenshot({ path: join(out, `${name}-full.png`), fullPage: true });
    await ctx.close();
  }
} finally {
  await close();
}
console.log(`screenshots in ${out}`);
