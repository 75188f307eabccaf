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

/**
 * A process restarts only when what it runs or how it is set up differs: its bundle, its
 * settings, its variables, the queues it may send to; or when it is not up (a crashing
 * process is started afresh by the edit that may have fixed it).
 */
export function planReload(running: ReadonlyMap<string, { spec: SlotSpec; up: boolean }>, next: readonly SlotSpec[]): ReloadPlan {
  const wanted = new Set(next.map((s) => s.process.name));
  const plan: ReloadPlan = { remove: [...running.keys()].filter((name) => !wanted.has(name)), start: [], keep: [] };
  for (const spec of next) {
    const old = running.get(spec.process.name);
    if (old && old.up && !changed(old.spec, spec)) plan.keep.push(spec.process.name);
    else plan.start.push(spec.process.name);
  }
  return plan;
}

function changed(old: SlotSpec, fresh: SlotSpec): boolean {
  return (
    old.built.artifacts.bundle?.sha256 !== fresh.built.artifacts.bundle?.sha256 ||
    JSON.stringify(old.process) !== JSON.stringify(fresh.process) ||
    JSON.stringify(old.variables) !== JSON.stringify(fresh.variables) ||
    old.built.sends.join() !== fresh.built.sends.join() ||
    old.port !== fresh.port
  );
}
