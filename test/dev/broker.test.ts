import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Broker, type BrokerEvents, type BrokerMessage, type BrokerOptions, type Deliver, type Outcome, type QueueSpec } from "../../src/dev/broker.ts";
import { FakeClock } from "../support/fake-clock.ts";

const dirs: string[] = [];
const brokers: Broker[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const b of brokers.splice(0)) await b.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-broker-"));
  dirs.push(dir);
  return dir;
}

async function open(dir: string, events?: BrokerEvents, options?: BrokerOptions): Promise<Broker> {
  const broker = await Broker.open(dir, events, options);
  brokers.push(broker);
  return broker;
}

const spec = (name: string, over: Partial<QueueSpec> = {}): QueueSpec => ({ name, batchSize: 10, concurrency: 1, maxRetries: 3, ...over });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ackAll = (batch: BrokerMessage[]): Outcome[] => batch.map((m) => ({ id: m.id, action: "ack" }));

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await sleep(5);
  }
}

/** Moves the fake clock on, a step at a time, until the condition holds. */
async function advanceUntil(clock: FakeClock, condition: () => boolean, stepMs = 10, limitMs = 60_000): Promise<void> {
  for (let waited = 0; !condition(); waited += stepMs) {
    if (waited >= limitMs) throw new Error(`still waiting after ${limitMs} ms of fake time`);
    await clock.advance(stepMs);
  }
}

/** A Deliver that acks everything and remembers what it saw; with `hold`, it keeps each batch that long on the fake clock first. */
function recorder(hold?: { clock: FakeClock; ms: number }) {
  const seen: BrokerMessage[] = [];
  const batches: BrokerMessage[][] = [];
  const deliver: Deliver = async (_queue, batch) => {
    seen.push(...batch);
    batches.push(batch);
    if (hold) await hold.clock.sleep(hold.ms);
    return ackAll(batch);
  };
  return { seen, batches, deliver };
}

/**
 * Makes every fs.writeSync fail as a full disk does (journal.ts writes with it), until restored.
 * `written` says how many bytes of each write get to the file first: a full disk can take part.
 */
function fullDisk(written: (bytes: number) => number = () => 0) {
  const realWrite = fs.writeSync;
  const failingWrite = (fd: number, data: NodeJS.ArrayBufferView, offset?: number | null): number => {
    const from = offset ?? 0;
    const part = written(data.byteLength - from);
    if (part > 0) realWrite(fd, data, from, part);
    throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
  };
  const spy = vi.spyOn(fs, "writeSync").mockImplementation(failingWrite as typeof fs.writeSync);
  return { restore: () => spy.mockRestore() };
}

const journalLines = (dir: string, queue: string) => fs.readFileSync(path.join(dir, "queues", `${queue}.jsonl`), "utf8").split("\n").filter((line) => line !== "");

const sendMany = (broker: Broker, queue: string, n: number) => Promise.all(Array.from({ length: n }, (_, i) => broker.send(queue, { n: i })));

