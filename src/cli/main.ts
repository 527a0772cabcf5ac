#!/usr/bin/env bun
/** The session-metrics command: the only place that sets the process exit code. */
import { MetricsError } from "../errors.ts";
import { runCli } from "./commands.ts";

try {
  const { code, out } = await runCli(process.argv.slice(2));
  if (out !== "") console.log(out);
  process.exitCode = code;
} catch (error) {
  if (!(error instanceof MetricsError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
