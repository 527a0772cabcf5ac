/**
 * The real `promtool` and `prometheus` (Debian package `prometheus`). Without them the checks
 * that need them are skipped with a message, except under CI=true, where they fail: `.ci/run`
 * installs the package.
 */
import { test } from "bun:test";

export const PROMTOOL = Bun.which("promtool");
export const PROMETHEUS = Bun.which("prometheus");
const CI = process.env.CI === "true";

const warned = new Set<string>();
function warnMissing(name: string, what: string): void {
  if (warned.has(name)) return;
  warned.add(name);
  console.warn(
    `[session-metrics] [test] ${name} not found: skipping ${what} (apt-get install -y prometheus; under CI=true this fails instead)`,
  );
}

/** `test`, or `test.skip` with a message when the program is missing outside CI. */
export function needing(tool: string | null, name: string): typeof test {
  if (tool !== null || CI) return test;
  warnMissing(name, "the tests that need it");
  return test.skip;
}

/** The program's path; under CI a missing program fails the test here, with the reason. */
export function required(tool: string | null, name: string): string {
  if (tool === null) throw new Error(`${name} is missing (apt-get install -y prometheus); CI=true needs it`);
  return tool;
}

/**
 * `promtool check metrics` on `text`: what it printed and its exit code; `skipped` when promtool
 * is missing outside CI (the test's own assertions still run).
 */
export function promtoolCheck(text: string): { code: number; output: string } | "skipped" {
  if (PROMTOOL === null && !CI) {
    warnMissing("promtool", "`promtool check metrics` on the formatter's output");
    return "skipped";
  }
  const result = Bun.spawnSync([required(PROMTOOL, "promtool"), "check", "metrics"], {
    stdin: Buffer.from(text),
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: result.exitCode, output: `${result.stdout.toString()}${result.stderr.toString()}` };
}
