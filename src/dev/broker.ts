import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { usageError } from "../errors.ts";
import {
  AppendLog,
  ackRecord,
  deadEntryLine,
  deadLetterLine,
  deadRecord,
  loadDeadLetters,
  outRecord,
  putRecord,
  replayJournal,
  retryRecord,
  setAside,
  type DeadLetterEntry,
  type StoredMessage,
} from "./journal.ts";
import { DelayHeap, Fifo } from "./queues.ts";
import { systemClock, type Clock } from "./time.ts";

/**
 * The queue broker of `twelve dev`: durable on disk (see journal.ts for the format),
 * at-least-once, with Cloudflare Queues' batching, concurrency, retry and dead-letter rules.
 *
 * All work happens in one "pump" per event-loop turn (setImmediate): it hands out batches,
 * writes every record of the turn with one write per file, resolves the send() promises whose
 * messages are now on disk, and only then calls the workers. So a message is on disk before
 * anyone sees it, and many sends cost one write.
 *
 * When the disk refuses a queue's write (full?), the turn is taken back where nobody has seen
 * it yet: its sends fail and their messages are forgotten, its batches are not handed out (the
 * messages are ready again, this delivery not counted). What was seen already (acks, retries,
 * dead letters) stays buffered for the next write, which comes within WRITE_RETRY_MS even if
 * nothing else happens. So memory holds what the journal holds, or will once it can be written.
 */

export interface BrokerMessage {
  id: string;
  body: unknown;
  /** How many deliveries this one will have been: 1 on first delivery. */
  attempts: number;
  sentAt: number;
}

export interface QueueSpec {
  name: string;
  batchSize: number;
  concurrency: number;
  maxRetries: number;
}

/**
 * `reason`: why the worker retried it, when its engine can tell (the error the handler threw),
 * for the retry line and the dead letter's error. "dead": the worker refused the message for
 * good (a schema said no): dead-lettered now, never retried.
 */
export type Outcome =
  | { id: string; action: "ack" }
  | { id: string; action: "retry"; delaySeconds?: number; reason?: string }
  | { id: string; action: "dead"; reason: string };

/** Hands a batch to the worker; resolves with one outcome per message. Rejecting means the worker crashed or timed out: every message of the batch is retried (its attempt counts). */
export type Deliver = (queue: string, batch: BrokerMessage[]) => Promise<Outcome[]>;

/**
 * What a Deliver throws for a batch the worker never got to handle: its process was not
 * running, or twelve stopped it for something else (another batch's timeout, a reload). The
 * batch goes back to the queue with no attempt charged: only what the worker did counts.
 */
export class NotDelivered extends Error {
  override readonly name = "NotDelivered";
}

export interface BrokerOptions {
  /** Where the time and the timers come from: the real ones, unless a test brings a fake. */
  clock?: Clock;
}

export interface BrokerEvents {
  /** A delivery failed; `reason` says why ("jobs ran past its 3 s timeout and was killed", "retried by the worker"). */
  retry?(queue: string, message: BrokerMessage, delaySeconds: number, reason: string): void;
  deadLetter?(queue: string, message: BrokerMessage, reason: string): void;
  /** When a batch is handed over. */
  delivered?(queue: string, batch: BrokerMessage[]): void;
  /** A batch the worker never handled, back in the queue with no attempt charged (NotDelivered). */
  released?(queue: string, batch: BrokerMessage[], why: string): void;
  /** On open: `lines` lines of `from` (a journal or dead-letter file) could not be read and were moved to `to`. */
  unreadable?(queue: string, lines: number, from: string, to: string): void;
}

export interface QueueStats {
  ready: number;
  delayed: number;
  inFlight: number;
  inFlightBatches: number;
  deadLetters: number;
  /** Messages handed to the worker since the broker opened, redeliveries included. */
  delivered: number;
  /** The most batches ever in flight at once since the broker opened. */
  maxInFlightBatches: number;
}

/** Compaction waits for this many records, so a near-empty queue is not rewritten every turn. */
const COMPACT_MIN_RECORDS = 10_000;
/** ...and for the journal to be this many times longer than a compacted one would be. */
const COMPACT_RATIO = 4;
/** setTimeout's longest delay; a later message just re-arms the timer when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How soon a pump tries again after the disk refused a write, when nothing else brings one. */
const WRITE_RETRY_MS = 1000;
/** Queue names become file names: no separators, no leading dot. */
const QUEUE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

