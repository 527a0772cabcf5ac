/**
 * The disk cache of the crash model, as SQLite's crash VFS keeps it: every file (an inode, so it
 * keeps its identity across renames and hard links) holds its content as of its last fsync plus
 * the writes and truncates since; every directory holds its entries as of its last fsync plus the
 * entry operations since. `CrashIO` (../crash-io.ts) turns the library's file calls into the
 * `DiskEntry` log below; `DiskModel` applies it, and a clone at any point of the log is the state
 * a power loss would hit there (see materialise.ts for the "after reboot" files).
 *
 * A failed fsync (`fsync-failed`) drops the pages of a file's pending ops, as Linux may
 * ("fsyncgate"): they stay in the cache the live process reads but never reach the disk, not even
 * with a later fsync that succeeds; that one makes durable only what was written after the failure.
 */

export type NodeId = number;

/** A change to a file's bytes that no fsync has made durable yet. */
export type FileOp = { kind: "write"; offset: number; data: Buffer } | { kind: "truncate"; length: number };

/**
 * A change to a directory that no directory fsync has made durable yet. A rename within one
 * directory is one operation (a journalled filesystem renames atomically: both names or neither).
 */
export type DirOp =
  | { kind: "set"; name: string; node: NodeId }
  | { kind: "remove"; name: string; node: NodeId }
  | { kind: "rename"; from: string; to: string; node: NodeId };

/** One entry of the operation log. `create` only introduces a node; a `set` gives it a name. */
export type DiskEntry =
  | { t: "create"; node: NodeId; kind: "file" | "dir" }
  | { t: "file"; node: NodeId; op: FileOp }
  | { t: "dir"; dir: NodeId; op: DirOp }
  | { t: "fsync"; node: NodeId }
  | { t: "fsync-failed"; node: NodeId };

export interface FileNode {
  kind: "file";
  /** Content as of the last fsync (never mutated: replaced by a new buffer). */
  synced: Buffer;
  pending: FileOp[];
  /**
   * Content as of the last fsync as the live process reads it, when a failed fsync made it differ
   * from `synced` (dropped pages still in the cache); undefined when it is `synced`.
   */
  cached?: Buffer;
  /** Size with every pending op applied (for appends). */
  liveSize: number;
}

export interface DirNode {
  kind: "dir";
  /** Entries as of the last directory fsync. */
  synced: Map<string, NodeId>;
  pending: DirOp[];
  /** Entries with every pending op applied: the namespace the live process sees. */
  live: Map<string, NodeId>;
}

export type DiskNode = FileNode | DirNode;

export const ROOT: NodeId = 0;

/** Applies `op` to `bytes` (a write past the end extends the file with zeros, as a hole reads). */
export function applyFileOp(bytes: Buffer, op: FileOp): Buffer {
  if (op.kind === "truncate") return resize(bytes, op.length);
  const end = op.offset + op.data.length;
  const out = end > bytes.length ? resize(bytes, end) : Buffer.from(bytes);
  op.data.copy(out, op.offset);
  return out;
}

function resize(bytes: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  bytes.copy(out, 0, 0, Math.min(length, bytes.length));
  return out;
}

/** Applies a directory op to `entries` (a remove only removes the name while it names that node). */
export function applyDirOp(entries: Map<string, NodeId>, op: DirOp): void {
  if (op.kind === "set") entries.set(op.name, op.node);
  else if (op.kind === "remove") {
    if (entries.get(op.name) === op.node) entries.delete(op.name);
  } else {
    if (entries.get(op.from) === op.node) entries.delete(op.from);
    entries.set(op.to, op.node);
  }
}

export class DiskModel {
  readonly nodes = new Map<NodeId, DiskNode>();
  /** Log entries applied so far. */
  applied = 0;

  /** An empty, durable root directory. */
  static empty(): DiskModel {
    const model = new DiskModel();
    model.nodes.set(ROOT, { kind: "dir", synced: new Map(), pending: [], live: new Map() });
    return model;
  }

  /** A copy sharing only immutable parts (synced buffers, op objects). */
  clone(): DiskModel {
    const copy = new DiskModel();
    copy.applied = this.applied;
    for (const [id, node] of this.nodes)
      copy.nodes.set(
        id,
        node.kind === "file"
          ? { ...node, pending: [...node.pending] }
          : {
              kind: "dir",
              synced: new Map(node.synced),
              pending: [...node.pending],
              live: new Map(node.live),
            },
      );
    return copy;
  }

  file(id: NodeId): FileNode {
    const node = this.nodes.get(id);
    if (node?.kind !== "file") throw new Error(`crash model: node ${id} is not a file`);
    return node;
  }

  dir(id: NodeId): DirNode {
    const node = this.nodes.get(id);
    if (node?.kind !== "dir") throw new Error(`crash model: node ${id} is not a directory`);
    return node;
  }

  apply(entry: DiskEntry): void {
    this.applied++;
    switch (entry.t) {
      case "create":
        this.nodes.set(
          entry.node,
          entry.kind === "file"
            ? { kind: "file", synced: Buffer.alloc(0), pending: [], liveSize: 0 }
            : { kind: "dir", synced: new Map(), pending: [], live: new Map() },
        );
        break;
      case "file": {
        const file = this.file(entry.node);
        file.pending.push(entry.op);
        const op = entry.op;
        file.liveSize =
          op.kind === "truncate" ? op.length : Math.max(file.liveSize, op.offset + op.data.length);
        break;
      }
      case "dir": {
        const dir = this.dir(entry.dir);
        dir.pending.push(entry.op);
        applyDirOp(dir.live, entry.op);
        break;
      }
      case "fsync":
        this.#fsync(entry.node);
        break;
      case "fsync-failed":
        this.#fsyncFailed(entry.node);
    }
  }

  #fsync(id: NodeId): void {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`crash model: fsync of unknown node ${id}`);
    if (node.kind === "dir") {
      node.synced = new Map(node.live);
      node.pending = [];
    } else {
      const live = this.liveContent(id);
      if (node.cached === undefined) node.synced = live;
      else {
        // Only what was written since the failure reaches the disk; the dropped pages never do.
        for (const op of node.pending) node.synced = applyFileOp(node.synced, op);
        node.cached = live.equals(node.synced) ? undefined : live;
      }
      node.pending = [];
    }
  }

  /** A failed fsync of a file: its pending ops are dropped from the disk, kept in the cache. */
  #fsyncFailed(id: NodeId): void {
    const file = this.file(id);
    file.cached = this.liveContent(id);
    file.pending = [];
  }

  /** A file's content with every pending op applied: what the live process reads. */
  liveContent(id: NodeId): Buffer {
    const file = this.file(id);
    let bytes = file.cached ?? file.synced;
    for (const op of file.pending) bytes = applyFileOp(bytes, op);
    return bytes;
  }

  /** The node `parts` names in the live namespace (from the root), if any. */
  lookup(parts: readonly string[]): NodeId | undefined {
    let id: NodeId = ROOT;
    for (const part of parts) {
      const node = this.nodes.get(id);
      if (node?.kind !== "dir") return undefined;
      const next = node.live.get(part);
      if (next === undefined) return undefined;
      id = next;
    }
    return id;
  }
}
