/**
 * Points of a crash model's log: the state a power loss at each would hit (the log replayed from
 * the initial model up to there), and the contents renames put at a path.
 */
import type { DiskEntry, DiskModel } from "./disk-model.ts";
import { materialise, type PowerLossOptions, type PowerLossStats } from "./materialise.ts";

/** A frozen point of the log: what a power loss right there would hit. */
export class CrashState {
  constructor(
    /** Log entries before the loss. */
    readonly at: number,
    readonly model: DiskModel,
  ) {}

  /** Writes the after-reboot files into `outDir` (existing and empty). */
  powerLoss(rng: () => number, outDir: string, options?: PowerLossOptions): PowerLossStats {
    return materialise(this.model, rng, outDir, options);
  }
}

/** The states after the first `points[i]` entries of `log`, replaying it once; in the order asked. */
export function statesAt(
  initial: DiskModel,
  log: readonly DiskEntry[],
  points: readonly number[],
): CrashState[] {
  const order = [...points.keys()].sort((a, b) => points[a]! - points[b]!);
  const model = initial.clone();
  const states: CrashState[] = new Array(points.length);
  for (const i of order) {
    const at = points[i]!;
    if (at < 0 || at > log.length) throw new RangeError(`crash point ${at} is outside 0..${log.length}`);
    while (model.applied < at) model.apply(log[model.applied]!);
    states[i] = new CrashState(at, model.clone());
  }
  return states;
}

/** Every content a rename put at the path `parts` (from the root), with the log position after it. */
export function renamedOnto(
  initial: DiskModel,
  log: readonly DiskEntry[],
  parts: readonly string[],
): { at: number; bytes: Buffer }[] {
  const name = parts.at(-1)!;
  const model = initial.clone();
  const versions: { at: number; bytes: Buffer }[] = [];
  for (const entry of log) {
    model.apply(entry);
    if (entry.t !== "dir" || entry.op.kind !== "rename" || entry.op.to !== name) continue;
    if (model.lookup(parts.slice(0, -1)) === entry.dir)
      versions.push({ at: model.applied, bytes: model.liveContent(entry.op.node) });
  }
  return versions;
}
