import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { ClockRun } from "../adapter.ts";

/** A run as the history keeps it: the id is what `twelve dlq CLOCK --purge --id` takes. */
export type RecordedRun = ClockRun & { id: string };

/** The history keeps this many runs; a longer file is cut back to them when opened. */
const KEEP = 1000;

const isRun = (r: unknown): r is RecordedRun => {
  const run = r as Partial<RecordedRun> | null;
  return typeof run?.id === "string" && typeof run.scheduledTime === "number" && ["ok", "failed", "skipped"].includes(run.outcome as string);
};

/**
 * What twelve dev remembers of a clock's runs, in `.twelve/dev/clocks/<clock>.jsonl`, one run a
 * line: the last run for its output (across restarts), and the failed runs, which are the
 * clock's dead letters (`twelve dlq CLOCK`), as a schedule's dead-letter queue holds them on AWS.
 */
export class ClockHistory {
  readonly file: string;
  #runs: RecordedRun[];

  constructor(dir: string, clock: string) {
    this.file = path.join(dir, `${clock}.jsonl`);
    this.#runs = ClockHistory.read(this.file);
    if (this.#runs.length > KEEP) {
      this.#runs = this.#runs.slice(-KEEP);
      this.#rewrite();
    }
  }

  /** A history file as it is on disk; lines it cannot read are skipped (a run's record is a report, not a message). */
  static read(file: string): RecordedRun[] {
    let text = "";
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    const runs: RecordedRun[] = [];
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        const run = JSON.parse(line) as unknown;
        if (isRun(run)) runs.push(run);
      } catch {
        // a torn last line: that run is just not remembered
      }
    }
    return runs;
  }

  record(run: ClockRun): RecordedRun {
    const recorded = { id: randomUUID(), ...run };
    this.#runs.push(recorded);
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.appendFileSync(this.file, `${JSON.stringify(recorded)}\n`);
    return recorded;
  }

  last(): RecordedRun | undefined {
    return this.#runs.at(-1);
  }

  failures(): RecordedRun[] {
    return this.#runs.filter((r) => r.outcome === "failed");
  }

  /** Forgets failed runs: all, or those of `ids`. */
  purge(ids: readonly string[] | undefined): { purged: number; missing: string[] } {
    const failed = this.failures();
    const wanted = ids === undefined ? new Set(failed.map((r) => r.id)) : new Set(ids);
    const gone = new Set(failed.filter((r) => wanted.has(r.id)).map((r) => r.id));
    if (gone.size > 0) {
      this.#runs = this.#runs.filter((r) => !gone.has(r.id));
      this.#rewrite();
    }
    return { purged: gone.size, missing: [...wanted].filter((id) => !gone.has(id)) };
  }

  #rewrite(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const temp = `${this.file}.tmp`;
    fs.writeFileSync(temp, this.#runs.map((r) => `${JSON.stringify(r)}\n`).join(""));
    fs.renameSync(temp, this.file);
  }
}
