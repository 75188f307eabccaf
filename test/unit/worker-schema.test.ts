import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineWorker } from "../../src/runtime/define.ts";
import { failureOf } from "../../src/runtime/failure.ts";
import { requireHandler } from "../../src/runtime/module.ts";
import type { StandardSchemaV1 } from "../../src/runtime/schema.ts";
import { installTransport, send, sendBatch } from "../../src/runtime/send.ts";
import type { Message, MessageBatch, ProcessMeta } from "../../src/runtime/types.ts";

/** A batch as a platform hands it over, recording what the worker decided for each message. */
function batchOf(bodies: unknown[]) {
  const decided: Record<string, string> = {};
  const messages = bodies.map((body, i): Message => ({
    id: `m${i}`, body, attempts: 1, timestamp: new Date(0),
    ack: () => void (decided[`m${i}`] = "ack"),
    retry: () => void (decided[`m${i}`] = "retry"),
  }));
  // never: the platform hands over bodies nothing has checked yet, whatever the worker declares.
  const batch = { queue: "shop-dev-signup", messages, ackAll() {}, retryAll() {} } as MessageBatch as MessageBatch<never>;
  return { batch, messages, decided };
}
const ctx = { waitUntil() {}, passThroughOnException() {} };

// Not a library: the Standard Schema interface written by hand, as any library may implement it.
const evenNumber: StandardSchemaV1<number, { half: number }> = {
  "~standard": {
    version: 1,
    vendor: "hand-written",
    validate: async (value) =>
      typeof value === "number" && value % 2 === 0 ? { value: { half: value / 2 } } : { issues: [{ message: "expected an even number" }] },
  },
};

describe("defineWorker({ schema }) with zod", () => {
  const Signup = z.object({ email: z.email(), age: z.string().transform(Number) });
  const handled: unknown[] = [];
  const worker = defineWorker({ schema: Signup }, async (signup) => void handled.push(signup));

  it("hands the handler the schema's output, and acknowledges", async () => {
    const { batch, decided } = batchOf([{ email: "a@example.com", age: "42" }]);
    await worker.queue(batch, {}, ctx);
    expect(handled).toEqual([{ email: "a@example.com", age: 42 }]);
    expect(decided).toEqual({ m0: "ack" });
  });

  it("refuses a body that does not match: not handled, failed for good with zod's issues as the reason", async () => {
    handled.length = 0;
    const { batch, messages, decided } = batchOf([{ email: "not an email", age: 42 }, { email: "b@example.com", age: "7" }]);
    await worker.queue(batch, {}, ctx);
    expect(handled).toEqual([{ email: "b@example.com", age: 7 }]);
    expect(decided).toEqual({ m0: "retry", m1: "ack" });
    const failure = failureOf(messages[0]!);
    expect(failure?.final).toBe(true);
    expect(failure?.error).toMatch(/^the body does not match the worker's schema: body\.email: Invalid email address; body\.age: Invalid input: expected string, received number$/);
    expect(failureOf(messages[1]!)).toBeUndefined();
  });

  it("a handler's throw is still a retry, not final", async () => {
    const failing = defineWorker({ schema: Signup }, async () => {
      throw new Error("smtp down");
    });
    const { batch, messages, decided } = batchOf([{ email: "a@example.com", age: "1" }]);
    await failing.queue(batch, {}, ctx);
    expect(decided).toEqual({ m0: "retry" });
    expect(failureOf(messages[0]!)).toEqual({ error: "smtp down", final: false });
  });
});

describe("defineWorker({ schema }) with a hand-written Standard Schema", () => {
  it("validates through ~standard.validate, async, and refuses with its message", async () => {
    const halves: number[] = [];
    const worker = defineWorker({ schema: evenNumber }, (body) => void halves.push(body.half));
    const { batch, messages, decided } = batchOf([4, 3]);
    await worker.queue(batch, {}, ctx);
    expect(halves).toEqual([2]);
    expect(decided).toEqual({ m0: "ack", m1: "retry" });
    expect(failureOf(messages[1]!)).toEqual({ error: "the body does not match the worker's schema: body: expected an even number", final: true });
  });

  it("what is not a Standard Schema is refused when the module loads, saying what to pass", () => {
    expect(() => defineWorker({ schema: { parse() {} } as never }, () => {})).toThrow(/schema is not a Standard Schema .*zod, valibot or arktype/);
  });
});

describe("send() where the worker's schema is in the bundle (the worker's own process)", () => {
  const sent: string[] = [];
  afterEach(() => void sent.splice(0));

  it("checks the body before sending, for send() and every body of sendBatch()", async () => {
    const meta: ProcessMeta = { app: "shop", process: "halver", type: "worker", entry: "halver.ts", workers: ["halver"], envKeys: [] };
    // What the platform wrapper does when it loads the worker's module.
    requireHandler({ default: defineWorker({ schema: evenNumber }, () => {}) }, "queue", meta);
    installTransport({ workers: ["halver"], maxDelaySeconds: 900, send: async (_worker, json) => void sent.push(json) });
    await expect(send("halver", 3)).rejects.toThrow('send("halver"): the body does not match the worker\'s schema, nothing was sent: body: expected an even number');
    await expect(sendBatch("halver", [2, 4, 5])).rejects.toThrow('sendBatch("halver"): bodies[2] does not match the worker\'s schema, nothing was sent');
    expect(sent).toEqual([]);
    await send("halver", 8);
    await sendBatch("halver", [2, 4]);
    expect(sent).toEqual(["8", "2", "4"]);
  });
});
