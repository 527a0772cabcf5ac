#!/usr/bin/env bun
/**
 * The session-metrics command: the only file that touches the process — argv, the environment,
 * whether stdout/stderr are terminals, signals, the streams and the exit code.
 */
import { runCli } from "./commands.ts";

const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    // A second signal ends at once (the default handler is back after `once`).
    stop.abort();
  });

const result = await runCli(process.argv.slice(2), {
  env: process.env,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  writeErr: (text) => process.stderr.write(text),
  signal: stop.signal,
});
if (result.err !== "") process.stderr.write(`${result.err}\n`);
if (result.out !== "") process.stdout.write(`${result.out}\n`);
process.exitCode = result.code;
