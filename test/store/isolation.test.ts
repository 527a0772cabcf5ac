/**
 * The store sits behind subpath exports: nothing the package root imports may reach drizzle-orm
 * or a database driver, so `import "session-metrics"` never loads them.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const SRC = join(import.meta.dir, "..", "..", "src");
const transpiler = new Bun.Transpiler({ loader: "ts" });

/** Every bare module specifier reachable from `entry` through relative imports (type imports excluded). */
function reachablePackages(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const { path } of transpiler.scanImports(readFileSync(file, "utf8"))) {
      if (path.startsWith(".")) visit(resolve(dirname(file), path));
      else packages.add(path);
    }
  };
  visit(entry);
  return packages;
}

test("the package root reaches neither drizzle-orm nor bun:sqlite", () => {
  const packages = [...reachablePackages(join(SRC, "index.ts"))];
  expect(packages.filter((p) => p.startsWith("drizzle-orm") || p === "bun:sqlite")).toEqual([]);
});

test("each store subpath reaches only its own driver", () => {
  const sqlite = reachablePackages(join(SRC, "store", "sqlite", "index.ts"));
  const postgres = reachablePackages(join(SRC, "store", "postgres", "index.ts"));
  expect(sqlite.has("drizzle-orm/bun-sqlite")).toBe(true);
  expect(sqlite.has("drizzle-orm/bun-sql")).toBe(false);
  expect(postgres.has("drizzle-orm/bun-sql")).toBe(true);
  expect(postgres.has("drizzle-orm/bun-sqlite")).toBe(false);
});
