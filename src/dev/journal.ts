import fs from "node:fs";

/**
 * The on-disk side of the dev broker: append-only JSON-lines files written in groups, and
 * the replay that rebuilds a queue from its journal.
 *
 * Journal records, one JSON object a line (`dir/queues/<queue>.jsonl`):
 *   {"op":"put","id","sentAt","availableAt","attempts","body"}  a message exists (a compacted
 *                                                                journal is only these)
 *   {"op":"out","id","attempts"}                 handed to the worker; attempts counts this delivery
 *   {"op":"retry","id","availableAt","attempts"} back in the queue after a failed delivery
 *   {"op":"release","id","availableAt","attempts"} back in the queue because the broker closed
 *                                                mid-delivery (that delivery does not count)
 *   {"op":"ack","id"}                            done
 *   {"op":"dead","id"}                           moved to dir/dead-letter/<queue>.jsonl
 * A message whose last record is "out" was in flight when the process died: it is ready again.
 */

/** A message's durable state: what a "put" record holds. */
export interface StoredMessage {
  id: string;
  /** The body as JSON text: written as is, parsed afresh for each delivery. */
  bodyJson: string;
  sentAt: number;
  availableAt: number;
  /** Deliveries so far (0 until first handed out). */
  attempts: number;
}

export interface DeadLetterEntry {
  id: string;
  body: unknown;
  attempts: number;
  sentAt: number;
  reason: string;
  diedAt: number;
}

export const putRecord = (m: StoredMessage): string =>
  `{"op":"put","id":${JSON.stringify(m.id)},"sentAt":${m.sentAt},"availableAt":${m.availableAt},"attempts":${m.attempts},"body":${m.bodyJson}}\n`;
export const outRecord = (id: string, attempts: number): string => `{"op":"out","id":${JSON.stringify(id)},"attempts":${attempts}}\n`;
export const ackRecord = (id: string): string => `{"op":"ack","id":${JSON.stringify(id)}}\n`;
export const deadRecord = (id: string): string => `{"op":"dead","id":${JSON.stringify(id)}}\n`;
export const retryRecord = (op: "retry" | "release", id: string, availableAt: number, attempts: number): string =>
  `{"op":"${op}","id":${JSON.stringify(id)},"availableAt":${availableAt},"attempts":${attempts}}\n`;
export const deadLetterLine = (m: StoredMessage, reason: string, diedAt: number): string =>
  `{"id":${JSON.stringify(m.id)},"body":${m.bodyJson},"attempts":${m.attempts},"sentAt":${m.sentAt},"reason":${JSON.stringify(reason)},"diedAt":${diedAt}}\n`;

/**
 * An append-only file whose records are buffered and written with one write per flush, so
 * the many records of one event-loop turn cost one system call. A written record survives
 * the process being killed (it is in the OS's page cache); nothing here fsyncs, because the
 * dev broker only promises to survive its own process dying, not the machine.
 *
 * A flush is all or nothing: when the disk refuses a write (full?), the file is cut back to
 * where it was, so a part-written record can neither come back on replay nor swallow the next
 * record appended after it.
 */
export class AppendLog {
  readonly file: string;
  /** Records in the file (or buffered for it) since it was last rewritten: compaction's measure. */
  records = 0;
  #fd: number | undefined;
  #buffer = "";
  /** Bytes of the file that hold whole records written by this log: where a failed write is cut back to. */
  #size = 0;
  /** A failed write could not be cut back yet: cut before writing again. */
  #torn = false;

  constructor(file: string, records = 0) {
    this.file = file;
    this.records = records;
  }

  append(line: string): void {
    this.#buffer += line;
    this.records++;
  }

