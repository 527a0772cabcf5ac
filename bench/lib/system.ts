/**
 * Machine-level measurements shared by the suites: the machine description, the size of `src/`,
 * heap after a full GC, the longest event-loop gap, what a fresh `bun` child spends (import cost,
 * CPU while idle, any script that prints one JSON line), and a temp dir on a real disk (fsync on
 * tmpfs costs nothing and would flatter every flush figure).
 */
import { heapStats } from "bun:jsc";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync } from "node:fs";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { join } from "node:path";
import { median, SYNC_CLOCK } from "./measure.ts";

export function describeMachine(): string {
  let model = cpus()[0]?.model ?? "unknown";
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    if (line !== undefined) model = line.slice(line.indexOf(":") + 1).trim();
  } catch {
    // not Linux: keep what os.cpus() says
  }
  const cores = navigator.hardwareConcurrency;
  return [
    `- CPU: ${model}, ${cores} core${cores === 1 ? "" : "s"}`,
    `- Bun ${Bun.version} (${Bun.revision.slice(0, 9)}), ${process.platform} ${release()} ${process.arch}`,
    `- Load average at start (1/5/15 min): ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" / ")}`,
    `- Date: ${new Date().toISOString()}`,
    `- Clocks: ns/op of synchronous loops is ${SYNC_CLOCK}; flush(), event-loop gaps and import (wall) are wall time`,
  ].join("\n");
}

/** Lines of a text, counted as `git grep -c ''` counts them (a last line without newline counts). */
function lineCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return text.length > 0 && !text.endsWith("\n") ? n + 1 : n;
}

/** { files, lines } of the `.ts` files under `dir` (recursively). */
function tsLines(dir: string): { files: number; lines: number } {
  let files = 0;
  let lines = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
    files++;
    lines += lineCount(readFileSync(join(entry.parentPath, entry.name), "utf8"));
  }
  return { files, lines };
}

/**
 * A markdown list item: lines of TypeScript under `src/` in the working tree beside the same count
 * at commit `ref` (read from git objects; the index is not touched), or `undefined` without git.
 */
export function describeSource(ref: string): string | undefined {
  const repo = join(import.meta.dir, "..", "..");
  const git = Bun.spawnSync(["git", "-C", repo, "grep", "-c", "", ref, "--", "src"], { stderr: "pipe" });
  if (git.exitCode !== 0) return undefined;
  let files = 0;
  let lines = 0;
  for (const row of git.stdout.toString().split("\n")) {
    // `<ref>:src/path.ts:<lines>`
    const at = row.lastIndexOf(":");
    if (at < 0 || !row.slice(0, at).endsWith(".ts")) continue;
    files++;
    lines += Number(row.slice(at + 1));
  }
  const now = tsLines(join(repo, "src"));
  const delta = now.lines - lines;
  const sign = delta < 0 ? "−" : "+";
  const fmt = (n: number) => n.toLocaleString("en-US");
  return (
    `- Source: \`src/\` holds ${fmt(now.lines)} lines of TypeScript in ${now.files} files now (working tree), ` +
    `${fmt(lines)} in ${files} files at ${ref}: ${sign}${fmt(Math.abs(delta))} lines (${sign}${Math.abs((100 * delta) / lines).toFixed(1)}%)`
  );
}

/** Bytes of live JavaScript heap after a synchronous full collection. */
export function heapAfterGC(): number {
  Bun.gc(true);
  Bun.gc(true);
  return heapStats().heapSize;
}

const TMPFS_MAGIC = 0x01021994;

/**
 * A fresh temp dir on a disk-backed filesystem: the OS temp dir unless it is tmpfs. It is removed
 * by `remove()`, or on Ctrl-C / SIGTERM (Bun runs no exit handler on a signal).
 */
export function diskTempDir(prefix: string, fallbackParent: string): { path: string; remove: () => void } {
  let parent = tmpdir();
  if (statfsSync(parent).type === TMPFS_MAGIC) parent = fallbackParent;
  const path = mkdtempSync(join(parent, prefix));
  const onSignal = (signal: NodeJS.Signals) => {
    rmSync(path, { recursive: true, force: true });
    process.kill(process.pid, signal);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return {
    path,
    remove: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `work` while a 1 ms `setInterval` ticks and returns the longest gap between ticks (ms):
 * how long the event loop was unable to run a timer.
 */
export async function longestTimerGap(work: () => Promise<void>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    if (now - last > longest) longest = now - last;
    last = now;
  }, 1);
  try {
    await Bun.sleep(20); // let the ticker settle
    longest = 0;
    last = performance.now();
    await work();
    const now = performance.now();
    return Math.max(longest, now - last);
  } finally {
    clearInterval(ticker);
  }
}

export interface ImportCost {
  /** Median wall time of `await import()` in the child, ms. */
  wallMs: number;
  /** Median CPU time (all of the child's threads, user + system) over the same span, ms. */
  cpuMs: number;
}

/**
 * What a fresh `bun` process spends in `await import(url)`, timed inside the child so process
 * start-up is not counted. The modules alternate run by run so drift hits both alike.
 */
export function importCosts(urls: readonly string[], runs: number): ImportCost[] {
  const wall: number[][] = urls.map(() => []);
  const cpu: number[][] = urls.map(() => []);
  for (let r = -1; r < runs; r++) {
    urls.forEach((url, i) => {
      const code = [
        "const c = process.cpuUsage(); const t = performance.now();",
        `await import(${JSON.stringify(url)});`,
        "const w = performance.now() - t; const u = process.cpuUsage(c);",
        "console.log(w, (u.user + u.system) / 1000);",
      ].join(" ");
      const child = Bun.spawnSync([process.execPath, "-e", code], { stderr: "pipe" });
      if (child.exitCode !== 0) throw new Error(`importing ${url} failed: ${child.stderr.toString()}`);
      if (r < 0) return; // run -1 warms the disk cache
      const [w, c] = child.stdout.toString().trim().split(" ").map(Number);
      wall[i]!.push(w!);
      cpu[i]!.push(c!);
    });
  }
  return urls.map((_, i) => ({ wallMs: median(wall[i]!), cpuMs: median(cpu[i]!) }));
}

export interface ChildRun<T> {
  /** The last line the child printed, parsed as JSON. */
  out: T;
  /** CPU time of the whole child (all threads, user + system, start-up included), from the OS after exit, ms. */
  cpuMs: number;
}

/**
 * Runs one `bun -e <code>` child per entry, all at once, and returns what each printed last (one
 * JSON line) with the OS's account of its CPU time. Throws when a child fails.
 */
export async function runChildren<T>(codes: readonly string[]): Promise<ChildRun<T>[]> {
  const children = codes.map((code) =>
    Bun.spawn([process.execPath, "-e", code], { stdout: "pipe", stderr: "pipe" }),
  );
  return Promise.all(
    children.map(async (child, i) => {
      const [stdout, stderr, code] = await Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
        child.exited,
      ]);
      if (code !== 0) throw new Error(`[bench] child ${i} exited with ${code}: ${stderr.trim()}`);
      const usage = child.resourceUsage();
      if (usage === undefined) throw new Error(`[bench] no resource usage for child ${i}`);
      const last = stdout.trim().split("\n").at(-1) ?? "";
      return { out: JSON.parse(last) as T, cpuMs: Number(usage.cpuTime.total) / 1000 };
    }),
  );
}