interface Live extends StoredMessage {
  /** Send order, the tie-break between messages that became available at the same time. */
  seq: number;
  state: "ready" | "delayed" | "inFlight" | "done";
}

interface Batch {
  queue: Queue;
  messages: Live[];
  handed: BrokerMessage[];
  deliver: Deliver;
}

/** A send() whose "put" record waits for the pump to write it. */
interface PendingSend {
  message: Live;
  resolve: () => void;
  reject: (error: unknown) => void;
}

class Queue {
  readonly name: string;
  /** The settings of the last configure() that listed this queue; kept when it is dropped, for the batches still out. */
  spec: QueueSpec | undefined;
  configured = false;
  /** Every message not yet acknowledged or dead, in send order: what a compacted journal holds. */
  readonly live = new Map<string, Live>();
  readonly ready = new Fifo<Live>();
  readonly delayed = new DelayHeap<Live>();
  /** This turn's sends, in order. */
  readonly sends: PendingSend[] = [];
  timer: unknown;
  timerAt = 0;
  inFlight = 0;
  inFlightBatches = 0;
  maxInFlightBatches = 0;
  delivered = 0;
  readonly journal: AppendLog;
  readonly deadLog: AppendLog;
  readonly dead: DeadLetterEntry[];

  constructor(name: string, dir: string, dead: DeadLetterEntry[]) {
    this.name = name;
    this.journal = new AppendLog(path.join(dir, "queues", `${name}.jsonl`));
    this.deadLog = new AppendLog(path.join(dir, "dead-letter", `${name}.jsonl`));
    this.dead = dead;
  }
}

const toMessage = (m: Live): BrokerMessage => ({ id: m.id, body: JSON.parse(m.bodyJson), attempts: m.attempts, sentAt: m.sentAt });

export class Broker {
  readonly #dir: string;
  readonly #events: BrokerEvents;
  readonly #clock: Clock;
  readonly #queues = new Map<string, Queue>();
  /** Names from the last configure(); undefined before the first, when any queue name is accepted. */
  #configured: string[] | undefined;
  #deliver: Deliver | undefined;
  #paused = false;
  #closed = false;
  #seq = 0;
  #pumpScheduled = false;
  /** The timer of the pump after a refused write (see WRITE_RETRY_MS). */
  #writeRetry: unknown;
  readonly #batches = new Set<Batch>();
  #drainWaiters: (() => void)[] = [];

  private constructor(dir: string, events: BrokerEvents, clock: Clock) {
    this.#dir = dir;
    this.#events = events;
    this.#clock = clock;
  }

  /** Opens (creating) the broker's folder and replays what is on disk. */
  static async open(dir: string, events: BrokerEvents = {}, options: BrokerOptions = {}): Promise<Broker> {
    fs.mkdirSync(path.join(dir, "queues"), { recursive: true });
    fs.mkdirSync(path.join(dir, "dead-letter"), { recursive: true });
    const broker = new Broker(dir, events, options.clock ?? systemClock);
    const names = new Set<string>();
    for (const sub of ["queues", "dead-letter"]) {
      for (const file of fs.readdirSync(path.join(dir, sub))) {
        const name = file.endsWith(".jsonl") ? file.slice(0, -".jsonl".length) : "";
        if (QUEUE_NAME.test(name)) names.add(name);
      }
    }
    for (const name of names) broker.#replay(name);
    return broker;
  }

  #replay(name: string): void {
    const q = this.#queue(name);
    const { messages, unreadable } = replayJournal(q.journal.file, new Set(q.dead.map((d) => d.id)));
    // Set aside before the compaction below rewrites the journal without them.
    if (unreadable.length > 0) this.#setAside(name, q.journal.file, unreadable);
    const now = this.#clock.now();
    const ready: Live[] = [];
    for (const stored of messages) {
      const m: Live = { ...stored, seq: this.#seq++, state: "ready" };
      q.live.set(m.id, m);
      if (m.availableAt > now) this.#delay(q, m);
      else ready.push(m);
    }
    // In-flight messages at the crash are simply ready again, in the order they became available.
    ready.sort((a, b) => a.availableAt - b.availableAt || a.seq - b.seq);
    for (const m of ready) q.ready.push(m);
    this.#arm(q);
    // Compacting on open also drops a torn last line, which later appends would glue onto.
    if (fs.existsSync(q.journal.file)) this.#compact(q);
  }

