import fs from "node:fs";
import path from "node:path";

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
 * A line that cannot be read is never just skipped: the broker moves it to
 * dir/unreadable/<queue>-<time>.jsonl and says so (it may have held an accepted message).
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
  /** Why it died, for people: the worker's error and the delivery count. */
  reason: string;
  /** The worker's last error alone, where its engine reported one. */
  error?: string;
  diedAt: number;
}

export const putRecord = (m: StoredMessage): string =>
  `{"op":"put","id":${JSON.stringify(m.id)},"sentAt":${m.sentAt},"availableAt":${m.availableAt},"attempts":${m.attempts},"body":${m.bodyJson}}\n`;
export const outRecord = (id: string, attempts: number): string => `{"op":"out","id":${JSON.stringify(id)},"attempts":${attempts}}\n`;
export const ackRecord = (id: string): string => `{"op":"ack","id":${JSON.stringify(id)}}\n`;
export const deadRecord = (id: string): string => `{"op":"dead","id":${JSON.stringify(id)}}\n`;
export const retryRecord = (op: "retry" | "release", id: string, availableAt: number, attempts: number): string =>
  `{"op":"${op}","id":${JSON.stringify(id)},"availableAt":${availableAt},"attempts":${attempts}}\n`;
export const deadLetterLine = (m: StoredMessage, reason: string, diedAt: number, error?: string): string =>
  `{"id":${JSON.stringify(m.id)},"body":${m.bodyJson},"attempts":${m.attempts},"sentAt":${m.sentAt},"reason":${JSON.stringify(reason)},${error === undefined ? "" : `"error":${JSON.stringify(error)},`}"diedAt":${diedAt}}\n`;
/** A dead letter as its file holds it, for a rewrite (redrive, purge). */
export const deadEntryLine = (d: DeadLetterEntry): string =>
  deadLetterLine({ id: d.id, bodyJson: JSON.stringify(d.body ?? null), attempts: d.attempts, sentAt: d.sentAt, availableAt: 0 }, d.reason, d.diedAt, d.error);

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

/** A JSON-lines file's records, and the lines that are not one (kept as they are, to be set aside). */
interface ReadLines {
  records: Record<string, unknown>[];
  unreadable: string[];
}

/**
 * Reads a JSON-lines file. A line is unreadable when it is not JSON, or not the record `valid`
 * wants (a torn last write, a hand edit, a disk fault): it is returned, not dropped, because it
 * may be the only copy of an accepted message.
 */
function readLines(file: string, valid: (record: Record<string, unknown>) => boolean): ReadLines {
  const read: ReadLines = { records: [], unreadable: [] };
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return read;
    throw error;
  }
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      read.unreadable.push(line);
      continue;
    }
    const usable = record !== null && typeof record === "object" && typeof (record as { id?: unknown }).id === "string" && valid(record as Record<string, unknown>);
    if (usable) read.records.push(record as Record<string, unknown>);
    else read.unreadable.push(line);
  }
  return read;
}

const isNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

/** Whether a journal record has what its op needs; anything else is unreadable. */
function validJournalRecord(r: Record<string, unknown>): boolean {
  switch (r.op) {
    case "put":
      return isNumber(r.sentAt) && isNumber(r.availableAt) && isNumber(r.attempts) && "body" in r;
    case "out":
      return isNumber(r.attempts);
    case "retry":
    case "release":
      return isNumber(r.availableAt) && isNumber(r.attempts);
    case "ack":
    case "dead":
      return true;
    default:
      return false;
  }
}

/**
 * Rebuilds a queue's live messages from its journal, in send order. `dead` holds the ids
 * already in the dead-letter file: a crash between writing the dead letter and its "dead"
 * record would otherwise bring the message back to life. `unreadable` are the lines it could
 * not use, for the caller to set aside before the journal is rewritten without them.
 */
export function replayJournal(file: string, dead: ReadonlySet<string>): { messages: StoredMessage[]; records: number; unreadable: string[] } {
  const live = new Map<string, StoredMessage>();
  const { records, unreadable } = readLines(file, validJournalRecord);
  for (const r of records) {
    const id = r.id as string;
    if (r.op === "put") {
      live.set(id, { id, bodyJson: JSON.stringify(r.body ?? null), sentAt: r.sentAt as number, availableAt: r.availableAt as number, attempts: r.attempts as number });
      continue;
    }
    // A record about a message this journal does not hold (its "put" was unreadable) changes nothing.
    const m = live.get(id);
    if (m === undefined) continue;
    if (r.op === "out") m.attempts = r.attempts as number;
    else if (r.op === "retry" || r.op === "release") {
      m.availableAt = r.availableAt as number;
      m.attempts = r.attempts as number;
    } else live.delete(id);
  }
  return { messages: [...live.values()].filter((m) => !dead.has(m.id)), records: records.length, unreadable };
}

/**
 * Writes unreadable lines to `file` (appending: one open may set aside both a queue's journal
 * and its dead letters), for the user to read. Throws when it cannot: then the lines must stay
 * where they are, so nothing may rewrite their file.
 */
export function setAside(file: string, lines: readonly string[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, lines.map((line) => `${line}\n`).join(""));
}

/**
 * Reads a dead-letter file. Its unreadable lines (a torn last one, say) go to `aside` first,
 * then the file is rewritten without them: the next append would otherwise be glued to a torn
 * line and both records lost. The message of a torn dead letter is not lost: its "dead"
 * journal record is written only after the dead letter, so the journal still holds it.
 */
export function loadDeadLetters(file: string, aside: (lines: string[]) => void): DeadLetterEntry[] {
  const { records, unreadable } = readLines(file, () => true);
  if (unreadable.length > 0) {
    aside(unreadable);
    const temp = `${file}.tmp`;
    fs.writeFileSync(temp, records.map((r) => `${JSON.stringify(r)}\n`).join(""));
    fs.renameSync(temp, file);
  }
  return records.map((r) => ({
    id: r.id as string,
    body: r.body,
    attempts: isNumber(r.attempts) ? r.attempts : 0,
    sentAt: isNumber(r.sentAt) ? r.sentAt : 0,
    reason: typeof r.reason === "string" ? r.reason : "",
    ...(typeof r.error === "string" ? { error: r.error } : {}),
    diedAt: isNumber(r.diedAt) ? r.diedAt : 0,
  }));
}
