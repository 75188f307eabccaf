import { failure } from "../errors.ts";
import { SYMBOL, toApply, type Change, type Plan, type Resource } from "./plan.ts";

/** How one change is made: when, how many of its kind at once, and the calls that make it. */
export interface Step {
  /**
   * Its place in the platform's order of phases (a queue before the function it feeds):
   * creates and updates run phase by phase upwards, deletes downwards.
   */
  phase: number;
  /** At most this many steps of the phase run at once (default 8). */
  limit?: number;
  /** Its progress line says how long it took (an upload). */
  timed?: boolean;
  /** Makes the change; may return the progress line to show instead of the usual one. */
  run(): Promise<string | void>;
}

export interface ApplyOptions<R extends Resource> {
  /** One line per change as it is done. */
  progress(line: string): void;
  /** Called before a phase's steps start, with its changes (for a line such as "uploading a, b..."). */
  onPhase?(changes: Change<R>[]): void;
  /** The platform's words for a failed call, and what to do about it. */
  explain(error: unknown): { message: string; hint: string };
}

/**
 * Applies a plan: creates and updates phase by phase in the platform's order, then deletes in
 * the reverse order (deletions kept back, such as a queue holding messages, are not made).
 * Steps of a phase run in parallel and all finish before a failure is reported, naming the
 * resource; every step accepts what an interrupted deploy made, so running deploy again converges.
 */
export async function applySteps<R extends Resource>(plan: Plan<R>, stepOf: (change: Change<R>) => Step, options: ApplyOptions<R>): Promise<void> {
  const planned = toApply(plan).map((change) => ({ change, step: stepOf(change) }));
  const upserts = planned.filter((p) => p.change.action !== "delete");
  const deletes = planned.filter((p) => p.change.action === "delete");
  const phases = (list: typeof planned, order: 1 | -1) => [...new Set(list.map((p) => p.step.phase))].sort((a, b) => (a - b) * order).map((phase) => list.filter((p) => p.step.phase === phase));
  for (const phase of [...phases(upserts, 1), ...phases(deletes, -1)]) {
    options.onPhase?.(phase.map((p) => p.change));
    await runPhase(phase, options);
  }
}

async function runPhase<R extends Resource>(phase: { change: Change<R>; step: Step }[], options: ApplyOptions<R>): Promise<void> {
  const failures: { change: Change<R>; error: unknown }[] = [];
  const limit = Math.min(...phase.map((p) => p.step.limit ?? 8));
  let next = 0;
  const lane = async () => {
    while (next < phase.length) {
      const { change, step } = phase[next++] as { change: Change<R>; step: Step };
      const started = performance.now();
      try {
        const line = await step.run();
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        const fields = change.action === "update" ? ` (${change.fields.map((f) => f.field).join(", ")})` : "";
        options.progress(line || `${SYMBOL[change.action]} ${change.kind} ${change.name}${fields}${step.timed ? ` ${seconds} s` : ""}`);
      } catch (error) {
        failures.push({ change, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, phase.length) }, lane));
  const [first, ...others] = failures;
  if (!first) return;
  const also = others.length ? ` (and ${others.map((f) => `${f.change.kind} ${f.change.name}`).join(", ")})` : "";
  const { message, hint } = options.explain(first.error);
  throw failure(`${first.change.action} ${first.change.kind} ${first.change.name} failed${also}: ${message}`, hint, first.error);
}
