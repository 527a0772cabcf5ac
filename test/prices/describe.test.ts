/**
 * What the CLI's `prices` command calls: the resolved rates of a model and their source, the
 * models no source prices, the default table; and how the optional package loads (or does not).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtinTable, createPriceTable } from "../../src/index.ts";
import { defaultPriceTable } from "../../src/prices/describe.ts";
import { describePrice, genaiPricesTable, unpricedModels } from "../../src/prices/genai-prices/index.ts";

const SOURCE = "genai-prices@0.1.8";
const dir = mkdtempSync(join(tmpdir(), "sm-prices-describe-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const layered = createPriceTable([{ model: "mine", rates: { input: 1, output: 2 } }], {
  source: "prices.json",
  fallback: genaiPricesTable(),
});

describe("describePrice", () => {
  test("names the source that prices the model and every source searched", () => {
    const d = describePrice("gpt-4o-mini", layered);
    expect(d.searched).toEqual(["prices.json", SOURCE]);
    expect(d.match?.source).toBe(SOURCE);
    expect(d.match?.entry.rates).toEqual({ input: 0.15, output: 0.6, cacheRead: 0.075 });
    expect(describePrice("mine", layered).match).toEqual({
      source: "prices.json",
      asOf: undefined,
      entry: { model: "mine", rates: { input: 1, output: 2 } },
    });
  });

  test("takes the call's instant and provider", () => {
    expect(describePrice("o3", layered, { at: "2025-01-01" }).match?.entry.rates.input).toBe(10);
    expect(describePrice("llama-3.1-8b-instant", layered, { provider: "groq" }).match?.entry.provider).toBe(
      "groq",
    );
  });

  test("an unpriced model has no match", () => {
    expect(describePrice("nope-1", layered)).toEqual({
      model: "nope-1",
      searched: ["prices.json", SOURCE],
      match: undefined,
    });
  });
});

describe("unpricedModels", () => {
  test("distinct, sorted names that no source prices, from names or uses", () => {
    const seen = [
      "nope-2",
      "gpt-4o",
      "mine",
      "nope-1",
      "nope-2",
      { model: "llama-3.1-8b-instant", provider: "groq" },
      { model: "o3", at: "2025-01-01" },
      "(no model)",
    ];
    expect(unpricedModels(seen, layered)).toEqual(["(no model)", "nope-1", "nope-2"]);
  });

  test("a name is listed when any of its uses is unpriced", () => {
    const seen = [{ model: "llama-3.1-8b-instant", provider: "groq" }, { model: "llama-3.1-8b-instant" }];
    expect(unpricedModels(seen, layered)).toEqual(["llama-3.1-8b-instant"]);
  });
});

describe("defaultPriceTable", () => {
  test("the package when it is installed, without the built-in table behind it", async () => {
    expect((await defaultPriceTable()).sources).toEqual([SOURCE]);
  });

  test("a user's price file first", async () => {
    const path = join(dir, "prices.json");
    writeFileSync(path, JSON.stringify([{ model: "gpt-4o", rates: { input: 1, output: 1 } }]));
    const t = await defaultPriceTable({ file: path });
    expect(t.sources).toEqual([path, SOURCE]);
    expect(t.price("gpt-4o", { promptTokens: 1_000_000, completionTokens: 0 })).toEqual({
      cost: 1,
      source: path,
    });
  });

  test("the built-in table when the package is not installed", async () => {
    const missing = async () => (await import("@pydantic/genai-prices-not-installed" as string)) as never;
    expect(await defaultPriceTable({}, missing)).toBe(builtinTable());
  });

  test("any other failure is not hidden", async () => {
    const broken = async () => {
      throw new Error("disk on fire");
    };
    await expect(defaultPriceTable({}, broken)).rejects.toThrow("disk on fire");
  });
});

describe("loading", () => {
  const run = (script: string) => {
    const r = Bun.spawnSync([process.execPath, "-e", script], { cwd: import.meta.dir, stderr: "pipe" });
    return { out: r.stdout.toString().trim(), err: r.stderr.toString() };
  };

  test("importing the package root does not load @pydantic/genai-prices", () => {
    const { out, err } = run(`
      await import(${JSON.stringify(`${import.meta.dir}/../../src/index.ts`)});
      console.log(Object.keys(require.cache).filter((p) => p.includes("genai-prices")).length);
    `);
    expect(err).toBe("");
    expect(out).toBe("0");
  });

  test("while the package loads an update, the table asks to wait for it (MetricsError)", () => {
    const { out } = run(`
      const { updatePrices } = await import("@pydantic/genai-prices");
      const { genaiPricesTable } = await import(${JSON.stringify(`${import.meta.dir}/../../src/prices/genai-prices/index.ts`)});
      updatePrices(({ setProviderData }) => setProviderData(new Promise(() => {})));
      try { genaiPricesTable(); console.log("no error"); } catch (e) { console.log(e.name + ": " + e.message); }
    `);
    expect(out).toBe(
      "MetricsError: [session-metrics] [prices] @pydantic/genai-prices is still loading updated prices: " +
        "`await waitForUpdate()` before genaiPricesTable(), or pass { data }",
    );
  });
});
