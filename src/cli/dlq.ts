import path from "node:path";
import type { AdapterRegistry, DeadLetter, DeadLetters, DeadLetterSummary } from "../adapter.ts";
import { findConfig } from "../config/find.ts";
import { loadConfig } from "../config/load.ts";
import { openStage } from "../deploy/stage.ts";
import { Broker } from "../dev/broker.ts";
import { ClockHistory } from "../dev/clock-history.ts";
import { devDeadLetters, remoteDeadLetters } from "../dev/dead-letters.ts";
import { takeDevLock } from "../dev/lock.ts";
import { readServerInfo } from "../dev/server.ts";
import { usageError } from "../errors.ts";
import type { ClockProcess, Formation, WorkerProcess } from "../formation/types.ts";
import { globalFlags, parse, stageOptions, type GlobalFlags } from "./args.ts";
import type { Command } from "./command.ts";
import { confirm } from "./deployment.ts";
import { Output, table } from "./output.ts";

/** A body longer than this (pretty-printed) is cut, unless --full. */
const BODY_LINES = 12;
const BODY_CHARS = 1200;
/** How often progress is shown while listing. */
const PROGRESS_MS = 500;

/**
 * `twelve dlq [PROCESS] [--redrive | --purge] [--id ID]...`: the dead letters of the workers
 * (and the failed runs of the clocks), in the running twelve dev or, with --stage, deployed.
 */
export const dlq: Command = {
  async run(args, { adapters }) {
    const { values, positionals } = parse("dlq", args, {
      stage: { type: "string" },
      target: { type: "string" },
      redrive: { type: "boolean" },
      purge: { type: "boolean" },
      id: { type: "string", multiple: true },
      full: { type: "boolean" },
      yes: { type: "boolean", short: "y" },
    });
    const flags = globalFlags(values);
    const out = new Output(flags);
    const [name, ...extra] = positionals;
    if (extra.length) throw usageError(`twelve dlq takes one process, got ${positionals.join(" ")}`, "Give one worker or clock: twelve dlq mailer.");
    if (values.redrive && values.purge) throw usageError("--redrive and --purge cannot go together", "Send them back (--redrive) or delete them (--purge).");
    const ids = values.id?.flatMap((id) => id.split(",")).filter(Boolean);
    if (!name && (values.redrive || values.purge || ids)) throw usageError(`--${values.redrive ? "redrive" : values.purge ? "purge" : "id"} needs a process: twelve dlq PROCESS ${values.redrive ? "--redrive" : values.purge ? "--purge" : "--id ID"}`);

    const opened = await openDeadLetters(flags, values, adapters, out);
    try {
      const { formation, letters, where } = opened;
      if (!name) return await summary(out, formation, where, await letters.summary());
      const process = formation.processes.find((p) => p.name === name);
      if (!process) throw usageError(`no process named "${name}"; workers and clocks: ${formation.processes.filter((p) => p.type !== "web").map((p) => p.name).join(", ") || "none"}`);
      if (process.type === "web") throw usageError(`"${name}" is a web process: it has no dead letters (workers and clocks do)`);
      if (values.redrive) {
        if (process.type !== "worker") throw usageError(`"${name}" is a clock: a failed run is not sent back`, `Run it again now: twelve run ${name}${opened.stage ? ` --stage ${opened.stage}` : ""}`);
        return await redrive(out, opened, process, ids);
      }
      if (values.purge) return await purge(out, opened, process, ids, Boolean(values.yes));
      return await list(out, opened, process, ids, Boolean(values.full));
    } finally {
      await opened.close();
    }
  },
};

interface Opened {
  formation: Formation;
  /** undefined: twelve dev. */
  stage: string | undefined;
  letters: DeadLetters;
  where: string;
  close(): Promise<void>;
}

