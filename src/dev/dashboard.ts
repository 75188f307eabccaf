import type { ServerResponse } from "node:http";
import type { DevLog, LogEntry } from "./output.ts";
import { dashboardPage } from "./dashboard-page.ts";

/** What twelve dev's dashboard shows of one process (also in GET /_twelve/status). */
export interface ProcessView {
  name: string;
  type: "web" | "worker" | "clock";
  state: "starting" | "up" | "crashed" | "unusable" | "stopped";
  up: boolean;
  restarts: number;
  /** When a crashed process starts again (ISO), else null. */
  restartAt: string | null;
  cap: number;
  /** How much of the cap is in use: web requests, worker batches, a clock's run; null when the engine cannot tell. */
  inUse: number | null;
  url?: string;
  queue?: { ready: number; delayed: number; inFlight: number; inFlightBatches: number; deadLetters: number; delivered: number };
  clock?: { schedule: string; timezone: string; words: string } & Record<string, unknown>;
}

export interface DevStatus {
  app: string;
  target: string;
  processes: ProcessView[];
}

/** One point of a worker's chart: the queue's depth and the messages it finished since the last point. */
interface Sample {
  t: number;
  depth: number;
  done: number;
}

const SAMPLE_MS = 1000;
/** Five minutes of points. */
const SAMPLES = 300;
/** Per process: the log lines a page opened now is shown. */
const LINES_KEPT = 200;
/** At most this many lines go to a page per push; a flood beyond it is counted, not sent. */
const LINES_PER_PUSH = 300;
const PUSH_MS = 250;

/**
 * twelve dev's dashboard at /_twelve on its server: the page (with this start's token in it),
 * and one server-sent event stream that pushes the formation's status each second and the log
 * as it comes. It samples queue depth and throughput all along, so a page opened later still
 * shows the last minutes, and does the costly part (a web process's load) only while a page
 * is open.
 */
export class Dashboard {
  readonly #status: () => Promise<DevStatus>;
  readonly #queues: () => { name: string; depth: number; delivered: number }[];
  readonly #token: string;
  readonly #clients = new Set<ServerResponse>();
  readonly #series = new Map<string, Sample[]>();
  readonly #delivered = new Map<string, number>();
  readonly #lines = new Map<string, LogEntry[]>();
  #pending: LogEntry[] = [];
  #dropped = 0;
  #seq = 0;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #untap: () => void;

  constructor(options: { status: () => Promise<DevStatus>; queues: () => { name: string; depth: number; delivered: number }[]; log: DevLog; token: string }) {
    this.#status = options.status;
    this.#queues = options.queues;
    this.#token = options.token;
    this.#untap = options.log.tap((entry) => this.#logged(entry));
    this.#sample();
    this.#timers.push(setInterval(() => this.#sample(), SAMPLE_MS).unref());
    this.#timers.push(setInterval(() => void this.#pushStatus(), SAMPLE_MS).unref());
    this.#timers.push(setInterval(() => this.#pushLines(), PUSH_MS).unref());
  }

  /** The page, with what it shows first in it: it renders before its event stream connects. */
  async page(): Promise<string> {
    return dashboardPage(this.#token, await this.#hello());
  }

  async #hello() {
    const lines = [...this.#lines.values()].flat().sort((a, b) => seqOf(a) - seqOf(b));
    return { status: await this.#status(), series: Object.fromEntries(this.#series), sampleMs: SAMPLE_MS, lines };
  }

  /** A page's event stream: everything it needs first (`hello`), then `status` and `log` events. */
  async subscribe(res: ServerResponse): Promise<void> {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    res.write(event("hello", await this.#hello()));
    this.#clients.add(res);
    res.once("close", () => this.#clients.delete(res));
  }

  close(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#untap();
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }

  #logged(entry: LogEntry): void {
    (entry as Numbered).seq = ++this.#seq;
    const key = entry.process ?? "";
    let kept = this.#lines.get(key);
    if (!kept) this.#lines.set(key, (kept = []));
    kept.push(entry);
    if (kept.length > LINES_KEPT) kept.splice(0, kept.length - LINES_KEPT);
    if (!this.#clients.size) return;
    this.#pending.push(entry);
    if (this.#pending.length > LINES_PER_PUSH) this.#dropped += this.#pending.splice(0, this.#pending.length - LINES_PER_PUSH).length;
  }

  #pushLines(): void {
    if (!this.#pending.length || !this.#clients.size) return;
    const data = event("log", { lines: this.#pending, dropped: this.#dropped });
    this.#pending = [];
    this.#dropped = 0;
    for (const res of this.#clients) res.write(data);
  }

  #sample(): void {
    const t = Date.now();
    for (const q of this.#queues()) {
      const before = this.#delivered.get(q.name);
      this.#delivered.set(q.name, q.delivered);
      let series = this.#series.get(q.name);
      if (!series) this.#series.set(q.name, (series = []));
      // A restarted broker counts from 0 again: no negative throughput.
      series.push({ t, depth: q.depth, done: before === undefined ? 0 : Math.max(0, q.delivered - before) });
      if (series.length > SAMPLES) series.splice(0, series.length - SAMPLES);
    }
  }

  async #pushStatus(): Promise<void> {
    if (!this.#clients.size) return;
    const status = await this.#status();
    const samples = Object.fromEntries([...this.#series].map(([name, s]) => [name, s.at(-1)]));
    const data = event("status", { status, samples });
    for (const res of this.#clients) res.write(data);
  }
}

type Numbered = LogEntry & { seq?: number };
const seqOf = (entry: LogEntry) => (entry as Numbered).seq ?? 0;

function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
