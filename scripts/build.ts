/**
 * `bun run build` (also run by `bun pm pack` and `bun publish` through `prepack`): emits `dist/`,
 * JavaScript, declarations and declaration maps, for every entry of package.json `exports`.
 * Consumers type-check against the declarations, so their compiler options never apply to our
 * sources (a consumer with `exactOptionalPropertyTypes` would otherwise re-check all of `src/`).
 *
 * Every object entry of `exports` has this layout; a new entry needs no change to this script:
 *
 *   "./<subpath>": { "types": "./dist/<p>.d.ts", "bun": "./src/<p>.ts", "import": "./dist/<p>.js" }
 *
 * The first matching condition wins, so the order matters: TypeScript reads `types`; Bun runs the
 * sources (they stay in the tarball, with the migrations `drizzle/` they read at run time); other
 * tools get the emitted JavaScript. The `bun` sources are the build's roots, compiled with
 * tsconfig.json's options; the build fails, emitting nothing, on a type error or on an entry whose
 * `types`/`import` do not name the files emitted for its source.
 *
 * The dashboard is not compiled here: `session-metrics/http` bundles it with `Bun.build` from its
 * HTML entry on first request, so its sources (HTML, CSS, TypeScript) are copied beside the
 * emitted module, where `import.meta.dir` finds them as it does under `src/`.
 */
import { cpSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const ROOT = join(import.meta.dir, "..");
const OUT_DIR = join(ROOT, "dist");
/** The dashboard's sources, shipped as they are (see above). */
const DASHBOARD = "src/http/dashboard";

/** Source and the two emitted files one exports entry must name. */
export interface ExportTargets {
  subpath: string;
  source: string;
  types: string;
  import: string;
}

/** The targets of every object entry of `exports`, or the reasons why an entry breaks the layout. */
export function exportTargets(exportsField: Record<string, unknown>): ExportTargets[] {
  const targets: ExportTargets[] = [];
  const problems: string[] = [];
  for (const [subpath, entry] of Object.entries(exportsField)) {
    if (typeof entry === "string") continue; // "./package.json": a file shipped as it is
    const conditions = entry as Record<string, unknown>;
    // The source, from `bun` or, in an entry of the older `{ types, import }` form, from the others.
    const path = [conditions["bun"], conditions["import"], conditions["types"]]
      .map((target) => /^\.\/src\/(.+)\.ts$/.exec(String(target))?.[1])
      .find((p) => p !== undefined);
    if (path === undefined) {
      problems.push(`exports["${subpath}"].bun must name a source file ./src/<path>.ts`);
      continue;
    }
    const expected = { types: `./dist/${path}.d.ts`, bun: `./src/${path}.ts`, import: `./dist/${path}.js` };
    if (JSON.stringify(conditions) !== JSON.stringify(expected))
      problems.push(`exports["${subpath}"] must be ${JSON.stringify(expected)} (in this order)`);
    targets.push({ subpath, source: expected.bun, types: expected.types, import: expected.import });
  }
  if (problems.length > 0) throw new Error(`[session-metrics] [build] ${problems.join("; ")}`);
  return targets;
}

/**
 * tsc 5.9 rewrites `./x.ts` to `./x.js` in JavaScript only, not in declarations
 * (microsoft/TypeScript#61037); a consumer's editor or a `nodenext` resolver wants `.js` there too.
 * Same length, so the declaration maps stay exact.
 */
function rewriteSpecifiers(
  context: ts.TransformationContext,
): (node: ts.SourceFile | ts.Bundle) => ts.SourceFile | ts.Bundle {
  const f = context.factory;
  const rewritten = (node: ts.Node | undefined): ts.StringLiteral | undefined =>
    node !== undefined && ts.isStringLiteral(node) && /^\.\.?\/.*(?<!\.d)\.ts$/.test(node.text)
      ? f.createStringLiteral(`${node.text.slice(0, -3)}.js`)
      : undefined;
  const visit = (node: ts.Node): ts.Node => {
    if (ts.isImportDeclaration(node)) {
      const to = rewritten(node.moduleSpecifier);
      if (to) return f.updateImportDeclaration(node, node.modifiers, node.importClause, to, node.attributes);
    } else if (ts.isExportDeclaration(node)) {
      const to = rewritten(node.moduleSpecifier);
      if (to)
        return f.updateExportDeclaration(
          node,
          node.modifiers,
          node.isTypeOnly,
          node.exportClause,
          to,
          node.attributes,
        );
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const to = rewritten(node.argument.literal);
      if (to) {
        const rest = ts.visitEachChild(node, visit, context);
        return f.updateImportTypeNode(
          rest,
          f.createLiteralTypeNode(to),
          rest.attributes,
          rest.qualifier,
          rest.typeArguments,
          rest.isTypeOf,
        );
      }
    }
    return ts.visitEachChild(node, visit, context);
  };
  return (node) => ts.visitNode(node, visit) as ts.SourceFile | ts.Bundle;
}

function compilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, "tsconfig.json"),
    {
      noEmit: false,
      declaration: true,
      declarationMap: true,
      rewriteRelativeImportExtensions: true,
      outDir: OUT_DIR,
      rootDir: join(ROOT, "src"),
    },
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (parsed === undefined) throw new Error("[session-metrics] [build] cannot read tsconfig.json");
  return parsed.options;
}

function report(diagnostics: readonly ts.Diagnostic[]): void {
  const host = {
    getCanonicalFileName: (f: string) => f,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => "\n",
  };
  console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
}

/** Cleans `dist/` (no stale file of a deleted module ships) and emits it; returns the targets checked. */
export function build(): ExportTargets[] {
  const pkg = JSON.parse(ts.sys.readFile(join(ROOT, "package.json")) ?? "{}") as {
    exports?: Record<string, unknown>;
  };
  const targets = exportTargets(pkg.exports ?? {});
  const program = ts.createProgram({
    rootNames: targets.map((t) => join(ROOT, t.source)),
    options: compilerOptions(),
  });
  const errors = ts.getPreEmitDiagnostics(program);
  if (errors.length > 0) {
    report(errors);
    throw new Error(`[session-metrics] [build] ${errors.length} type error(s); nothing emitted`);
  }
  rmSync(OUT_DIR, { recursive: true, force: true });
  const emitted = program.emit(undefined, undefined, undefined, false, {
    afterDeclarations: [rewriteSpecifiers],
  });
  if (emitted.diagnostics.length > 0) {
    report(emitted.diagnostics);
    throw new Error("[session-metrics] [build] emit failed");
  }
  cpSync(join(ROOT, DASHBOARD), join(OUT_DIR, DASHBOARD.slice("src/".length)), { recursive: true });
  const missing = targets.flatMap((t) => [t.types, t.import]).filter((p) => !existsSync(join(ROOT, p)));
  if (missing.length > 0) throw new Error(`[session-metrics] [build] not emitted: ${missing.join(", ")}`);
  return targets;
}

if (import.meta.main) {
  const targets = build();
  console.log(`[session-metrics] [build] dist/ for ${targets.length} exports entries`);
}
