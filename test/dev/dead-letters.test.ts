import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Broker, type BrokerMessage, type Deliver, type QueueSpec } from "../../src/dev/broker.ts";
import { FakeClock } from "../support/fake-clock.ts";

// twelve dev's dead-letter store: what `twelve dlq --redrive/--purge` does to it, and that an
// interrupted redrive leaves every message somewhere (twice at worst), never nowhere.

const dirs: string[] = [];
const brokers: Broker[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const b of brokers.splice(0)) await b.close().catch(() => {});
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function open(dir: string, clock: FakeClock): Promise<Broker> {
  const broker = await Broker.open(dir, {}, { clock });
  brokers.push(broker);
  return broker;
}

const spec = (over: Partial<QueueSpec> = {}): QueueSpec => ({ name: "mailer", batchSize: 10, concurrency: 1, maxRetries: 1, ...over });

/** A worker that refuses every message until told otherwise, and remembers what it saw. */
function worker() {
  const seen: BrokerMessage[] = [];
  let refuse = true;
  const deliver: Deliver = async (_q, batch) => {
    seen.push(...batch);
    return batch.map((m) => (refuse ? { id: m.id, action: "retry" as const, reason: `no such customer: ${(m.body as { n: number }).n}` } : { id: m.id, action: "ack" as const }));
  };
  return { seen, deliver, accept: () => (refuse = false) };
}

/** A broker whose mailer queue holds `n` dead letters (each died after 2 deliveries). */
async function withDead(n: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-dlq-"));
  dirs.push(dir);
  const clock = new FakeClock();
  const broker = await open(dir, clock);
  const w = worker();
  broker.configure([spec()], w.deliver);
  await Promise.all(Array.from({ length: n }, (_, i) => broker.send("mailer", { n: i })));
  for (let i = 0; i < 200 && broker.stats("mailer").deadLetters < n; i++) await clock.advance(10);
  expect(broker.stats("mailer").deadLetters).toBe(n);
  return { dir, clock, broker, worker: w };
}

const deadIds = (broker: Broker) => broker.deadLetters("mailer").map((d) => d.id);
const bodies = (messages: { body: unknown }[]) => messages.map((m) => (m.body as { n: number }).n);

describe("twelve dev's dead letters", () => {
  it("keep the worker's error apart from the reason, and a final refusal dies on its first delivery", async () => {
    const { broker, clock } = await withDead(1);
    expect(broker.deadLetters("mailer")[0]).toMatchObject({ attempts: 2, error: "no such customer: 0", reason: "no such customer: 0; delivered 2 times (maxRetries 1)" });
    // "dead": a schema said no. Never retried.
    const seen: number[] = [];
    broker.configure([spec({ maxRetries: 5 })], async (_q, batch) => {
      seen.push(...batch.map((m) => m.attempts));
      return batch.map((m) => ({ id: m.id, action: "dead" as const, reason: "body.to: expected an email address" }));
    });
    await broker.send("mailer", { n: 9 });
    await clock.advance(50);
    expect(seen).toEqual([1]);
    expect(broker.deadLetters("mailer")[1]).toMatchObject({ attempts: 1, error: "body.to: expected an email address" });
  });

  it("redrive sends them back with bodies unchanged and a fresh attempt count, all or by id, and survives a restart", async () => {
    const { dir, clock, broker, worker: w } = await withDead(3);
    const [first, second, third] = broker.deadLetters("mailer");
    w.accept();
    w.seen.length = 0;
    const result = broker.redrive("mailer", [second!.id, "nope"]);
    expect(result.missing).toEqual(["nope"]);
    expect(result.redriven).toEqual([{ from: second!.id, to: expect.any(String) }]);
    await clock.advance(20);
    expect(w.seen).toEqual([expect.objectContaining({ id: result.redriven[0]!.to, body: { n: 1 }, attempts: 1 })]);
    expect(deadIds(broker)).toEqual([first!.id, third!.id]);

    // The store on disk says the same after a restart.
    await broker.close();
    const reopened = await open(dir, clock);
    expect(deadIds(reopened)).toEqual([first!.id, third!.id]);
    const all = reopened.redrive("mailer");
    expect(all.redriven.map((r) => r.from)).toEqual([first!.id, third!.id]);
    expect(deadIds(reopened)).toEqual([]);
    const seen: BrokerMessage[] = [];
    reopened.configure([spec()], async (_q, batch) => {
      seen.push(...batch);
      return batch.map((m) => ({ id: m.id, action: "ack" as const }));
    });
    await clock.advance(20);
    expect(bodies(seen).sort()).toEqual([0, 2]);
  });

  it("purge deletes for good, all or by id", async () => {
    const { dir, clock, broker } = await withDead(3);
    const [, second] = broker.deadLetters("mailer");
    expect(broker.purge("mailer", [second!.id])).toEqual({ purged: 1, missing: [] });
    expect(bodies(broker.deadLetters("mailer"))).toEqual([0, 2]);
    expect(broker.purge("mailer")).toEqual({ purged: 2, missing: [] });
    await broker.close();
    expect(deadIds(await open(dir, clock))).toEqual([]);
  });

  it("an interrupted redrive loses nothing: a refused journal write changes nothing, a refused dead-letter rewrite leaves the message twice", async () => {
    const { dir, clock, broker } = await withDead(2);
    const before = broker.deadLetters("mailer");

    // Step 1 refused (the queue's journal): nothing moved.
    const write = vi.spyOn(fs, "writeSync").mockImplementation(() => {
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    });
    expect(() => broker.redrive("mailer")).toThrow("ENOSPC");
    write.mockRestore();
    expect(broker.deadLetters("mailer")).toEqual(before);
    expect(broker.stats("mailer")).toMatchObject({ ready: 0, inFlight: 0 });

    // Step 2 refused (the dead-letter file's rewrite): the messages are queued, and still dead.
    const rename = vi.spyOn(fs, "renameSync").mockImplementation(() => {
      throw Object.assign(new Error("EIO: i/o error, rename"), { code: "EIO" });
    });
    broker.pause();
    expect(() => broker.redrive("mailer")).toThrow("EIO");
    rename.mockRestore();
    expect(broker.stats("mailer").ready).toBe(2);
    expect(broker.deadLetters("mailer")).toEqual(before);

    // A crash now (close without the pump): on the next open both copies are there.
    await broker.close();
    const reopened = await open(dir, clock);
    expect(reopened.stats("mailer").ready).toBe(2);
    expect(bodies(reopened.deadLetters("mailer"))).toEqual([0, 1]);
  });

  it("10,000 dead letters page and redrive", async () => {
    const { broker } = await withDead(10_000);
    const pages: number[] = [];
    for (let offset = 0; ; offset += 500) {
      const page = broker.deadLetters("mailer", offset, 500);
      pages.push(page.length);
      if (page.length < 500) break;
    }
    expect(pages.reduce((a, b) => a + b, 0)).toBe(10_000);
    broker.pause();
    const started = performance.now();
    expect(broker.redrive("mailer").redriven).toHaveLength(10_000);
    const took = performance.now() - started;
    expect(broker.stats("mailer")).toMatchObject({ ready: 10_000, deadLetters: 0 });
    console.log(`redrive of 10,000 dead letters in the dev broker: ${took.toFixed(0)} ms`);
  }, 60_000);
});
