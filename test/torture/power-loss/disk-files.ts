/**
 * The crash model against real files: the model of a folder as it is (everything in it durable:
 * the disk before a run) and the differences between a model with every operation applied and
 * the folder (the model's self-check: a file call `CrashIO` does not model shows up there).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { DiskModel, type NodeId, ROOT } from "./disk-model.ts";

/** A model of `root` with every file and folder in it durable; node ids are 0 … n − 1. */
export function modelOfDisk(root: string): DiskModel {
  const model = DiskModel.empty();
  let next = ROOT + 1;
  const scan = (path: string, id: NodeId) => {
    const dir = model.dir(id);
    for (const name of readdirSync(path)) {
      const child = join(path, name);
      const node = next++;
      if (statSync(child).isDirectory()) {
        model.nodes.set(node, { kind: "dir", synced: new Map(), pending: [], live: new Map() });
        scan(child, node);
      } else {
        const synced = readFileSync(child);
        model.nodes.set(node, { kind: "file", synced, pending: [], liveSize: synced.length });
      }
      dir.synced.set(name, node);
      dir.live.set(name, node);
    }
  };
  scan(root, ROOT);
  return model;
}

/** Where the live namespace and contents of `model` differ from the files under `root`. */
export function compareWithDisk(model: DiskModel, root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, id: NodeId) => {
    const node = model.dir(id);
    const real = readdirSync(dir).sort();
    const modelled = [...node.live.keys()].sort();
    if (real.join("/") !== modelled.join("/"))
      out.push(`${relative(root, dir) || "."}: real [${real}] vs model [${modelled}]`);
    for (const name of real) {
      const child = node.live.get(name);
      if (child === undefined) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path, child);
      else if (!readFileSync(path).equals(model.liveContent(child)))
        out.push(`${relative(root, path)}: content differs`);
    }
  };
  walk(root, ROOT);
  return out;
}
