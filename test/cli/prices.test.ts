/** `session-metrics prices`: a model's rates and source, and the models no source prices. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/commands.ts";
import { Collector } from "../../src/index.ts";
import { MemoryLogger } from "../journal/helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "sm-cli-prices-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = (...argv: string[]) => runCli([...argv, "--dir", dir], { env: {} });

test("prices <model> prints the rates in effect and the source that has them", async () => {
  const r = await cli("prices", "gpt-4o");
  expect(r.code).toBe(0);
  expect(r.err).toBe("");
  expect(r.out).toStartWith("gpt-4o: priced by genai-prices@");
  expect(r.out).toContain("input             2.5");
  expect(r.out).toContain("cache read       1.25");
  expect(r.out).toContain("output             10");
});

test("a user's price file is searched first; --json gives the match", async () => {
  const file = join(dir, "prices.json");
  writeFileSync(file, JSON.stringify([{ model: "gpt-4o", rates: { input: 1, output: 2 } }]));
  const r = await cli("prices", "gpt-4o", "--prices", file, "--json");
  expect(r.code).toBe(0);
  const found = JSON.parse(r.out) as {
    searched: string[];
    match: { source: string; entry: { rates: unknown } };
  };
  expect(found.searched[0]).toBe(file);
  expect(found.match.source).toBe(file);
  expect(found.match.entry.rates).toEqual({ input: 1, output: 2 });
});

test("a model no source prices: exit 3, the reason on stderr, nothing on stdout", async () => {
  const r = await cli("prices", "no-such-model-xyz");
  expect(r.code).toBe(3);
  expect(r.out).toBe("");
  expect(r.err).toContain('no source prices "no-such-model-xyz"');
});

test("prices --unpriced lists the sessions' models that no source prices, once each", async () => {
  const c = new Collector({ sessionId: "u1", sessionsDir: dir, logger: new MemoryLogger() });
  const usage = { promptTokens: 10, completionTokens: 2 };
  c.recordLLMInteraction("plan", usage, undefined, { model: "gpt-4o" });
  c.recordLLMInteraction("plan", usage, undefined, { model: "house-model-7" });
  c.recordLLMInteraction("plan", usage, undefined, { model: "house-model-7" });
  c.recordLLMInteraction("plan", usage, 0.5, { model: "another-unknown" });
  await c.stop();
  const r = await cli("prices", "--unpriced", "--json");
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out)).toEqual(["another-unknown", "house-model-7"]);
});

test("prices with no model, or a bad --at, is a usage error (exit 2)", async () => {
  expect((await cli("prices")).code).toBe(2);
  const bad = await cli("prices", "gpt-4o", "--at", "yesterday");
  expect(bad.code).toBe(2);
  expect(bad.err).toContain('--at: "yesterday" is not an ISO 8601 time');
});
