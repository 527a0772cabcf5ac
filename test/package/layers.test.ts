/**
 * Folders are layers and imports only point down (DESIGN.md): every relative import under src/
 * is parsed, and an import into a higher layer, or a cycle between folders, fails the test.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "..", "..", "src");

/**
 * Rank of each layer: a module may import its own folder or one of a lower rank. The root's
 * errors.ts and logger.ts are the floor; index.ts (the barrel) is the roof.
 */
const RANK: Record<string, number> = {
  "errors.ts": 0,
  "logger.ts": 0,
  core: 1,
  fs: 2,
  journal: 3,
  aggregate: 4,
  session: 5,
  store: 6,
  llm: 6,
  export: 7,
  prices: 7,
  http: 8,
  cli: 9,
  "index.ts": 10,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** The layer a file belongs to: its top folder under src/, or its name for a root file. */
function layerOf(file: string): string {
  return relative(SRC, file).split("/")[0]!;
}

const transpiler = new Bun.Transpiler({ loader: "ts" });

function importEdges(): { from: string; to: string }[] {
  const edges: { from: string; to: string }[] = [];
  for (const file of sourceFiles(SRC)) {
    for (const { path } of transpiler.scanImports(readFileSync(file, "utf8").replace(/^#!.*/, ""))) {
      if (!path.startsWith(".")) continue;
      edges.push({ from: relative(SRC, file), to: relative(SRC, resolve(dirname(file), path)) });
    }
  }
  return edges;
}

test("every file under src/ is in a known layer", () => {
  const unknown = sourceFiles(SRC)
    .map(layerOf)
    .filter((layer) => RANK[layer] === undefined);
  expect([...new Set(unknown)]).toEqual([]);
});

/** Edges into the same or a higher rank of another folder, as `from -> to`. */
function upward(edges: { from: string; to: string }[]): string[] {
  return edges
    .filter(({ from, to }) => {
      const a = layerOf(join(SRC, from));
      const b = layerOf(join(SRC, to));
      return a !== b && RANK[b]! >= RANK[a]!;
    })
    .map(({ from, to }) => `${from} -> ${to}`);
}

test("no import points up a layer", () => {
  expect(upward(importEdges())).toEqual([]);
});

test("no cycle between folders", () => {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of importEdges()) {
    const a = layerOf(join(SRC, from));
    const b = layerOf(join(SRC, to));
    if (a === b) continue;
    if (!graph.has(a)) graph.set(a, new Set());
    graph.get(a)!.add(b);
  }
  const cycles: string[] = [];
  const visit = (node: string, path: string[]) => {
    if (path.includes(node)) {
      cycles.push([...path.slice(path.indexOf(node)), node].join(" -> "));
      return;
    }
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
  };
  for (const node of graph.keys()) visit(node, []);
  expect(cycles).toEqual([]);
});

test("the layer check itself sees upward and sideways imports", () => {
  expect(importEdges().length).toBeGreaterThan(100);
  const edges = [
    { from: "journal/reader.ts", to: "session/lock.ts" },
    { from: "store/sink.ts", to: "llm/errors.ts" },
    { from: "session/collector.ts", to: "journal/writer.ts" },
    { from: "core/state.ts", to: "errors.ts" },
  ];
  expect(upward(edges)).toEqual(["journal/reader.ts -> session/lock.ts", "store/sink.ts -> llm/errors.ts"]);
});
