/**
 * A `FileIO` that works on the real files (it delegates to `nodeFileIO`, so the collector really
 * runs) and meanwhile models a disk cache, as SQLite's crash VFS does: every file and directory
 * under `root` is a node of a `DiskModel`, and every call that changes one is logged as a
 * `DiskEntry` (writes, truncates, fsyncs; creates, renames, unlinks, links, mkdirs). The state
 * at any point of the log can be "lost" (`powerLoss`): materialised into a fresh directory with
 * only what fsyncs made durable plus a random subset of the rest, torn and garbled.
 *
 * An entry is logged when its call has completed (in the callback for an asynchronous one): a
 * crash while a write is in flight is a crash before or after it, and an fsync only counts once
 * it returned.
 *
 * With `failFsyncs` some fsyncs of chosen files fail (EIO, through the callback or thrown by
 * fsyncSync), dropping the pages of the file's unsynced writes (disk-model.ts): what the live
 * process reads keeps them, the disk never gets them.
 */
import { constants } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { type FileIO, nodeFileIO } from "../../src/fs/io.ts";
import { CrashState, renamedOnto, statesAt } from "./power-loss/crash-states.ts";
import { compareWithDisk, modelOfDisk } from "./power-loss/disk-files.ts";
import { type DirOp, type DiskEntry, type DiskModel, type NodeId, ROOT } from "./power-loss/disk-model.ts";
import type { PowerLossOptions, PowerLossStats } from "./power-loss/materialise.ts";
import { openFlags } from "./power-loss/open-flags.ts";

export { CrashState };

const { O_APPEND, O_CREAT, O_DSYNC, O_SYNC, O_TRUNC } = constants;

/** Failing fsyncs: each fsync of a file `match` accepts fails when `random() < rate`. */
export interface FsyncFaults {
  rate: number;
  random: () => number;
  /** The path the file was opened by. */
  match: (path: string) => boolean;
}

interface OpenFile {
  node: NodeId;
  path: string;
  append: boolean;
  sync: boolean;
  /** The file offset, for writes and reads without a position. */
  position: number;
}

export class CrashIO {
  readonly root: string;
  /** Every change, in completion order. */
  readonly log: DiskEntry[] = [];
  readonly #initial: DiskModel;
  readonly #live: DiskModel;
  readonly #files = new Map<number, OpenFile>();
  #nextNode = ROOT + 1;
  #faults: FsyncFaults | undefined;
  #failedFsyncs = 0;

  /** Models `root` (whatever it holds now counts as durable: the disk before the run). */
  constructor(root: string) {
    this.root = resolve(root);
    this.#initial = modelOfDisk(this.root);
    this.#nextNode = this.#initial.nodes.size;
    this.#live = this.#initial.clone();
  }

  /** Starts (or, with undefined, stops) failing fsyncs. */
  failFsyncs(faults: FsyncFaults | undefined): void {
    this.#faults = faults;
  }

  /** fsyncs failed so far. */
  get failedFsyncs(): number {
    return this.#failedFsyncs;
  }

  /** Log entries so far: crash points run from 0 (nothing happened) to this. */
  get opCount(): number {
    return this.log.length;
  }

  /** The state after the first `at` entries of the log (0 ≤ at ≤ opCount). */
  stateAt(at: number): CrashState {
    return this.statesAt([at])[0]!;
  }

