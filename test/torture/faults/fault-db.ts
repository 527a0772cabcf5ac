/**
 * A bun:sqlite `Database` whose calls share a `FaultIO`'s count and plan. bun:sqlite reads and
 * writes its files in native code, out of reach of the library's `io` seam, so the sweep fails
 * the database calls themselves instead: `run`, `exec`, `query`/`prepare` and every call of a
 * statement they return (`run`, `all`, `get`, `values`, `iterate`) can throw what SQLite would
 * throw on a full or failing disk. BEGIN and COMMIT, issued natively by `transaction()`, are not
 * reached; a statement failing inside a transaction rolls it back, as a failed COMMIT would.
 */
import { Database } from "bun:sqlite";
import type { FaultIO, FaultKind } from "../fault-io.ts";

const SQLITE: Record<Exclude<FaultKind, "short-write">, { code: string; errno: number; message: string }> = {
  ENOSPC: { code: "SQLITE_FULL", errno: 13, message: "database or disk is full" },
  EDQUOT: { code: "SQLITE_FULL", errno: 13, message: "database or disk is full" },
  EIO: { code: "SQLITE_IOERR_WRITE", errno: 778, message: "disk I/O error" },
  EACCES: { code: "SQLITE_READONLY", errno: 8, message: "attempt to write a readonly database" },
};

const STATEMENT_CALLS = new Set(["run", "all", "get", "values", "iterate"]);

export class FaultDatabase extends Database {
  readonly #fault: FaultIO;

  constructor(path: string, fault: FaultIO) {
    super(path, { create: true, readwrite: true });
    this.#fault = fault;
    // Generic methods: replaced on the instance (an override cannot restate their signatures).
    const prepare = Database.prototype.prepare.bind(this);
    const query = Database.prototype.query.bind(this);
    this.prepare = ((...args: Parameters<typeof prepare>) => {
      this.#hit("prepare");
      return this.#wrap(prepare(...args));
    }) as Database["prepare"];
    this.query = ((...args: Parameters<typeof query>) => {
      this.#hit("query");
      return this.#wrap(query(...args));
    }) as Database["query"];
  }

  /** Counts one call; throws if the plan says this one fails (a short write does not apply). */
  #hit(what: string): void {
    const kind = this.#fault.hit(`db.${what}`);
    if (kind === undefined || kind === "short-write") return;
    const e = SQLITE[kind];
    throw Object.assign(new Error(`${e.message} (injected, ${what})`), {
      name: "SQLiteError",
      code: e.code,
      errno: e.errno,
    });
  }

  override run(...args: Parameters<Database["run"]>): ReturnType<Database["run"]> {
    this.#hit("run");
    return super.run(...args);
  }

  override exec(...args: Parameters<Database["exec"]>): ReturnType<Database["exec"]> {
    this.#hit("exec");
    return super.exec(...args);
  }

  #wrap<S extends object>(statement: S): S {
    const hit = (what: string) => this.#hit(what);
    return new Proxy(statement, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (typeof value !== "function") return value;
        if (typeof key === "string" && STATEMENT_CALLS.has(key))
          return (...args: unknown[]) => {
            hit(`statement.${key}`);
            return value.apply(target, args);
          };
        return value.bind(target);
      },
    });
  }
}
