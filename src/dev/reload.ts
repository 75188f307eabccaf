import type { SlotSpec } from "./slot.ts";

/** What a reload does with each process: a pure function of what runs and what the new build asks for. */
export interface ReloadPlan {
  /** Gone from the formation: stopped (their queued messages stay on disk). */
  remove: string[];
  /** New in the formation, or changed: started in a new slot (a changed one's old slot is stopped first). */
  start: string[];
  /** The same as it runs now: kept, with the new build's description. */
  keep: string[];
}

export interface ReloadChange {
  /** Whether a file that changed is one of the process's own sources (in the old build or the new). */
  edited(process: string): boolean;
  /** Whether what every bundle is built from, beyond its process, changed: the app's name, its secrets' names, the target. */
  formationChanged: boolean;
}

/**
 * A process restarts only when what it runs or how it is set up differs: its code, its
 * settings, its variables, the queues it may send to; or when it is not up (a crashing
 * process is started afresh by the edit that may have fixed it).
 *
 * Its code differs when its bundle does for a reason of its own: one of its sources changed,
 * or what its bundle is built from. Every bundle also carries the list of the formation's
 * workers (for send()'s error about a name that is not one), so adding a worker changes every
 * bundle without changing what any of them does: a process that may send to the new worker has
 * it in its sends, and restarts for that.
 */
export function planReload(running: ReadonlyMap<string, { spec: SlotSpec; up: boolean }>, next: readonly SlotSpec[], change: ReloadChange): ReloadPlan {
  const wanted = new Set(next.map((s) => s.process.name));
  const plan: ReloadPlan = { remove: [...running.keys()].filter((name) => !wanted.has(name)), start: [], keep: [] };
  for (const spec of next) {
    const old = running.get(spec.process.name);
    if (old && old.up && !changed(old.spec, spec, change)) plan.keep.push(spec.process.name);
    else plan.start.push(spec.process.name);
  }
  return plan;
}

function changed(old: SlotSpec, fresh: SlotSpec, change: ReloadChange): boolean {
  const bundleChanged = old.built.artifacts.bundle?.sha256 !== fresh.built.artifacts.bundle?.sha256;
  return (
    (bundleChanged && (change.edited(fresh.process.name) || change.formationChanged)) ||
    JSON.stringify(old.process) !== JSON.stringify(fresh.process) ||
    JSON.stringify(old.variables) !== JSON.stringify(fresh.variables) ||
    old.built.sends.join() !== fresh.built.sends.join() ||
    old.port !== fresh.port
  );
}