/** The deployed stage's dead letters with --stage; else the running twelve dev's, or, when none runs, its store on disk. */
async function openDeadLetters(flags: GlobalFlags, values: { stage?: string | undefined; target?: string | undefined }, adapters: AdapterRegistry, out: Output): Promise<Opened> {
  if (values.stage !== undefined) {
    const { formation, stage, deployed } = await openStage(stageOptions(flags, values, adapters, out));
    return { formation, stage, letters: deployed.deadLetters, where: `${stage} on ${deployed.where}`, close: async () => {} };
  }
  const root = path.dirname(findConfig(path.resolve(flags.cwd), flags.config));
  const { formation } = await loadConfig({ cwd: root, config: flags.config, target: values.target, stage: "dev", adapters });
  try {
    const info = readServerInfo(root);
    return { formation, stage: undefined, letters: remoteDeadLetters(info), where: `twelve dev (pid ${info.pid})`, close: async () => {} };
  } catch {
    // No twelve dev runs for the app: its store on disk, below.
  }
  // No twelve dev runs: the store is opened here, under the same lock, so none starts meanwhile.
  const devDir = path.join(formation.root, ".twelve", "dev");
  const lock = takeDevLock(devDir);
  try {
    const broker = await Broker.open(path.join(devDir, "broker"));
    const histories = new Map<string, ClockHistory>();
    const history = (clock: string) => histories.get(clock) ?? histories.set(clock, new ClockHistory(path.join(devDir, "clocks"), clock)).get(clock)!;
    return {
      formation,
      stage: undefined,
      letters: devDeadLetters({ formation: () => formation, broker, history }),
      where: "twelve dev's store (.twelve/dev; twelve dev is not running)",
      close: async () => {
        await broker.close();
        lock.release();
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function summary(out: Output, formation: Formation, where: string, rows: DeadLetterSummary[]): Promise<number> {
  out.line(`${out.bold(formation.app)} dead letters, ${where}`);
  const now = Date.now();
  for (const line of table([
    ["PROCESS", "TYPE", "DEAD", "OLDEST", "WHERE"],
    ...rows.map((r) => [r.process, r.type, r.count === null ? "?" : String(r.count), r.oldestSentAt === null ? "-" : `${age(now - r.oldestSentAt)} old`, r.where]),
  ])) out.line(line);
  for (const r of rows) if (r.note) out.note(`${r.process}: ${r.note}`);
  out.result({ ok: true, app: formation.app, processes: rows.map((r) => ({ ...r, oldestSentAt: iso(r.oldestSentAt) })) });
  return 0;
}

async function list(out: Output, opened: Opened, process: WorkerProcess | ClockProcess, ids: string[] | undefined, full: boolean): Promise<number> {
  const wanted = ids && new Set(ids);
  const progress = out.progress();
  let shownAt = Date.now();
  let count = 0;
  const found = new Set<string>();
  const letters = opened.letters.list(process, (done, total) => {
    if (Date.now() - shownAt < PROGRESS_MS) return;
    shownAt = Date.now();
    progress.update(`listing ${process.name}'s dead letters: ${done.toLocaleString("en")}${total === null ? "" : ` of ${total.toLocaleString("en")}`}`);
  });
  const now = Date.now();
  async function* shown() {
    for await (const letter of letters) {
      if (wanted && !wanted.has(letter.id)) continue;
      found.add(letter.id);
      count++;
      progress.done();
      for (const line of describe(out, letter, now, full)) out.line(line);
      yield { ...letter, sentAt: iso(letter.sentAt), diedAt: iso(letter.diedAt) };
    }
  }
  if (!out.json) out.line(`${out.bold(process.name)} dead letters, ${opened.where}`);
  await out.resultList({ ok: true, app: opened.formation.app, stage: opened.stage ?? null, process: process.name }, "deadLetters", shown(), () => ({ missing: missingOf(ids, found) }));
  progress.done();
  const missing = missingOf(ids, found);
  if (!out.json) out.line(count === 0 ? (ids ? "none of those ids is there" : "no dead letters") : `${count.toLocaleString("en")} dead letter${count === 1 ? "" : "s"}`);
  if (missing.length) out.note(`not found: ${missing.join(", ")}`);
  return 0;
}

async function redrive(out: Output, opened: Opened, process: WorkerProcess, ids: string[] | undefined): Promise<number> {
  const progress = out.progress();
  const result = await opened.letters.redrive(process, ids, (done, total) => done > 0 && progress.update(`sending ${process.name}'s dead letters back: ${done.toLocaleString("en")}${total === null ? "" : ` of ${total.toLocaleString("en")}`}`));
  progress.done();
  out.line(`sent ${result.redriven.toLocaleString("en")} dead letter${result.redriven === 1 ? "" : "s"} back to ${process.name}'s queue (bodies unchanged, attempts from 1 again)`);
  if (result.missing.length) out.note(`not found: ${result.missing.join(", ")}`);
  out.result({ ok: true, app: opened.formation.app, stage: opened.stage ?? null, process: process.name, redriven: result.redriven, missing: result.missing });
  return result.missing.length ? 1 : 0;
}

async function purge(out: Output, opened: Opened, process: WorkerProcess | ClockProcess, ids: string[] | undefined, yes: boolean): Promise<number> {
  const what = ids ? `${ids.length} dead letter${ids.length === 1 ? "" : "s"} of ${process.name}` : `every dead letter of ${process.name}`;
  const place = opened.stage ? `stage ${opened.stage}` : "twelve dev";
  if (!(await confirm(`Delete ${what} (${place}) for good?`, { yes, out, unattended: { refuse: `twelve dlq ${process.name} --purge` } }))) {
    out.line("nothing deleted");
    out.result({ ok: false, purged: 0 });
    return 1;
  }
  const progress = out.progress();
  const result = await opened.letters.purge(process, ids, (done, total) => done > 0 && progress.update(`deleting: ${done.toLocaleString("en")}${total === null ? "" : ` of ${total.toLocaleString("en")}`}`));
  progress.done();
  out.line(`deleted ${result.purged.toLocaleString("en")} dead letter${result.purged === 1 ? "" : "s"} of ${process.name}`);
  if (result.missing.length) out.note(`not found: ${result.missing.join(", ")}`);
  out.result({ ok: true, app: opened.formation.app, stage: opened.stage ?? null, process: process.name, purged: result.purged, missing: result.missing });
  return result.missing.length ? 1 : 0;
}

function describe(out: Output, letter: DeadLetter, now: number, full: boolean): string[] {
  const facts = [
    `${out.bold(letter.id)}`,
    letter.sentAt === null ? "first sent ?" : `first sent ${iso(letter.sentAt)} (${age(now - letter.sentAt)} ago)`,
    `attempts ${letter.attempts ?? "?"}`,
  ];
  const lines = ["", facts.join("  ")];
  lines.push(`  ${out.paint("31", "error")} ${letter.error ?? "not known (the platform moved it: a crash or a timeout?)"}`);
  for (const line of bodyLines(letter.body, full)) lines.push(`  ${line}`);
  return lines;
}

/** The body pretty-printed, cut to BODY_LINES lines and BODY_CHARS characters unless `full`. */
export function bodyLines(body: unknown, full: boolean): string[] {
  const text = typeof body === "string" ? body : JSON.stringify(body, null, 2) ?? String(body);
  if (full) return text.split("\n");
  let lines = text.split("\n");
  let cut = false;
  if (lines.length > BODY_LINES) {
    lines = lines.slice(0, BODY_LINES);
    cut = true;
  }
  let chars = 0;
  const kept: string[] = [];
  for (const line of lines) {
    if (chars + line.length > BODY_CHARS) {
      kept.push(`${line.slice(0, Math.max(0, BODY_CHARS - chars))}…`);
      cut = true;
      break;
    }
    chars += line.length;
    kept.push(line);
  }
  if (cut) kept.push(`… (${text.length.toLocaleString("en")} characters in all: --full shows them)`);
  return kept;
}

function missingOf(ids: string[] | undefined, found: Set<string>): string[] {
  return ids ? ids.filter((id) => !found.has(id)) : [];
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}
