/**
 * The package as a consumer gets it: `bun pm pack` (its `prepack` runs the build) → what the
 * tarball holds → `bun install` of the tarball into a fresh project, offline → code that uses every
 * `exports` subpath type-checks against the shipped declarations under the strictest common
 * compiler options → every subpath loads at run time, from the sources (Bun) and from the emitted
 * JavaScript (`import`).
 *
 * Offline for real: the install runs against a registry address nothing listens on, with its own
 * cache; the package's dependencies (and the SDKs the snippets use) are linked from this repo's
 * node_modules.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { type ExportTargets, exportTargets } from "../../scripts/build.ts";
import type { TypecheckDiagnostic, TypecheckResult } from "./consumer/typecheck.ts";
import { SNIPPET_PACKAGES, USAGE } from "./consumer/usage.ts";

const ROOT = join(import.meta.dir, "..", "..");
const NAME = "session-metrics";

/** The strictest common options a consumer might set; `lib` has DOM, as a full-stack app's does. */
const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: "ESNext",
    module: "Preserve",
    moduleResolution: "bundler",
    lib: ["ESNext", "DOM"],
    types: ["bun"],
    strict: true,
    exactOptionalPropertyTypes: true,
    noPropertyAccessFromIndexSignature: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    noImplicitReturns: true,
    noFallthroughCasesInSwitch: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    allowUnreachableCode: false,
    allowImportingTsExtensions: false,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    resolveJsonModule: true,
    skipLibCheck: false,
    noEmit: true,
  },
  include: ["*.ts"],
};

interface Manifest {
  exports: Record<string, unknown>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function run(cmd: string[], cwd: string, env: Record<string, string> = {}): string {
  const result = Bun.spawnSync(cmd, { cwd, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const stdout = result.stdout.toString();
  if (result.exitCode !== 0)
    throw new Error(
      `${cmd.join(" ")} exited with ${result.exitCode}\n${stdout}\n${result.stderr.toString()}`,
    );
  return stdout;
}

const specifier = (subpath: string): string => (subpath === "." ? NAME : `${NAME}${subpath.slice(1)}`);
const snippetFile = (subpath: string): string =>
  `use-${subpath === "." ? "root" : subpath.slice(2).replace(/[^a-zA-Z0-9]+/g, "-")}.ts`;

let tmp = "";
let consumer = "";
let installed = "";
let manifest: Manifest;
let targets: ExportTargets[] = [];
/** Tarball paths (without `package/`) → `tar -tv` mode column. */
const tarball = new Map<string, string>();
let typecheck: TypecheckResult;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "session-metrics-pack-"));
  run([process.execPath, "pm", "pack", "--destination", tmp, "--quiet"], ROOT);
  const file = readdirSync(tmp).find((f) => f.endsWith(".tgz"));
  if (file === undefined) throw new Error(`bun pm pack wrote no tarball into ${tmp}`);
  for (const line of run(["tar", "-tvzf", join(tmp, file)], tmp).split("\n")) {
    const match = /^(\S+)\s.*\spackage\/(.+)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) tarball.set(match[2], match[1]);
  }
  // The manifest as packed (not as it is in the working tree now).
  manifest = JSON.parse(run(["tar", "-xzOf", join(tmp, file), "package/package.json"], tmp)) as Manifest;
  targets = exportTargets(manifest.exports);

  consumer = join(tmp, "consumer");
  installed = join(consumer, "node_modules", NAME);
  mkdirSync(consumer);
  const link = (name: string) => `link:${join(ROOT, "node_modules", name)}`;
  const deps = [manifest.dependencies, manifest.peerDependencies, manifest.optionalDependencies];
  const consumerManifest = {
    name: "strict-consumer",
    private: true,
    type: "module",
    dependencies: { [NAME]: join(tmp, file) },
    // The SDKs the snippets use, and every optional peer (a consumer of that subpath installs it).
    devDependencies: Object.fromEntries(
      [...SNIPPET_PACKAGES, ...Object.keys(manifest.peerDependencies ?? {})].map((name) => [
        name,
        link(name),
      ]),
    ),
    // Applies to the package's own dependencies too, so none is looked up in a registry.
    overrides: Object.fromEntries(
      deps.flatMap((d) => Object.keys(d ?? {})).map((name) => [name, link(name)]),
    ),
  };
  writeFileSync(join(consumer, "package.json"), JSON.stringify(consumerManifest, null, 2));
  run([process.execPath, "install", "--ignore-scripts", "--no-progress"], consumer, {
    BUN_CONFIG_REGISTRY: "http://127.0.0.1:9/",
    BUN_INSTALL_CACHE_DIR: join(tmp, "cache"),
  });

  writeFileSync(join(consumer, "tsconfig.json"), JSON.stringify(CONSUMER_TSCONFIG, null, 2));
  const generic: string[] = [];
  for (const subpath of Object.keys(manifest.exports)) {
    let code = USAGE[subpath];
    if (code === undefined) {
      generic.push(subpath);
      code = `import * as m from "${specifier(subpath)}";\n\nm satisfies object;\n`;
    }
    writeFileSync(join(consumer, snippetFile(subpath)), code);
  }
  if (generic.length > 0)
    console.log(
      `[pack] no usage snippet for ${generic.join(", ")}: only imported (add one to consumer/usage.ts)`,
    );

  const out = join(tmp, "typecheck.json");
  run([process.execPath, join(import.meta.dir, "consumer", "typecheck.ts"), consumer, out], consumer);
  typecheck = JSON.parse(readFileSync(out, "utf8")) as TypecheckResult;
}, 90_000);