  /** States at several crash points, replaying the log once. Returned in the order asked. */
  statesAt(points: readonly number[]): CrashState[] {
    return statesAt(this.#initial, this.log, points);
  }

  /** Loses power now: materialises the current state into `outDir`. */
  powerLoss(rng: () => number, outDir: string, options?: PowerLossOptions): PowerLossStats {
    return this.stateAt(this.log.length).powerLoss(rng, outDir, options);
  }

  /**
   * Every content a rename put at `path` (relative to root), in order, with the log position
   * just after the rename (a crash point from which the rename may be on disk).
   */
  renamedOnto(path: string): { at: number; bytes: Buffer }[] {
    return renamedOnto(this.#initial, this.log, this.#parts(join(this.root, path))!);
  }

  /**
   * Differences between the model with everything applied and the real files under root: the
   * model's self-check (a call the wrapper does not model would show up here).
   */
  divergences(): string[] {
    return compareWithDisk(this.#live, this.root);
  }

  /** The `FileIO` to install with `useFileIO`. */
  fileIO(): FileIO {
    return { ...nodeFileIO, ...this.#overrides() };
  }

  #overrides(): Partial<FileIO> {
    const real = nodeFileIO;
    return {
      openSync: (path, flags, mode) => {
        const fd = real.openSync(path, flags, mode);
        this.#opened(fd, path, openFlags(flags));
        return fd;
      },
      closeSync: (fd) => {
        real.closeSync(fd);
        this.#files.delete(fd);
      },
      readSync: (fd, buffer, offset, length, position) => {
        const n = real.readSync(fd, buffer, offset, length, position);
        this.#advance(fd, position, n);
        return n;
      },
      read: (fd, buffer, offset, length, position, callback) =>
        real.read(fd, buffer, offset, length, position, (error, n) => {
          if (!error) this.#advance(fd, position, n);
          callback(error, n);
        }),
      writeSync: (fd, buffer, offset = 0, length = buffer.length - offset, position = null) => {
        const n = real.writeSync(fd, buffer, offset, length, position);
        this.#wrote(fd, buffer.subarray(offset, offset + n), position);
        return n;
      },
      write: (fd, buffer, offset, length, position, callback) => {
        const copy = Buffer.from(buffer.subarray(offset, offset + length));
        real.write(fd, buffer, offset, length, position, (error, n) => {
          if (!error) this.#wrote(fd, copy.subarray(0, n), position);
          callback(error, n);
        });
      },
      ftruncateSync: (fd, length) => {
        real.ftruncateSync(fd, length);
        const file = this.#files.get(fd);
        if (file !== undefined) this.#log({ t: "file", node: file.node, op: { kind: "truncate", length } });
      },
      fsyncSync: (fd) => {
        const failing = this.#failing(fd);
        if (failing !== undefined) {
          this.#failed(failing);
          throw eio("fsync");
        }
        real.fsyncSync(fd);
        this.#synced(fd);
      },
      fsync: (fd, callback) => {
        const failing = this.#failing(fd);
        if (failing !== undefined) {
          // Logged as it returns: writes made meanwhile lose their pages too.
          setImmediate(() => {
            this.#failed(failing);
            callback(eio("fsync"));
          });
          return;
        }
        real.fsync(fd, (error) => {
          if (!error) this.#synced(fd);
          callback(error);
        });
      },
      renameSync: (from, to) => {
        real.renameSync(from, to);
        this.#renamed(from, to);
      },
      rename: (from, to, callback) =>
        real.rename(from, to, (error) => {
          if (!error) this.#renamed(from, to);
          callback(error);
        }),
      unlinkSync: (path) => {
        real.unlinkSync(path);
        this.#removed(path);
      },
      rmdirSync: (path) => {
        real.rmdirSync(path);
        this.#removed(path);
      },
      linkSync: (existing, created) => {
        real.linkSync(existing, created);
        const node = this.#node(existing);
        if (node !== undefined) this.#setEntry(created, node);
      },
      mkdirSync: (path, options) => {
        const first = real.mkdirSync(path, options);
        if (first !== undefined || !options.recursive) this.#madeDirs(path);
        return first;
      },
    };
  }

  /** Path components under root; undefined for a path outside it (not modelled). */
  #parts(path: string): string[] | undefined {
    const rel = relative(this.root, resolve(path));
    if (rel === "") return [];
    if (rel.startsWith("..") || isAbsolute(rel)) return undefined;
    return rel.split("/");
  }

  #node(path: string): NodeId | undefined {
    const parts = this.#parts(path);
    if (parts === undefined) return undefined;
    const node = this.#live.lookup(parts);
    if (node === undefined) throw new Error(`crash-io: ${path} exists but the model does not know it`);
    return node;
  }

  /** The directory holding `path` and the last component; undefined outside root. */
  #entry(path: string): { dir: NodeId; name: string } | undefined {
    const parts = this.#parts(path);
    if (parts === undefined || parts.length === 0) return undefined;
    const dir = this.#live.lookup(parts.slice(0, -1));
    if (dir === undefined) throw new Error(`crash-io: the folder of ${path} is not in the model`);
    return { dir, name: parts.at(-1)! };
  }