describe("dev queue broker", () => {
  it("keeps to batchSize and concurrency and delivers every message once", async () => {
    const clock = new FakeClock();
    const broker = await open(tempDir(), {}, { clock });
    let inFlight = 0;
    let maxInFlight = 0;
    const seen: string[] = [];
    const sizes: number[] = [];
    broker.configure([spec("jobs", { batchSize: 10, concurrency: 3 })], async (_q, batch) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      sizes.push(batch.length);
      seen.push(...batch.map((m) => m.id));
      await clock.sleep(10);
      inFlight--;
      return ackAll(batch);
    });
    const sent = await sendMany(broker, "jobs", 200);
    await advanceUntil(clock, () => seen.length === 200 && inFlight === 0);
    await clock.advance(30);
    expect(maxInFlight).toBe(3);
    expect(broker.stats("jobs").maxInFlightBatches).toBe(3);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(seen.length).toBe(200);
    expect(new Set(seen)).toEqual(new Set(sent.map((s) => s.id)));
    expect(broker.stats("jobs")).toMatchObject({ ready: 0, delayed: 0, inFlight: 0, delivered: 200 });
  });

  it("delays a retried message and a delayed send by delaySeconds", async () => {
    const clock = new FakeClock();
    const retries: number[] = [];
    const broker = await open(tempDir(), { retry: (_q, _m, delay) => retries.push(delay) }, { clock });
    const deliveries: { id: string; attempts: number; at: number; body: unknown }[] = [];
    let retriedAt = 0;
    broker.configure([spec("jobs")], async (_q, batch) => {
      const at = clock.now();
      deliveries.push(...batch.map((m) => ({ id: m.id, attempts: m.attempts, at, body: m.body })));
      return batch.map((m): Outcome => {
        if (m.body === "retry me" && m.attempts === 1) {
          retriedAt = clock.now();
          return { id: m.id, action: "retry", delaySeconds: 1 };
        }
        return { id: m.id, action: "ack" };
      });
    });
    const sentAt = clock.now();
    const [retried, later] = await Promise.all([broker.send("jobs", "retry me"), broker.send("jobs", "later", { delaySeconds: 1 })]);
    await clock.settle();
    expect(retries).toEqual([1]);
    expect(broker.stats("jobs")).toMatchObject({ delayed: 2, ready: 0, inFlight: 0 });
    await clock.advance(999);
    expect(deliveries).toHaveLength(1);
    await clock.advance(1);
    expect(deliveries).toHaveLength(3);

    const again = deliveries.filter((d) => d.id === retried.id);
    expect(again.map((d) => d.attempts)).toEqual([1, 2]);
    expect(again[1]!.at - retriedAt).toBe(1000);
    const delayed = deliveries.find((d) => d.id === later.id)!;
    expect(delayed.at - sentAt).toBe(1000);
    expect(delayed.attempts).toBe(1);
    expect(retries).toEqual([1]);
    expect(broker.stats("jobs")).toMatchObject({ delayed: 0, ready: 0, inFlight: 0 });
  });

  it("dead-letters a message that always fails after maxRetries + 1 deliveries", async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const dead: [string, string][] = [];
    const broker = await open(dir, { deadLetter: (q, m, reason) => dead.push([q, m.id]) }, { clock });
    const attempts: number[] = [];
    broker.configure([spec("mailer", { maxRetries: 2 })], async (_q, batch) => {
      attempts.push(...batch.map((m) => m.attempts));
      return batch.map((m) => ({ id: m.id, action: "retry" }));
    });
    const { id } = await broker.send("mailer", { to: "ada@example.com" });
    await clock.advance(30);
    expect(attempts).toEqual([1, 2, 3]);
    expect(dead).toEqual([["mailer", id]]);
    expect(broker.deadLetters("mailer")[0]).toMatchObject({ id, body: { to: "ada@example.com" }, attempts: 3 });
    expect(broker.stats("mailer")).toMatchObject({ ready: 0, delayed: 0, inFlight: 0, deadLetters: 1 });

    await broker.close();
    const lines = fs.readFileSync(path.join(dir, "dead-letter", "mailer.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toEqual([expect.objectContaining({ id, body: { to: "ada@example.com" }, attempts: 3, reason: expect.stringContaining("maxRetries 2") })]);
    expect(typeof lines[0].diedAt).toBe("number");
    expect(typeof lines[0].sentAt).toBe("number");
    // Still dead after a restart, and not delivered again.
    const reopened = await open(dir, {}, { clock });
    const { seen, deliver } = recorder();
    reopened.configure([spec("mailer", { maxRetries: 2 })], deliver);
    await clock.advance(30);
    expect(seen).toEqual([]);
    expect(reopened.deadLetters("mailer").map((d) => d.id)).toEqual([id]);
  });

  it("retries the whole batch, attempts counted, when Deliver rejects", async () => {
    const retried: string[] = [];
    const broker = await open(tempDir(), { retry: (_q, m, delay) => retried.push(`${m.id}:${delay}`) });
    const calls: BrokerMessage[][] = [];
    broker.configure([spec("jobs", { batchSize: 5 })], async (_q, batch) => {
      calls.push(batch);
      if (calls.length === 1) throw new Error("worker crashed");
      return ackAll(batch);
    });
    const sent = await sendMany(broker, "jobs", 5);
    await waitFor(() => calls.length === 2);
    const ids = sent.map((s) => s.id);
    expect(calls[0]!.map((m) => [m.id, m.attempts])).toEqual(ids.map((id) => [id, 1]));
    expect(calls[1]!.map((m) => [m.id, m.attempts])).toEqual(ids.map((id) => [id, 2]));
    expect(retried).toEqual(ids.map((id) => `${id}:0`));
  });

  it("treats a missing outcome as a retry and ignores outcomes for other ids", async () => {
    const broker = await open(tempDir());
    const calls: BrokerMessage[][] = [];
    broker.configure([spec("jobs", { batchSize: 2 })], async (_q, batch) => {
      calls.push(batch);
      return calls.length === 1 ? [{ id: batch[0]!.id, action: "ack" }, { id: "someone-else", action: "ack" }] : ackAll(batch);
    });
    const [a, b] = await sendMany(broker, "jobs", 2);
    await waitFor(() => calls.length === 2);
    expect(calls[1]!.map((m) => [m.id, m.attempts])).toEqual([[b!.id, 2]]);
    expect(a).toBeDefined();
  });

  it("rejects sends to an unknown queue and bodies JSON cannot hold", async () => {
    const broker = await open(tempDir());
    broker.configure([spec("a"), spec("b")], recorder().deliver);
    await expect(broker.send("c", {})).rejects.toThrow("no worker queue named c; queues: a, b");
    await expect(broker.send("a", () => 1)).rejects.toThrow(/JSON/);
    await expect(broker.send("a", { n: 1n })).rejects.toThrow(/JSON/);
  });

  it("keeps messages sent before close for the next open", async () => {
    const dir = tempDir();
    const first = await open(dir);
    const sent = await sendMany(first, "jobs", 100);
    await first.close();

    const second = await open(dir);
    expect(second.stats("jobs").ready).toBe(100);
    const { seen, deliver } = recorder();
    second.configure([spec("jobs")], deliver);
    await waitFor(() => seen.length === 100);
    expect(seen.map((m) => m.id)).toEqual(sent.map((s) => s.id)); // in send order
    expect(seen.map((m) => m.body)).toEqual(sent.map((_, i) => ({ n: i })));
  });

  it("loses no accepted message when the process is killed with SIGKILL", async () => {
    const dir = tempDir();
    const script = path.join(dir, "child.mjs");
    const brokerUrl = pathToFileURL(path.resolve(import.meta.dirname, "../../src/dev/broker.ts")).href;
    // The child logs with fs.writeSync: a pipe to the parent could still hold lines in the
    // child's memory at the kill, and an "acked" line lost that way would look like a lost message.
    fs.writeFileSync(
      script,
      `import fs from "node:fs";
import { Broker } from ${JSON.stringify(brokerUrl)};
const [dir, sentLog, ackedLog] = process.argv.slice(2);
const sentFd = fs.openSync(sentLog, "a");
const ackedFd = fs.openSync(ackedLog, "a");
const broker = await Broker.open(dir);
broker.configure([{ name: "jobs", batchSize: 5, concurrency: 2, maxRetries: 5 }], async (_q, batch) => {
  await new Promise((r) => setTimeout(r, 3));
  fs.writeSync(ackedFd, batch.map((m) => m.id + "\\n").join(""));
  return batch.map((m) => ({ id: m.id, action: "ack" }));
});
for (let i = 0; ; i++) {
  const sent = await Promise.all(Array.from({ length: 25 }, (_, j) => broker.send("jobs", { i, j })));
  fs.writeSync(sentFd, sent.map((s) => s.id + "\\n").join(""));
}
`,
    );
    const sentLog = path.join(dir, "sent.log");
    const ackedLog = path.join(dir, "acked.log");
    const ids = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter((l) => l.length === 36) : []);
    const child = spawn(process.execPath, [script, path.join(dir, "broker"), sentLog, ackedLog], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise((r) => child.on("exit", r));
    try {
      await waitFor(() => ids(sentLog).length >= 2000 && ids(ackedLog).length >= 50, 10_000);
    } catch (error) {
      throw new Error(`the child did not get going: ${stderr}`, { cause: error });
    } finally {
      child.kill("SIGKILL");
    }
    await exited;
    const sent = ids(sentLog);
    const acked = new Set(ids(ackedLog));

    const broker = await open(path.join(dir, "broker"));
    const { seen, deliver } = recorder();
    broker.configure([spec("jobs", { batchSize: 100, concurrency: 4, maxRetries: 5 })], deliver);
    await waitFor(() => {
      const s = broker.stats("jobs");
      return s.ready + s.delayed + s.inFlight === 0;
    });
    const redelivered = new Set(seen.map((m) => m.id));
    const lost = sent.filter((id) => !acked.has(id) && !redelivered.has(id));
    expect(lost).toEqual([]);
    expect(redelivered.size).toBeGreaterThan(0);
  });

  it("sets aside the lines it cannot read, says how many and where, and keeps every message it can", async () => {
    const dir = tempDir();
    const first = await open(dir);
    await sendMany(first, "jobs", 3);
    await first.close();
    const journal = path.join(dir, "queues", "jobs.jsonl");
    const [one, two, three] = journalLines(dir, "jobs");
    // A record broken in the middle of the file, and a torn last one.
    const broken = two!.slice(0, 40);
    fs.writeFileSync(journal, `${one}\n${broken}\n${three}\n{"op":"put","id":"torn","sentAt":1,"availa`);
    const deadFile = path.join(dir, "dead-letter", "jobs.jsonl");
    fs.writeFileSync(deadFile, '{"id":"old","body":1,"attempts":4,"sentAt":1,"reason":"x","diedAt":2}\n{"id":"to');

    const told: [string, number, string, string][] = [];
    const second = await open(dir, { unreadable: (...args) => told.push(args) });
    expect(second.stats("jobs")).toMatchObject({ ready: 2, deadLetters: 1 });
    expect(told.map(([queue, lines, from]) => [queue, lines, from])).toEqual([
      ["jobs", 1, deadFile],
      ["jobs", 2, journal],
    ]);
    const aside = (file: string) => fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "");
    expect(path.dirname(told[1]![3])).toBe(path.join(dir, "unreadable"));
    expect(path.basename(told[1]![3])).toMatch(/^jobs-\d{4}-\d\d-\d\dT[\d-]+Z\.jsonl$/);
    expect(aside(told[1]![3])).toEqual([broken, '{"op":"put","id":"torn","sentAt":1,"availa']);
    expect(aside(told[0]![3])).toEqual(['{"id":"to']);
    // Records written after the torn lines must not be glued to them.
    await second.send("jobs", { n: 3 });
    await second.close();

    const again: unknown[] = [];
    const third = await open(dir, { unreadable: (...args) => again.push(args) });
    expect(again).toEqual([]);
    expect(third.stats("jobs")).toMatchObject({ ready: 3, deadLetters: 1 });
    const { seen, deliver } = recorder();
    third.configure([spec("jobs")], deliver);
    await waitFor(() => seen.length === 3);
    expect(seen.map((m) => m.body)).toEqual([{ n: 0 }, { n: 2 }, { n: 3 }]);
  });

  it("says why each delivery failed in its retry event", async () => {
    const retries: string[] = [];
    const broker = await open(tempDir(), { retry: (_q, m, _delay, reason) => retries.push(`${m.attempts} ${reason}`) });
    let calls = 0;
    broker.configure([spec("jobs", { maxRetries: 5 })], async (_q, batch) => {
      calls++;
      if (calls === 1) throw new Error("jobs ran past its 3 s timeout and was killed\nmore detail");
      if (calls === 2) return batch.map((m) => ({ id: m.id, action: "retry", reason: 'queue() ended with outcome "exception"' }));
      if (calls === 3) return batch.map((m) => ({ id: m.id, action: "retry" }));
      if (calls === 4) return [];
      return ackAll(batch);
    });
    await broker.send("jobs", { n: 1 });
    await waitFor(() => calls === 5);
    expect(retries).toEqual([
      "1 jobs ran past its 3 s timeout and was killed",
      '2 queue() ended with outcome "exception"',
      "3 retried by the worker",
      "4 the worker reported no outcome",
    ]);
  });

  it("applies a new configure(): higher concurrency, and a dropped queue keeps its messages", async () => {
    const clock = new FakeClock();
    const broker = await open(tempDir(), {}, { clock });
    let inFlight = 0;
    const seen: Record<string, number> = { a: 0, b: 0 };
    const deliver: Deliver = async (queue, batch) => {
      inFlight++;
      seen[queue]! += batch.length;
      await clock.sleep(20);
      inFlight--;
      return ackAll(batch);
    };
    broker.configure([spec("a", { batchSize: 2, concurrency: 1 }), spec("b")], deliver);
    await sendMany(broker, "a", 40);
    await advanceUntil(clock, () => seen.a! >= 4);
    expect(broker.stats("a").maxInFlightBatches).toBe(1);
    broker.configure([spec("a", { batchSize: 2, concurrency: 4 })], deliver);
    await advanceUntil(clock, () => seen.a === 40 && inFlight === 0);
    expect(broker.stats("a").maxInFlightBatches).toBe(4);

    // b was dropped: sending to it fails; what it had waits until it is configured again.
    await expect(broker.send("b", 1)).rejects.toThrow("no worker queue named b; queues: a");
    broker.pause();
    broker.configure([spec("a"), spec("b")], deliver);
    await sendMany(broker, "b", 5);
    broker.configure([spec("a")], deliver);
    broker.resume();
    await clock.advance(50);
    expect(seen.b).toBe(0);
    expect(broker.stats("b").ready).toBe(5);
    broker.configure([spec("a"), spec("b")], deliver);
    await advanceUntil(clock, () => seen.b === 5);
  });

  it("drain() lets batches out finish and hands out nothing new; close() keeps the rest", async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const broker = await open(dir, {}, { clock });
    const first = recorder({ clock, ms: 100 });
    broker.configure([spec("jobs", { batchSize: 5, concurrency: 2 })], first.deliver);
    const sent = await sendMany(broker, "jobs", 30);
    await clock.settle();
    expect(first.seen.length).toBe(10);
    const drained = broker.drain(2000);
    await clock.advance(100);
    expect(await drained).toBe(true);
    expect(broker.stats("jobs")).toMatchObject({ inFlight: 0, inFlightBatches: 0, ready: 20 });
    await clock.advance(150);
    expect(first.seen.length).toBe(10);
    await broker.close();

    const reopened = await open(dir, {}, { clock });
    const second = recorder();
    reopened.configure([spec("jobs", { batchSize: 5, concurrency: 2 })], second.deliver);
    await clock.advance(30);
    expect(second.seen.map((m) => m.id)).toEqual(sent.slice(10).map((s) => s.id));
    expect(second.seen.every((m) => m.attempts === 1)).toBe(true);
  });

  it("drain() times out with false, and close() leaves the batch out undelivered, its attempt not counted", async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const broker = await open(dir, {}, { clock });
    broker.configure([spec("jobs")], () => new Promise<Outcome[]>(() => {}));
    const { id } = await broker.send("jobs", "stuck");
    await clock.settle();
    expect(broker.stats("jobs").inFlight).toBe(1);
    let drained: boolean | undefined;
    void broker.drain(50).then((result) => (drained = result));
    await clock.advance(49);
    expect(drained).toBeUndefined();
    await clock.advance(1);
    expect(drained).toBe(false);
    await broker.close();

    const reopened = await open(dir);
    const { seen, deliver } = recorder();
    reopened.configure([spec("jobs")], deliver);
    await waitFor(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ id, body: "stuck", attempts: 1 });
  });

  describe("when the disk refuses a write", () => {
    it("fails the send, keeps its message from everyone, and keeps what was accepted", async () => {
      const dir = tempDir();
      const broker = await open(dir);
      await broker.send("jobs", "before");
      const disk = fullDisk();
      await expect(broker.send("jobs", "refused")).rejects.toThrow("ENOSPC");
      disk.restore();
      await broker.send("jobs", "after");
      expect(broker.stats("jobs")).toMatchObject({ ready: 2, delayed: 0 });
      await broker.close();

      const reopened = await open(dir);
      expect(reopened.stats("jobs").ready).toBe(2);
      const { seen, deliver } = recorder();
      reopened.configure([spec("jobs")], deliver);
      await waitFor(() => seen.length === 2);
      expect(seen.map((m) => m.body)).toEqual(["before", "after"]);
    });

    it("does not hand the refused message to a worker, and a later send goes through", async () => {
      const dir = tempDir();
      const broker = await open(dir);
      const { seen, deliver } = recorder();
      broker.configure([spec("jobs")], deliver);
      await broker.send("jobs", "first");
      const disk = fullDisk();
      const refused = broker.send("jobs", "refused");
      const delayed = broker.send("jobs", "refused too", { delaySeconds: 1 });
      await expect(refused).rejects.toThrow("ENOSPC");
      await expect(delayed).rejects.toThrow("ENOSPC");
      expect(broker.stats("jobs")).toMatchObject({ ready: 0, delayed: 0, inFlight: 0 });
      disk.restore();
      await broker.send("jobs", "after");
      await waitFor(() => seen.length === 2 && broker.stats("jobs").inFlight === 0);
      expect(seen.map((m) => m.body)).toEqual(["first", "after"]);
      await broker.close();

      const reopened = await open(dir);
      expect(reopened.stats("jobs")).toMatchObject({ ready: 0, delayed: 0 });
      expect(journalLines(dir, "jobs")).toEqual([]);
    });

    it("holds back the turn's batch, its delivery not counted, and hands it out once the disk takes writes", async () => {
      const clock = new FakeClock();
      const broker = await open(tempDir(), {}, { clock });
      const { id } = await broker.send("jobs", "waiting");
      const { seen, deliver } = recorder();
      const disk = fullDisk();
      broker.configure([spec("jobs")], deliver);
      await clock.settle();
      expect(seen).toEqual([]);
      expect(broker.stats("jobs")).toMatchObject({ ready: 1, inFlight: 0, inFlightBatches: 0, delivered: 0 });
      disk.restore();
      // Nothing else happens: the broker tries again by itself.
      await clock.advance(1000);
      expect(seen.map((m) => [m.id, m.attempts])).toEqual([[id, 1]]);
    });

    it("writes the acks of a refused turn later, and cuts a part-written record off the journal", async () => {
      const dir = tempDir();
      const clock = new FakeClock();
      const broker = await open(dir, {}, { clock });
      let release = () => {};
      broker.configure([spec("jobs")], (_q, batch) => new Promise<Outcome[]>((resolve) => (release = () => resolve(ackAll(batch)))));
      await broker.send("jobs", "acked");
      await clock.settle();
      expect(broker.stats("jobs").inFlight).toBe(1);
      // All but the last byte gets written: a record without its newline, which the next one would be glued to.
      const disk = fullDisk((bytes) => bytes - 1);
      release();
      await clock.settle();
      await expect(broker.send("jobs", "refused")).rejects.toThrow("ENOSPC");
      disk.restore();
      await broker.send("jobs", "accepted");
      await broker.close();

      for (const line of journalLines(dir, "jobs")) expect(() => JSON.parse(line)).not.toThrow();
      const reopened = await open(dir, {}, { clock });
      const { seen, deliver } = recorder();
      reopened.configure([spec("jobs")], deliver);
      await clock.settle();
      expect(seen.map((m) => m.body)).toEqual(["accepted"]);
    });
  });

  it("moves 20,000 messages through one queue, compacting its journal on the way", async () => {
    const dir = tempDir();
    const broker = await open(dir);
    // Live through the compactions that 60,000 records bring: these must survive them.
    const waiting = await Promise.all([1, 2, 3].map((n) => broker.send("jobs", { waiting: n }, { delaySeconds: 600 })));
    let acked = 0;
    broker.configure([spec("jobs", { batchSize: 10, concurrency: 5 })], async (_q, batch) => {
      acked += batch.length;
      return ackAll(batch);
    });
    // How fast is measured in bench/ (npm run bench -- dev), not here.
    await sendMany(broker, "jobs", 20_000);
    await waitFor(() => acked === 20_000, 30_000);
    expect(broker.stats("jobs").delivered).toBe(20_000);
    await broker.close();

    expect(fs.statSync(path.join(dir, "queues", "jobs.jsonl")).size).toBeLessThan(2_000_000);
    const reopened = await open(dir);
    expect(reopened.stats("jobs")).toMatchObject({ ready: 0, delayed: 3, inFlight: 0 });
    reopened.configure([spec("jobs")], recorder().deliver);
    await reopened.close();
    const journal = fs.readFileSync(path.join(dir, "queues", "jobs.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(journal.map((r) => [r.op, r.id, r.body])).toEqual(waiting.map((w, i) => ["put", w.id, { waiting: i + 1 }]));
  });
});
