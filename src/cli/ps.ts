import type { DeadLetterSummary, ProcessStatus } from "../adapter.ts";
import { openStage } from "../deploy/stage.ts";
import { nextRun } from "../dev/clock.ts";
import { parseCrontab } from "../formation/crontab.ts";
import { zonedMinute } from "../formation/timezone.ts";
import type { Formation } from "../formation/types.ts";
import { globalFlags, parse, stageOptions } from "./args.ts";
import type { Command } from "./command.ts";
import { Output, table } from "./output.ts";

/** A row of `twelve ps --json`: what the adapter read, plus what is the same on every platform. */
export interface PsRow extends ProcessStatus {
  /** Workers (and clocks where the platform keeps failed runs): how many dead letters; null where unknown. */
  deadLetters: number | null;
  /** When the oldest dead letter was first sent (ISO). */
  oldestDeadLetter: string | null;
  /** Clocks: the next run, in UTC and in the clock's time zone. */
  nextRun: { utc: string; local: string } | null;
}

/** The formation as deployed: each process, its resource, cap, state, last change, URL or queue depth, dead letters; clocks' next and last run. */
export const ps: Command = {
  async run(args, { adapters }) {
    const { values } = parse("ps", args, { stage: { type: "string" }, target: { type: "string" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    const { formation, stage, deployed } = await openStage(stageOptions(flags, values, adapters, out));
    const [{ processes, notes }, dead] = await Promise.all([
      deployed.ps(),
      // Dead letters are worth showing, not worth failing ps for.
      deployed.deadLetters.summary().catch((error: Error): DeadLetterSummary[] => {
        notes.push(`dead letters could not be read: ${error.message}`);
        return [];
      }),
    ]);
    const rows = withFormationFacts(formation, processes, dead, Date.now());
    for (const d of dead) if (d.note) notes.push(`${d.process}: ${d.note}`);
    out.line(`${out.bold(formation.app)} stage ${out.bold(stage)}`);
    const lines = table([
      ["PROCESS", "TYPE", "RESOURCE", "CAP", "STATE", "LAST CHANGE", "URL / QUEUE", "DEAD"],
      ...rows.map((r) => [
        r.process,
        r.type,
        r.resource,
        r.cap === null ? "-" : String(r.cap),
        r.state,
        r.lastChange ?? "-",
        r.url ?? (r.queueDepth === null ? "-" : `${r.queueDepth} waiting`),
        r.deadLetters === null ? "-" : r.deadLetters === 0 ? "0" : `${r.deadLetters} (oldest ${r.oldestDeadLetter})`,
      ]),
    ]);
    for (const line of lines) out.line(line);
    const clocks = rows.filter((r) => r.type === "clock");
    if (clocks.length) {
      out.line();
      for (const line of table([
        ["CLOCK", "NEXT RUN", "NEXT (UTC)", "LAST RUN"],
        ...clocks.map((r) => [r.process, r.nextRun?.local ?? "never", r.nextRun?.utc ?? "-", lastRunText(r)]),
      ])) out.line(line);
    }
    for (const note of notes) out.note(note);
    out.result({ ok: true, app: formation.app, stage, processes: rows });
    return 0;
  },
};

/** Adds to the adapter's rows what twelve knows the same way everywhere: dead-letter counts and a clock's next run. */
export function withFormationFacts(formation: Formation, processes: ProcessStatus[], dead: DeadLetterSummary[], now: number): PsRow[] {
  return processes.map((row) => {
    const process = formation.processes.find((p) => p.name === row.process);
    const letters = dead.find((d) => d.process === row.process);
    const next = process?.type === "clock" ? nextRun(parseCrontab(process.schedule), process.timezone, now) : undefined;
    return {
      ...row,
      deadLetters: letters?.count ?? null,
      oldestDeadLetter: letters?.oldestSentAt ? new Date(letters.oldestSentAt).toISOString() : null,
      nextRun: next === undefined || process?.type !== "clock" ? null : { utc: new Date(next).toISOString(), local: zonedMinute(next, process.timezone) },
    };
  });
}

function lastRunText(row: PsRow): string {
  const last = row.lastRun;
  if (!last) return "-";
  const duration = last.durationMs === null ? "" : ` in ${(last.durationMs / 1000).toFixed(1)} s`;
  return `${last.scheduledTime} ${last.outcome}${duration}${last.detail ? ` (${last.detail})` : ""}`;
}