  #log(entry: DiskEntry): void {
    this.log.push(entry);
    this.#live.apply(entry);
  }

  #dirOp(dir: NodeId, op: DirOp): void {
    this.#log({ t: "dir", dir, op });
  }

  #create(kind: "file" | "dir"): NodeId {
    const node = this.#nextNode++;
    this.#log({ t: "create", node, kind });
    return node;
  }

  #setEntry(path: string, node: NodeId): void {
    const at = this.#entry(path);
    if (at !== undefined) this.#dirOp(at.dir, { kind: "set", name: at.name, node });
  }

  #opened(fd: number, path: string, flags: number): void {
    const at = this.#entry(path);
    let node: NodeId | undefined;
    if (at === undefined) {
      if (this.#parts(path)?.length !== 0) return; // outside root
      node = ROOT;
    } else node = this.#live.dir(at.dir).live.get(at.name);
    if (node === undefined) {
      if ((flags & O_CREAT) === 0) throw new Error(`crash-io: ${path} opened but the model does not know it`);
      node = this.#create("file");
      this.#dirOp(at!.dir, { kind: "set", name: at!.name, node });
    } else if ((flags & O_TRUNC) !== 0 && this.#live.nodes.get(node)?.kind === "file")
      this.#log({ t: "file", node, op: { kind: "truncate", length: 0 } });
    const sync = (flags & (O_SYNC | O_DSYNC)) !== 0;
    this.#files.set(fd, { node, path, append: (flags & O_APPEND) !== 0, sync, position: 0 });
  }

  #advance(fd: number, position: number | null, n: number): void {
    const file = this.#files.get(fd);
    if (file !== undefined && position === null) file.position += n;
  }

  /** Linux appends on an O_APPEND file whatever the position says. */
  #wrote(fd: number, bytes: Uint8Array, position: number | null | undefined): void {
    const file = this.#files.get(fd);
    if (file === undefined || bytes.length === 0) return;
    const offset = file.append ? this.#live.file(file.node).liveSize : (position ?? file.position);
    if (position == null) file.position = offset + bytes.length;
    this.#log({ t: "file", node: file.node, op: { kind: "write", offset, data: Buffer.from(bytes) } });
    if (file.sync) this.#log({ t: "fsync", node: file.node });
  }

  /** The node whose fsync through `fd` is to fail, if it is. */
  #failing(fd: number): NodeId | undefined {
    const file = this.#files.get(fd);
    const faults = this.#faults;
    if (file === undefined || faults === undefined || !faults.match(file.path)) return undefined;
    return faults.random() < faults.rate ? file.node : undefined;
  }

  /** An fsync of `node` failed: its unsynced writes lose their pages. */
  #failed(node: NodeId): void {
    this.#failedFsyncs++;
    this.#log({ t: "fsync-failed", node });
  }

  #synced(fd: number): void {
    const file = this.#files.get(fd);
    if (file !== undefined) this.#log({ t: "fsync", node: file.node });
  }

  #renamed(from: string, to: string): void {
    const source = this.#entry(from);
    const target = this.#entry(to);
    if (source === undefined || target === undefined) {
      if (source !== undefined || target !== undefined)
        throw new Error(`crash-io: rename across root ${from} → ${to}`);
      return;
    }
    const node = this.#live.dir(source.dir).live.get(source.name);
    if (node === undefined) throw new Error(`crash-io: renamed ${from}, which the model does not know`);
    if (source.dir === target.dir)
      this.#dirOp(source.dir, { kind: "rename", from: source.name, to: target.name, node });
    else {
      // Across folders the two halves become durable with their own folder's fsync.
      this.#dirOp(target.dir, { kind: "set", name: target.name, node });
      this.#dirOp(source.dir, { kind: "remove", name: source.name, node });
    }
  }

  #removed(path: string): void {
    const at = this.#entry(path);
    if (at === undefined) return;
    const node = this.#live.dir(at.dir).live.get(at.name);
    if (node !== undefined) this.#dirOp(at.dir, { kind: "remove", name: at.name, node });
  }

  /** Every component of `path` under root that the model lacks is a new directory. */
  #madeDirs(path: string): void {
    const parts = this.#parts(path);
    if (parts === undefined) return;
    let dir = ROOT;
    for (const part of parts) {
      const next = this.#live.dir(dir).live.get(part);
      if (next !== undefined) {
        dir = next;
        continue;
      }
      const node = this.#create("dir");
      this.#dirOp(dir, { kind: "set", name: part, node });
      dir = node;
    }
  }
}

function eio(call: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EIO: i/o error, ${call} (injected by the crash model)`), {
    code: "EIO",
    errno: -5,
    syscall: call,
  });
}
