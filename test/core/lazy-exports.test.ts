/**
 * Start-up: the package root loads analytics, journal replay, the usage normalisers, stream timing,
 * error classification, price-table compilation and the InvocationMetricsCollector (node:events)
 * on first use. Their stand-ins must behave as the real exports.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import * as real from "../../src/aggregate/invocation-collector.ts";
import * as root from "../../src/index.ts";
import { lazyClass, lazyFunction, once } from "../../src/runtime/lazy-module.ts";
import { metric } from "../aggregate/helpers.ts";
import { cleanup, tempDir } from "./helpers.ts";

const SRC = join(import.meta.dir, "..", "..", "src");
const transpiler = new Bun.Transpiler({ loader: "ts" });

/** Every module loaded by `import` statements from `entry` (`require()` on first use excluded). */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const { path, kind } of transpiler.scanImports(readFileSync(file, "utf8"))) {
      if (kind !== "import-statement") continue;
      if (path.startsWith(".")) visit(resolve(dirname(file), path));
      else seen.add(path);
    }
  };
  visit(entry);
  return new Set([...seen].map((f) => (f.startsWith(SRC) ? f.slice(SRC.length + 1) : f)));
}

test("importing the package root loads none of the parts that load on first use", () => {
  const graph = staticGraph(join(SRC, "index.ts"));
  for (const deferred of [
    "aggregate/aggregate.ts",
    "aggregate/from-events.ts",
    "aggregate/percentiles.ts",
    "aggregate/invocation-collector.ts",
    "core/hash.ts",
    "journal/replay.ts",
    "llm/errors.ts",
    "llm/pricing-compile.ts",
    "llm/pricing-schema.ts",
    "llm/stream-timer.ts",
    "llm/usage.ts",
    "node:events",
    "zod",
  ])
    expect(graph.has(deferred)).toBe(false);
  expect(graph.has("collector.ts")).toBe(true); // the walk does see the eager graph
});

describe("function stand-ins", () => {
  test("keep the export's name and forward arguments, this and the result", () => {
    expect(root.percentiles.name).toBe("percentiles");
    expect(root.hashPrompt.name).toBe("hashPrompt");
    expect(root.percentiles([5, 1, 3])).toEqual(
      require("../../src/aggregate/percentiles.ts").percentiles([5, 1, 3]),
    );
    expect(root.hashPrompt("hello")).toBe("2cf24dba5fb0a30e");
    expect(root.fromOpenAIChatUsage({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 })).toEqual({
      promptTokens: 3,
      completionTokens: 2,
      totalTokens: 5,
    });
    const calls: unknown[] = [];
    function add(this: unknown, a: number, b: number): number {
      calls.push(this);
      return a + b;
    }
    let loads = 0;
    const load = once(() => {
      loads++;
      return { add };
    });
    const lazyAdd = lazyFunction(load, "add");
    expect(loads).toBe(0);
    const self = {};
    expect(lazyAdd.call(self, 2, 3)).toBe(5);
    expect(lazyAdd(1, 1)).toBe(2);
    expect(loads).toBe(1);
    expect(calls).toEqual([self, undefined]);
    expect(lazyAdd.name).toBe("add");
  });

  test("throw what the real function throws", () => {
    expect(() => root.fromOpenAIChatUsage({ prompt_tokens: -1 })).toThrow(root.ValidationError);
  });
});

describe("class stand-in: InvocationMetricsCollector", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir("sm-lazy-class-");
  });
  afterEach(() => cleanup(dir));

  test("new, instanceof, EventEmitter, methods and the file name work as with the real class", async () => {
    const collector = new root.InvocationMetricsCollector(dir);
    expect(collector).toBeInstanceOf(root.InvocationMetricsCollector);
    expect(collector).toBeInstanceOf(real.InvocationMetricsCollector);
    expect(collector).toBeInstanceOf(EventEmitter);
    expect(Object.getPrototypeOf(collector)).toBe(real.InvocationMetricsCollector.prototype);
    expect(root.InvocationMetricsCollector.prototype).toBe(real.InvocationMetricsCollector.prototype);
    expect(root.InvocationMetricsCollector.name).toBe("InvocationMetricsCollector");
    expect(new real.InvocationMetricsCollector(dir)).toBeInstanceOf(root.InvocationMetricsCollector);
    expect({}).not.toBeInstanceOf(root.InvocationMetricsCollector);
    expect(root.INVOCATIONS_FILE).toBe("invocations.jsonl");
    expect(real.INVOCATIONS_FILE).toBe(root.INVOCATIONS_FILE);
    expect(collector.filePath).toBe(join(dir, root.INVOCATIONS_FILE));
    const seen: string[] = [];
    collector.on("metric-recorded", (m) => seen.push(m.invocationId));
    await collector.record(metric({ invocationId: "inv-1" }));
    expect(seen).toEqual(["inv-1"]);
    expect(collector.getCount()).toBe(1);
  });

  test("can be subclassed, and refuses a call without new", () => {
    class Tagged extends root.InvocationMetricsCollector {
      readonly tag = "t";
    }
    const tagged = new Tagged(dir);
    expect(tagged.tag).toBe("t");
    expect(tagged).toBeInstanceOf(Tagged);
    expect(tagged).toBeInstanceOf(real.InvocationMetricsCollector);
    expect(tagged.filePath).toBe(join(dir, root.INVOCATIONS_FILE));
    const call = root.InvocationMetricsCollector as unknown as (dir: string) => unknown;
    expect(() => call(dir)).toThrow(TypeError);
  });

  test("lazyClass loads its module on first use only", () => {
    let loads = 0;
    class Point {
      constructor(readonly x: number) {}
      static origin(): Point {
        return new Point(0);
      }
    }
    const load = once(() => {
      loads++;
      return { Point };
    });
    const LazyPoint = lazyClass(load, "Point");
    expect(loads).toBe(0);
    expect(new LazyPoint(3).x).toBe(3);
    expect(LazyPoint.origin()).toBeInstanceOf(Point);
    expect(loads).toBe(1);
  });
});