afterAll(() => {
  if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
});

describe("the tarball", () => {
  test("holds LICENSE (MIT), package.json, and each exports entry's declarations, JavaScript and source", () => {
    expect(tarball.has("package.json")).toBe(true);
    expect(tarball.has("LICENSE")).toBe(true);
    const license = readFileSync(join(installed, "LICENSE"), "utf8");
    expect(license.split("\n").slice(0, 3)).toEqual([
      "MIT License",
      "",
      "Copyright (c) 2026 session-metrics authors",
    ]);
    expect(targets.length).toBe(Object.values(manifest.exports).filter((e) => typeof e !== "string").length);
    const missing = targets
      .flatMap((t) => [t.types, t.import, t.source])
      .map((p) => p.slice(2))
      .filter((p) => !tarball.has(p));
    expect(missing).toEqual([]);
  });

  test("holds nothing from test/, bench/, examples/, sessions/ or node_modules/", () => {
    const stray = [...tarball.keys()].filter((p) => /^(test|bench|examples|sessions|node_modules)\//.test(p));
    expect(stray).toEqual([]);
  });

  test("ships every bin as an executable file", () => {
    const bins = Object.values(manifest.bin ?? {}).map((p) => p.replace(/^\.\//, ""));
    expect(bins.length).toBeGreaterThan(0);
    for (const bin of bins) {
      expect({ bin, mode: tarball.get(bin)?.slice(0, 4) }).toEqual({ bin, mode: "-rwx" });
      expect({ bin, executable: (statSync(join(ROOT, bin)).mode & 0o111) === 0o111 }).toEqual({
        bin,
        executable: true,
      });
    }
  });

  test("declarations import siblings as .js, never as .ts", () => {
    const declarations = [...tarball.keys()].filter((p) => p.endsWith(".d.ts"));
    expect(declarations.length).toBeGreaterThanOrEqual(targets.length);
    const tsSpecifier = /(?:from\s*|import\s*\(\s*|import\s+)["'](\.\.?\/[^"']*(?<!\.d)\.ts)["']/g;
    const offending = declarations.flatMap((p) =>
      [...readFileSync(join(installed, p), "utf8").matchAll(tsSpecifier)].map((m) => `${p}: ${m[1]}`),
    );
    expect(offending).toEqual([]);
  });
});

describe("a strict consumer", () => {
  const where = (d: TypecheckDiagnostic) => `${d.file ?? "(global)"}:${d.line ?? 0} TS${d.code} ${d.message}`;
  const inside = (file: string, dir: string) => file.startsWith(dir + sep);
  /** The installed package, or this repo's own files should anything resolve back to them. */
  const isOurs = (file: string) =>
    inside(file, installed) || inside(file, join(ROOT, "src")) || inside(file, join(ROOT, "dist"));

  test("resolves every subpath's types to the shipped declarations, never to the sources", () => {
    const ours = typecheck.files.filter(isOurs);
    expect(ours.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    const expected = targets.map((t) => join(installed, t.types));
    expect(expected.filter((f) => !ours.includes(f))).toEqual([]);
  });

  test("type-checks code using every subpath: 0 errors in session-metrics' declarations and in its own code", () => {
    const ours: string[] = [];
    const own: string[] = [];
    const thirdParty = new Map<string, number>();
    for (const d of typecheck.diagnostics) {
      if (d.file === undefined || isOurs(d.file)) ours.push(where(d));
      else if (inside(d.file, consumer) && !d.file.includes(`${sep}node_modules${sep}`)) own.push(where(d));
      else {
        const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(d.file)?.[1] ?? relative(consumer, d.file);
        thirdParty.set(pkg, (thirdParty.get(pkg) ?? 0) + 1);
      }
    }
    const total = [...thirdParty.values()].reduce((a, b) => a + b, 0);
    const byPackage = [...thirdParty].map(([pkg, n]) => `${pkg} ${n}`).join(", ");
    console.log(
      `[pack] third-party declaration errors (not ours, not counted): ${total}${total ? ` (${byPackage})` : ""}`,
    );
    expect({ ours, own }).toEqual({ ours: [], own: [] });
  });

  test("runs the installed command through its shebang", () => {
    const empty = join(tmp, "no-sessions");
    mkdirSync(empty);
    const bin = join(consumer, "node_modules", ".bin", Object.keys(manifest.bin ?? {})[0] ?? NAME);
    const result = Bun.spawnSync([bin, "list", "--dir", empty], {
      cwd: consumer,
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env["PATH"] ?? ""}` },
      stderr: "pipe",
    });
    expect({ code: result.exitCode, stderr: result.stderr.toString() }).toEqual({ code: 0, stderr: "" });
  });

  test("loads every subpath at run time, from the sources and from the emitted JavaScript, with the same names", () => {
    const script = join(consumer, "load.mjs");
    const out = join(tmp, "load.json");
    writeFileSync(
      script,
      `import { existsSync, writeFileSync } from "node:fs";
const targets = ${JSON.stringify(targets)};
const root = ${JSON.stringify(installed)};
const result = {};
for (const t of targets) {
  const spec = t.subpath === "." ? "${NAME}" : "${NAME}" + t.subpath.slice(1);
  const fromSource = await import(spec);
  const fromJs = await import(root + t.import.slice(1));
  const missingPaths = Object.entries(fromJs)
    .filter(([name, value]) => name.endsWith("_MIGRATIONS") && !existsSync(value))
    .map(([name]) => name);
  result[t.subpath] = {
    resolved: Bun.resolveSync(spec, import.meta.dir),
    source: Object.keys(fromSource).sort(),
    js: Object.keys(fromJs).sort(),
    missingPaths,
  };
}
writeFileSync(${JSON.stringify(out)}, JSON.stringify(result));
`,
    );
    run([process.execPath, script], consumer);
    const loaded = JSON.parse(readFileSync(out, "utf8")) as Record<
      string,
      { resolved: string; source: string[]; js: string[]; missingPaths: string[] }
    >;
    for (const t of targets) {
      const got = loaded[t.subpath];
      expect(got?.source.length ?? 0).toBeGreaterThan(0);
      expect({ subpath: t.subpath, ...got }).toEqual({
        subpath: t.subpath,
        resolved: join(installed, t.source),
        source: got?.source ?? [],
        js: got?.source ?? [],
        missingPaths: [],
      });
    }
  });

  test("serves /metrics from the emitted JavaScript, as from the sources", () => {
    const http = targets.find((t) => t.subpath === "./http");
    if (http === undefined) throw new Error("no ./http entry in exports");
    const sessions = join(tmp, "metrics-sessions");
    mkdirSync(sessions);
    const script = join(consumer, "scrape.mjs");
    const out = join(tmp, "scrape.json");
    writeFileSync(
      script,
      `import { writeFileSync } from "node:fs";
const { createHandler } = await import(${JSON.stringify(join(installed, http.import))});
const response = await createHandler({ sessionsDir: ${JSON.stringify(sessions)} })(
  new Request("http://127.0.0.1/metrics"),
);
writeFileSync(${JSON.stringify(out)}, JSON.stringify({ status: response.status, body: await response.text() }));
`,
    );
    run([process.execPath, script], consumer);
    const scraped = JSON.parse(readFileSync(out, "utf8")) as { status: number; body: string };
    expect(scraped).toEqual({
      status: 200,
      body: expect.stringContaining("session_metrics_sessions 0\n"),
    });
  });

  // The dashboard is bundled on first request from its HTML entry, with uPlot: a consumer's
  // install must hold everything that bundle needs, whichever file of the package it runs.
  for (const condition of ["bun", "import"] as const)
    test(`serves the dashboard (page and script) from the installed package's ${condition === "bun" ? "sources" : "emitted JavaScript"}`, () => {
      const http = targets.find((t) => t.subpath === "./http");
      if (http === undefined) throw new Error("no ./http entry in exports");
      const entry = join(installed, condition === "bun" ? http.source : http.import);
      const script = join(consumer, `dashboard-${condition}.mjs`);
      const out = join(tmp, `dashboard-${condition}.json`);
      writeFileSync(
        script,
        `import { writeFileSync } from "node:fs";
const { createHandler } = await import(${JSON.stringify(entry)});
const handler = createHandler({ sessionsDir: ${JSON.stringify(join(tmp, "no-sessions"))} });
const page = await handler(new Request("http://127.0.0.1/"));
const html = await page.text();
const src = /<script[^>]*src="([^"]+)"/.exec(html)?.[1];
const js = src === undefined ? undefined : await handler(new Request("http://127.0.0.1" + src));
writeFileSync(${JSON.stringify(out)}, JSON.stringify({
  page: page.status,
  type: page.headers.get("content-type"),
  script: js?.status,
  scriptType: js?.headers.get("content-type"),
  uplot: js === undefined ? false : (await js.text()).includes("u-cursor-x"), // a class uPlot's code adds
}));
`,
      );
      run([process.execPath, script], consumer);
      expect(JSON.parse(readFileSync(out, "utf8"))).toEqual({
        page: 200,
        type: expect.stringContaining("text/html"),
        script: 200,
        scriptType: expect.stringContaining("javascript"),
        uplot: true,
      });
    });
});
