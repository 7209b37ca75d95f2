#!/usr/bin/env node
// scripts/run-unit.mjs - runs the unit tests with Vitest and ends with a plain "N passed, N failed" line.
//
// NOTES: CI reads the last line of a test run; Vitest's own summary is not a
// format it knows, so this wrapper asks Vitest for its JSON report as well
// and prints the counts plainly. The exit code is Vitest's.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = mkdtempSync(join(tmpdir(), "pyc-vitest-"));
const report = join(dir, "report.json");
const vitest = join(root, "node_modules", "vitest", "vitest.mjs");
const r = spawnSync(
  process.execPath,
  [vitest, "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { cwd: root, stdio: "inherit" },
);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const j = JSON.parse(readFileSync(report, "utf8"));
  passed = j.numPassedTests ?? 0;
  failed = j.numFailedTests ?? 0;
  skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
} catch {
  failed = Math.max(failed, 1); // no report: the run itself failed
}
rmSync(dir, { recursive: true, force: true });
const status = r.status ?? 1;
if (status !== 0 && failed === 0) failed = 1;
console.log(`unit: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(status);