  /** Moves unreadable lines of a queue's file to dir/unreadable/, and says so (see journal.ts). */
  #setAside(queue: string, from: string, lines: string[], what: "" | "-dead-letter" = ""): void {
    const stamp = new Date(this.#clock.now()).toISOString().replace(/[:.]/g, "-");
    const to = path.join(this.#dir, "unreadable", `${queue}${what}-${stamp}.jsonl`);
    setAside(to, lines);
    this.#emit(() => this.#events.unreadable?.(queue, lines.length, from, to));
  }

  #queue(name: string): Queue {
    let q = this.#queues.get(name);
    if (q === undefined) {
      const deadFile = path.join(this.#dir, "dead-letter", `${name}.jsonl`);
      q = new Queue(name, this.#dir, loadDeadLetters(deadFile, (lines) => this.#setAside(name, deadFile, lines, "-dead-letter")));
      this.#queues.set(name, q);
    }
    return q;
  }

  /**
   * Sets the queues to deliver and the function that delivers. Called again on reload: new
   * settings apply to the next batches (batches out keep going), queues no longer listed keep
   * their messages on disk undelivered. Does not undo pause().
   */
  configure(queues: QueueSpec[], deliver: Deliver): void {
    if (this.#closed) throw new Error("the queue broker is closed");
    const names = new Set<string>();
    for (const spec of queues) {
      if (!QUEUE_NAME.test(spec.name)) throw usageError(`invalid queue name ${JSON.stringify(spec.name)}: use letters, digits, "-", "_" and "."`);
      if (names.has(spec.name)) throw usageError(`queue ${spec.name} is listed twice`);
      for (const key of ["batchSize", "concurrency"] as const) {
        if (!Number.isInteger(spec[key]) || spec[key] < 1) throw usageError(`queue ${spec.name}: ${key} must be a whole number of at least 1, not ${spec[key]}`);
      }
      if (!Number.isInteger(spec.maxRetries) || spec.maxRetries < 0) throw usageError(`queue ${spec.name}: maxRetries must be a whole number of at least 0, not ${spec.maxRetries}`);
      names.add(spec.name);
    }
    for (const q of this.#queues.values()) q.configured = false;
    for (const spec of queues) {
      const q = this.#queue(spec.name);
      q.spec = { ...spec };
      q.configured = true;
    }
    this.#configured = [...names];
    this.#deliver = deliver;
    this.#schedule();
  }

  /** Resolves once the message is on disk. */
  send(queue: string, body: unknown, options: { delaySeconds?: number } = {}): Promise<{ id: string }> {
    try {
      if (this.#closed) throw new Error(`the queue broker is closed: cannot send to ${queue}`);
      const q = this.#queueForSend(queue);
      const bodyJson = serializeBody(queue, body);
      const delaySeconds = options.delaySeconds ?? 0;
      if (typeof delaySeconds !== "number" || !Number.isFinite(delaySeconds) || delaySeconds < 0) {
        throw usageError(`send to ${queue}: delaySeconds must be a number of seconds, 0 or more, not ${String(delaySeconds)}`);
      }
      const now = this.#clock.now();
      const m: Live = { id: randomUUID(), bodyJson, sentAt: now, availableAt: now + delaySeconds * 1000, attempts: 0, seq: this.#seq++, state: "ready" };
      q.live.set(m.id, m);
      if (delaySeconds > 0) {
        this.#delay(q, m);
        this.#arm(q);
      } else {
        this.#promoteDue(q, now);
        q.ready.push(m);
      }
      const id = m.id;
      return new Promise((resolve, reject) => {
        q.sends.push({ message: m, resolve: () => resolve({ id }), reject });
        this.#schedule();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #queueForSend(name: string): Queue {
    // Before the first configure() (workers not started yet) any name is accepted: its
    // messages wait on disk. After it, only the configured queues, so a typo fails loudly.
    if (this.#configured !== undefined && !this.#configured.includes(name)) {
      throw usageError(`no worker queue named ${name}; queues: ${this.#configured.join(", ") || "(none)"}`);
    }
    if (!QUEUE_NAME.test(name)) throw usageError(`invalid queue name ${JSON.stringify(name)}: use letters, digits, "-", "_" and "."`);
    return this.#queue(name);
  }

  stats(queue: string): QueueStats {
    const q = this.#queues.get(queue);
    if (q === undefined) return { ready: 0, delayed: 0, inFlight: 0, inFlightBatches: 0, deadLetters: 0, delivered: 0, maxInFlightBatches: 0 };
    return {
      ready: q.ready.length,
      delayed: q.delayed.length,
      inFlight: q.inFlight,
      inFlightBatches: q.inFlightBatches,
      deadLetters: q.dead.length,
      delivered: q.delivered,
      maxInFlightBatches: q.maxInFlightBatches,
    };
  }

  /** A queue's dead letters, oldest death first: `limit` of them from `offset` (all by default). */
  deadLetters(queue: string, offset = 0, limit = Number.POSITIVE_INFINITY): DeadLetterEntry[] {
    const dead = this.#queues.get(queue)?.dead ?? [];
    return dead.slice(offset, offset + limit).map((d) => ({ ...d }));
  }

  /**
   * Sends dead letters back to their queue (all, or those of `ids`): each as a new message
   * (a new id, sent now, no attempts yet) with its body unchanged. The new messages are on
   * disk in the journal before the dead-letter file is rewritten without the old ones, so a
   * crash or a refused write in between leaves a message twice (dead and queued), never
   * nowhere. `redriven` pairs each dead letter's id with its new one.
   */
  redrive(queue: string, ids?: readonly string[]): { redriven: { from: string; to: string }[]; missing: string[] } {
    if (this.#closed) throw new Error(`the queue broker is closed: cannot redrive ${queue}`);
    const q = this.#queues.get(queue);
    const { chosen, missing } = pick(q?.dead ?? [], ids);
    if (q === undefined || chosen.length === 0) return { redriven: [], missing };
    const now = this.#clock.now();
    const fresh = chosen.map((d): Live => ({ id: randomUUID(), bodyJson: JSON.stringify(d.body ?? null), sentAt: now, availableAt: now, attempts: 0, seq: this.#seq++, state: "ready" }));
    // What this turn buffered goes first, so the journal stays in order; then the new puts, at once.
    q.journal.flush(fresh.map(putRecord));
    this.#promoteDue(q, now);
    for (const m of fresh) {
      q.live.set(m.id, m);
      q.ready.push(m);
    }
    this.#removeDead(q, new Set(chosen));
    this.#schedule();
    return { redriven: chosen.map((d, i) => ({ from: d.id, to: (fresh[i] as Live).id })), missing };
  }

  /** Deletes dead letters for good: all, or those of `ids`. */
  purge(queue: string, ids?: readonly string[]): { purged: number; missing: string[] } {
    if (this.#closed) throw new Error(`the queue broker is closed: cannot purge ${queue}`);
    const q = this.#queues.get(queue);
    const { chosen, missing } = pick(q?.dead ?? [], ids);
    if (q === undefined || chosen.length === 0) return { purged: 0, missing };
    this.#removeDead(q, new Set(chosen));
    return { purged: chosen.length, missing };
  }

  /** Rewrites a queue's dead-letter file without `gone`; only once that is on disk does memory follow. */
  #removeDead(q: Queue, gone: ReadonlySet<DeadLetterEntry>): void {
    const kept = q.dead.filter((d) => !gone.has(d));
    // The buffered dead letters are in q.dead too: the rewrite writes them, ahead of their
    // "dead" journal records, as the order in #write wants.
    q.deadLog.rewrite(kept.map(deadEntryLine), kept.length);
    q.dead.length = 0;
    for (const d of kept) q.dead.push(d);
  }

  /** Stops handing out new batches; the ones out continue. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (this.#closed) return;
    this.#paused = false;
    this.#schedule();
  }

  /** Pauses, then waits until no batch is out or the timeout passes; true if drained. Stays paused. */
  drain(timeoutMs: number): Promise<boolean> {
    this.pause();
    if (this.#batches.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        this.#clock.clearTimeout(timer);
        resolve(this.#batches.size === 0);
      };
      const timer = this.#clock.setTimeout(() => {
        this.#drainWaiters = this.#drainWaiters.filter((w) => w !== done);
        resolve(this.#batches.size === 0);
      }, timeoutMs);
      this.#drainWaiters.push(done);
    });
  }

  /** Pauses, writes what is buffered and closes the files. Messages out stay on disk, undelivered. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#paused = true;
    this.#closed = true;
    this.#clock.clearTimeout(this.#writeRetry);
    for (const q of this.#queues.values()) this.#clock.clearTimeout(q.timer);
    // The broker, not the worker, cut these deliveries short: they do not count as attempts.
    for (const batch of this.#batches) {
      for (const m of batch.messages) {
        if (m.state === "inFlight") batch.queue.journal.append(retryRecord("release", m.id, m.availableAt, m.attempts - 1));
      }
    }
    // Every queue gets its write, and its senders their answer; the first refusal is thrown.
    const failures: unknown[] = [];
    for (const q of this.#queues.values()) {
      try {
        this.#write(q, []);
      } catch (error) {
        failures.push(error);
      }
    }
    try {
      for (const q of this.#queues.values()) {
        q.journal.close();
        q.deadLog.close();
      }
    } finally {
      for (const wake of this.#drainWaiters.splice(0)) wake();
    }
    if (failures.length > 0) throw failures[0];
  }

  #schedule(): void {
    if (this.#pumpScheduled || this.#closed) return;
    this.#pumpScheduled = true;
    setImmediate(() => this.#pump());
  }

  /** One turn's work; see the comment at the top of the file for why in this order. */
  #pump(): void {
    this.#pumpScheduled = false;
    if (this.#closed) return;
    const batches: Batch[] = [];
    for (const q of this.#queues.values()) {
      const handed = this.#dispatch(q);
      try {
        this.#write(q, handed);
      } catch {
        // The disk refused: #write took the turn back and told the senders.
        this.#writeLater();
        continue;
      }
      batches.push(...handed);
      this.#compactIfLong(q);
    }
    for (const batch of batches) this.#run(batch);
  }

  /**
   * Writes the queue's records of this turn: the buffered ones, then its sends' "put"s and its
   * batches' "out"s, and resolves the sends. If the disk refuses, takes the turn back (see the
   * top of the file), rejects the sends, and throws.
   */
  #write(q: Queue, batches: readonly Batch[]): void {
    const sends = q.sends.splice(0);
    const tentative = sends.map((send) => putRecord(send.message));
    for (const batch of batches) for (const m of batch.messages) tentative.push(outRecord(m.id, m.attempts));
    try {
      // Dead letters before the journal: a crash in between leaves the message both dead and
      // live, and replay drops the live copy; the other order could lose it.
      q.deadLog.flush();
      q.journal.flush(tentative);
    } catch (error) {
      this.#takeBack(q, sends, batches);
      for (const send of sends) send.reject(error);
      throw error;
    }
    for (const send of sends) send.resolve();
  }

  /**
   * After a turn's records did not reach the disk, undoes what nobody has seen yet: its sends
   * (their messages forgotten) and its batches (their messages ready again, at the front, this
   * delivery not counted). What was seen (acks, retries, dead letters) stays buffered.
   */
  #takeBack(q: Queue, sends: readonly PendingSend[], batches: readonly Batch[]): void {
    if (sends.length === 0 && batches.length === 0) return;
    const unsent = new Set(sends.map((send) => send.message));
    const front: Live[] = [];
    for (const batch of batches) {
      q.inFlightBatches--;
      q.inFlight -= batch.messages.length;
      for (const m of batch.messages) {
        m.attempts--;
        m.state = "ready";
        front.push(m);
      }
    }
    for (const m of unsent) {
      m.state = "done";
      q.live.delete(m.id);
    }
    const kept = (m: Live) => !unsent.has(m);
    q.ready.restore(front, kept);
    if (unsent.size > 0) {
      q.delayed.filter(kept);
      this.#arm(q);
    }
  }

  /** After a refused write: a pump within WRITE_RETRY_MS writes what waits and hands out what was held back. */
  #writeLater(): void {
    if (this.#writeRetry !== undefined || this.#closed) return;
    this.#writeRetry = this.#clock.setTimeout(() => {
      this.#writeRetry = undefined;
      this.#schedule();
    }, WRITE_RETRY_MS);
  }

  #compactIfLong(q: Queue): void {
    if (q.journal.records <= COMPACT_MIN_RECORDS || q.journal.records <= COMPACT_RATIO * q.live.size) return;
    // A send still waiting for its turn would reach the disk in the rewrite, even if its turn then failed.
    if (q.sends.length > 0) return;
    try {
      this.#compact(q);
    } catch {
      // The journal as it is still holds everything; a later turn tries again.
    }
  }

  #compact(q: Queue): void {
    q.journal.rewrite(
      (function* () {
        for (const m of q.live.values()) yield putRecord(m);
      })(),
      q.live.size,
    );
  }

  /** Takes this turn's batches off the queue; their "out" records are written with the turn. */
  #dispatch(q: Queue): Batch[] {
    const out: Batch[] = [];
    const spec = q.spec;
    const deliver = this.#deliver;
    if (this.#paused || !q.configured || spec === undefined || deliver === undefined) return out;
    while (q.inFlightBatches < spec.concurrency && q.ready.length > 0) {
      const messages: Live[] = [];
      while (messages.length < spec.batchSize && q.ready.length > 0) {
        const m = q.ready.shift()!;
        // Only a crash mid-delivery (its attempt counted, see journal.ts) or a lower maxRetries
        // after a reload gets a message here with its deliveries used up.
        if (m.attempts > spec.maxRetries) {
          this.#deadLetter(q, m, `delivered ${m.attempts} times, the last one cut short (maxRetries ${spec.maxRetries})`);
          continue;
        }
        m.attempts++;
        m.state = "inFlight";
        messages.push(m);
      }
      if (messages.length === 0) break;
      q.inFlight += messages.length;
      q.inFlightBatches++;
      out.push({ queue: q, messages, handed: messages.map(toMessage), deliver });
    }
    return out;
  }

  #run(batch: Batch): void {
    this.#batches.add(batch);
    const q = batch.queue;
    q.delivered += batch.messages.length;
    q.maxInFlightBatches = Math.max(q.maxInFlightBatches, q.inFlightBatches);
    const name = q.name;
    this.#emit(() => this.#events.delivered?.(name, batch.handed));
    let result: Promise<Outcome[]>;
    try {
      result = Promise.resolve(batch.deliver(name, batch.handed));
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (outcomes) => this.#settle(batch, outcomes, undefined),
      (error: unknown) => this.#settle(batch, undefined, error),
    );
  }

  #settle(batch: Batch, outcomes: Outcome[] | undefined, error: unknown): void {
    // After close() the journal is shut: these messages are redelivered on the next open.
    if (this.#closed) return;
    this.#batches.delete(batch);
    const q = batch.queue;
    q.inFlightBatches--;
    q.inFlight -= batch.messages.length;
    const byId = new Map<string, Outcome>();
    if (Array.isArray(outcomes)) for (const o of outcomes) if (o !== null && typeof o === "object") byId.set(o.id, o);
    const maxRetries = q.spec?.maxRetries ?? 0;
    const now = this.#clock.now();
    if (error instanceof NotDelivered) {
      for (const m of batch.messages) {
        if (m.state !== "inFlight") continue;
        m.attempts--;
        q.journal.append(retryRecord("release", m.id, m.availableAt, m.attempts));
        m.state = "ready";
        q.ready.push(m);
      }
      this.#emit(() => this.#events.released?.(q.name, batch.handed, error.message));
      return this.#afterSettle(q);
    }
    for (const m of batch.messages) {
      if (m.state !== "inFlight") continue;
      const outcome = byId.get(m.id);
      if (outcome?.action === "ack") {
        m.state = "done";
        q.live.delete(m.id);
        q.journal.append(ackRecord(m.id));
        continue;
      }
      if (outcome?.action === "dead") {
        this.#deadLetter(q, m, `${outcome.reason}; refused for good on delivery ${m.attempts}, not retried`, outcome.reason);
        continue;
      }
      const why =
        error !== undefined
          ? ((error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "")
          : outcome === undefined
            ? "the worker reported no outcome"
            : (outcome.action === "retry" && outcome.reason) || "retried by the worker";
      if (m.attempts > maxRetries) {
        this.#deadLetter(q, m, `${why}; delivered ${m.attempts} times (maxRetries ${maxRetries})`, why);
        continue;
      }
      const asked = outcome?.action === "retry" ? outcome.delaySeconds : undefined;
      const delaySeconds = typeof asked === "number" && Number.isFinite(asked) && asked > 0 ? asked : 0;
      m.availableAt = now + delaySeconds * 1000;
      q.journal.append(retryRecord("retry", m.id, m.availableAt, m.attempts));
      if (delaySeconds > 0) this.#delay(q, m);
      else {
        this.#promoteDue(q, now);
        m.state = "ready";
        q.ready.push(m);
      }
      this.#emit(() => this.#events.retry?.(q.name, toMessage(m), delaySeconds, why));
    }
    this.#afterSettle(q);
  }

  #afterSettle(q: Queue): void {
    this.#arm(q);
    if (this.#batches.size === 0) for (const wake of this.#drainWaiters.splice(0)) wake();
    this.#schedule();
  }

  #deadLetter(q: Queue, m: Live, reason: string, error?: string): void {
    const diedAt = this.#clock.now();
    m.state = "done";
    q.live.delete(m.id);
    q.deadLog.append(deadLetterLine(m, reason, diedAt, error));
    q.journal.append(deadRecord(m.id));
    const message = toMessage(m);
    q.dead.push({ ...message, reason, diedAt, ...(error === undefined ? {} : { error }) });
    this.#emit(() => this.#events.deadLetter?.(q.name, message, reason));
    this.#schedule();
  }

  #delay(q: Queue, m: Live): void {
    m.state = "delayed";
    q.delayed.push(m);
  }

  /**
   * Moves the delayed messages that are due to the ready queue. Called before anything else
   * joins it too, not just when the timer fires (a little late), so the ready queue stays in
   * order of when messages became available.
   */
  #promoteDue(q: Queue, now: number): void {
    for (let next = q.delayed.peek(); next !== undefined && next.availableAt <= now; next = q.delayed.peek()) {
      q.delayed.pop();
      next.state = "ready";
      q.ready.push(next);
    }
  }

  /** Keeps one timer per queue, set for its earliest delayed message. */
  #arm(q: Queue): void {
    const next = q.delayed.peek();
    if (next === undefined || this.#closed) {
      this.#clock.clearTimeout(q.timer);
      q.timer = undefined;
      return;
    }
    if (q.timer !== undefined && q.timerAt === next.availableAt) return;
    this.#clock.clearTimeout(q.timer);
    q.timerAt = next.availableAt;
    q.timer = this.#clock.setTimeout(() => {
      q.timer = undefined;
      this.#promoteDue(q, this.#clock.now());
      this.#arm(q);
      this.#schedule();
    }, Math.min(MAX_TIMER_MS, Math.max(0, next.availableAt - this.#clock.now())));
  }

  /** Runs an event handler; its exception surfaces as uncaught instead of breaking a step half-way. */
  #emit(call: () => void): void {
    try {
      call();
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

/** The dead letters `ids` names (all when undefined), and the ids that name none. */
function pick(dead: readonly DeadLetterEntry[], ids: readonly string[] | undefined): { chosen: DeadLetterEntry[]; missing: string[] } {
  if (ids === undefined) return { chosen: [...dead], missing: [] };
  const wanted = new Set(ids);
  const chosen = dead.filter((d) => wanted.has(d.id));
  const found = new Set(chosen.map((d) => d.id));
  return { chosen, missing: [...wanted].filter((id) => !found.has(id)) };
}

function serializeBody(queue: string, body: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(body);
  } catch (error) {
    throw usageError(`cannot send to ${queue}: the message body cannot be turned into JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (json === undefined) throw usageError(`cannot send to ${queue}: the message body is ${typeof body}, which JSON cannot hold`);
  return json;
}
