/**
 * "After reboot": writes the state a power loss leaves into a fresh directory. Each directory
 * holds its entries as of its last fsync plus a random subset (in order) of the entry operations
 * since; each file reachable from the root holds its synced content plus a random subset (in
 * order) of the writes and truncates since, some of them torn (only a sector-aligned prefix
 * reached the disk) or garbled (one sector of the write holds random bytes).
 *
 * Sectors are 512 bytes. Garbling is limited to the bytes the write itself covered: the disk is
 * "powersafe overwrite" (SQLite's default assumption), so a torn write never damages bytes that
 * were already durable in the same sector. Without that assumption no fsync protocol could keep
 * an acknowledged record, so the invariants would be meaningless.
 */
import { linkSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  applyDirOp,
  applyFileOp,
  type DirNode,
  type DiskModel,
  type FileNode,
  type FileOp,
  type NodeId,
  ROOT,
} from "./disk-model.ts";

export const SECTOR = 512;

export interface PowerLossOptions {
  /** Chance that an unsynced write or truncate reached the disk. Default: drawn per power loss. */
  keepWrite?: number;
  /** Chance that an unsynced entry operation reached the disk. Default: drawn per power loss. */
  keepEntry?: number;
  /** Chance that a write that reached the disk is torn. Default 0.15. */
  tear?: number;
  /** Chance that a write that reached the disk has a garbled sector. Default 0.05. */
  garble?: number;
}

export interface PowerLossStats {
  /** Unsynced writes/truncates and entry operations at the moment of the loss. */
  unsynced: number;
  /** Of those, how many did not reach the disk. */
  dropped: number;
  torn: number;
  garbled: number;
  /** Files written out (each inode once). */
  files: number;
}

/** Chances of an op reaching the disk: all, none and in between, so both extremes are tried. */
const KEEP_LEVELS = [0, 0.3, 0.6, 0.9, 1] as const;

function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

/** Materialises `model` after a power loss into `outDir` (which must exist and be empty). */
export function materialise(
  model: DiskModel,
  rng: () => number,
  outDir: string,
  options: PowerLossOptions = {},
): PowerLossStats {
  const chances = {
    keepWrite: options.keepWrite ?? pick(rng, KEEP_LEVELS),
    keepEntry: options.keepEntry ?? pick(rng, KEEP_LEVELS),
    tear: options.tear ?? 0.15,
    garble: options.garble ?? 0.05,
  };
  const stats: PowerLossStats = { unsynced: 0, dropped: 0, torn: 0, garbled: 0, files: 0 };
  const written = new Map<NodeId, string>();
  const visited = new Set<NodeId>();
  const walk = (id: NodeId, path: string) => {
    // A subset of renames of directories could make a loop; each directory is written once.
    if (visited.has(id)) return;
    visited.add(id);
    for (const [name, child] of afterReboot(model.dir(id), rng, chances.keepEntry, stats)) {
      const node = model.nodes.get(child);
      const target = join(path, name);
      if (node === undefined) continue;
      if (node.kind === "dir") {
        mkdirSync(target);
        walk(child, target);
      } else if (written.has(child)) linkSync(written.get(child)!, target);
      else {
        writeFileSync(target, fileAfterReboot(node, rng, chances, stats));
        written.set(child, target);
        stats.files++;
      }
    }
  };
  walk(ROOT, outDir);
  return stats;
}

function afterReboot(
  dir: DirNode,
  rng: () => number,
  keep: number,
  stats: PowerLossStats,
): Map<string, NodeId> {
  const entries = new Map(dir.synced);
  for (const op of dir.pending) {
    stats.unsynced++;
    if (rng() < keep) applyDirOp(entries, op);
    else stats.dropped++;
  }
  return entries;
}

function fileAfterReboot(
  file: FileNode,
  rng: () => number,
  chances: Required<PowerLossOptions>,
  stats: PowerLossStats,
): Buffer {
  let bytes = file.synced;
  for (const op of file.pending) {
    stats.unsynced++;
    if (rng() >= chances.keepWrite) {
      stats.dropped++;
      continue;
    }
    if (op.kind === "truncate") bytes = applyFileOp(bytes, op);
    else if (rng() < chances.tear) {
      const torn = tornWrite(op, rng);
      stats.torn++;
      if (torn !== undefined) bytes = applyFileOp(bytes, torn);
    } else if (rng() < chances.garble) {
      bytes = applyFileOp(bytes, garbledWrite(op, rng));
      stats.garbled++;
    } else bytes = applyFileOp(bytes, op);
  }
  return bytes;
}

/**
 * The part of a write that reached the disk when it was torn: up to a sector boundary strictly
 * inside it (undefined when it lies in one sector: then nothing of it did).
 */
export function tornWrite(op: Extract<FileOp, { kind: "write" }>, rng: () => number): FileOp | undefined {
  const end = op.offset + op.data.length;
  const first = Math.floor(op.offset / SECTOR) + 1;
  const last = Math.ceil(end / SECTOR) - 1;
  if (last < first) return undefined;
  const boundary = (first + Math.floor(rng() * (last - first + 1))) * SECTOR;
  return { kind: "write", offset: op.offset, data: op.data.subarray(0, boundary - op.offset) };
}

/** The write with the bytes it covers in one of its sectors replaced by random bytes. */
export function garbledWrite(op: Extract<FileOp, { kind: "write" }>, rng: () => number): FileOp {
  const end = op.offset + op.data.length;
  const firstSector = Math.floor(op.offset / SECTOR);
  const sectors = Math.ceil(end / SECTOR) - firstSector;
  const sector = firstSector + Math.floor(rng() * sectors);
  const from = Math.max(op.offset, sector * SECTOR);
  const to = Math.min(end, (sector + 1) * SECTOR);
  const data = Buffer.from(op.data);
  for (let i = from; i < to; i++) data[i - op.offset] = Math.floor(rng() * 256);
  return { kind: "write", offset: op.offset, data };
}