  /**
   * Writes the buffered records, then `tentative` ones, in one write. If it fails, it throws,
   * the buffered records stay for the next flush, and the tentative ones are forgotten: they
   * are for records whose caller can still take back what they stand for.
   */
  flush(tentative: readonly string[] = []): void {
    if (this.#buffer === "" && tentative.length === 0) return;
    const data = Buffer.from(this.#buffer + tentative.join(""));
    const fd = (this.#fd ??= this.#open());
    try {
      if (this.#torn) this.#cutBack(fd);
      // writeSync may write less than asked for; a short write left alone would tear a record.
      for (let at = 0; at < data.length; ) at += fs.writeSync(fd, data, at);
    } catch (error) {
      this.#torn = true;
      try {
        this.#cutBack(fd);
      } catch {
        // Still torn: the next flush cuts it first, or fails.
      }
      throw error;
    }
    this.#size += data.length;
    this.#buffer = "";
    this.records += tentative.length;
  }

  #open(): number {
    const fd = fs.openSync(this.file, "a");
    try {
      this.#size = fs.fstatSync(fd).size;
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    return fd;
  }

  #cutBack(fd: number): void {
    fs.ftruncateSync(fd, this.#size);
    this.#torn = false;
  }

  /**
   * Replaces the whole file with `lines`, atomically (temp file + rename): a crash leaves
   * either the old file or the new one, and so does a failure, which throws. Buffered records
   * are dropped, as the caller's `lines` describe the state they led to.
   */
  rewrite(lines: Iterable<string>, count: number): void {
    let text = "";
    for (const line of lines) text += line;
    const temp = `${this.file}.tmp`;
    try {
      fs.writeFileSync(temp, text);
    } catch (error) {
      fs.rmSync(temp, { force: true });
      throw error;
    }
    this.close();
    fs.renameSync(temp, this.file);
    this.#buffer = "";
    this.#torn = false;
    this.records = count;
  }

  close(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** The parsed lines of a JSON-lines file; a line that does not parse (a torn last write) is skipped. */
function* readRecords(file: string): Generator<Record<string, unknown>> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    if (record !== null && typeof record === "object" && typeof (record as { id?: unknown }).id === "string") {
      yield record as Record<string, unknown>;
    }
  }
}

const isNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

/**
 * Rebuilds a queue's live messages from its journal, in send order. `dead` holds the ids
 * already in the dead-letter file: a crash between writing the dead letter and its "dead"
 * record would otherwise bring the message back to life.
 */
export function replayJournal(file: string, dead: ReadonlySet<string>): { messages: StoredMessage[]; records: number } {
  const live = new Map<string, StoredMessage>();
  let records = 0;
  for (const r of readRecords(file)) {
    records++;
    const id = r.id as string;
    if (r.op === "put") {
      if (!isNumber(r.sentAt) || !isNumber(r.availableAt) || !isNumber(r.attempts)) continue;
      live.set(id, { id, bodyJson: JSON.stringify(r.body ?? null), sentAt: r.sentAt, availableAt: r.availableAt, attempts: r.attempts });
      continue;
    }
    const m = live.get(id);
    if (m === undefined) continue;
    if (r.op === "out" && isNumber(r.attempts)) m.attempts = r.attempts;
    else if ((r.op === "retry" || r.op === "release") && isNumber(r.availableAt) && isNumber(r.attempts)) {
      m.availableAt = r.availableAt;
      m.attempts = r.attempts;
    } else if (r.op === "ack" || r.op === "dead") live.delete(id);
  }
  return { messages: [...live.values()].filter((m) => !dead.has(m.id)), records };
}

/**
 * Reads a dead-letter file, first cutting off a torn last line: the next append would
 * otherwise be glued to it and both records lost. The message of a torn dead letter is not
 * lost: its "dead" journal record is written only after the dead letter.
 */
export function loadDeadLetters(file: string): DeadLetterEntry[] {
  try {
    const text = fs.readFileSync(file, "utf8");
    if (text !== "" && !text.endsWith("\n")) fs.truncateSync(file, Buffer.byteLength(text.slice(0, text.lastIndexOf("\n") + 1)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const entries: DeadLetterEntry[] = [];
  for (const r of readRecords(file)) {
    entries.push({
      id: r.id as string,
      body: r.body,
      attempts: isNumber(r.attempts) ? r.attempts : 0,
      sentAt: isNumber(r.sentAt) ? r.sentAt : 0,
      reason: typeof r.reason === "string" ? r.reason : "",
      diedAt: isNumber(r.diedAt) ? r.diedAt : 0,
    });
  }
  return entries;
}
