/**
 * `bun typecheck.ts <project dir> <out.json>`: type-checks a project with its tsconfig.json through
 * the compiler API and writes every diagnostic (file, position, code, text) and the program's files
 * as JSON. A child process of pack.test.ts: the program takes over a gigabyte, returned at exit, and
 * the result goes to a file because tsc's own output can be cut short when stdout is a pipe and the
 * process exits.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

export interface TypecheckDiagnostic {
  /** Absolute path (symlinks resolved, as the compiler reads it); absent for a global diagnostic. */
  file?: string;
  line?: number;
  code: number;
  message: string;
}

export interface TypecheckResult {
  diagnostics: TypecheckDiagnostic[];
  files: string[];
}

function check(dir: string): TypecheckResult {
  const config = ts.getParsedCommandLineOfConfigFile(join(dir, "tsconfig.json"), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  });
  if (config === undefined) throw new Error(`cannot read ${dir}/tsconfig.json`);
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  const diagnostics = [...config.errors, ...ts.getPreEmitDiagnostics(program)].map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (d.file === undefined || d.start === undefined) return { code: d.code, message };
    const line = d.file.getLineAndCharacterOfPosition(d.start).line + 1;
    return { file: d.file.fileName, line, code: d.code, message };
  });
  return { diagnostics, files: program.getSourceFiles().map((f) => f.fileName) };
}

if (import.meta.main) {
  const [dir, out] = process.argv.slice(2);
  if (dir === undefined || out === undefined) throw new Error("usage: typecheck.ts <project dir> <out.json>");
  writeFileSync(out, JSON.stringify(check(dir)));
}
