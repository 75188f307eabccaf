import { afterEach, describe, expect, it } from "vitest";
import { installSqsTransport } from "../../adapters/aws/runtime/send.ts";
import { installQueueTransport } from "../../adapters/cloudflare/runtime/send.ts";
import { installTransport, send } from "../../src/runtime/send.ts";
import type { ProcessMeta } from "../../src/runtime/types.ts";

// send() checks the body in the sender, before anything leaves the process, on every platform:
// what JSON cannot carry is refused with where it is in the body, not found out by the queue.
const meta: ProcessMeta = { app: "shop", process: "web", type: "web", entry: "web.ts", workers: ["mailer"], envKeys: [] };
const sent: string[] = [];
afterEach(() => void sent.splice(0));
const recording = () => installTransport({ workers: ["mailer"], maxDelaySeconds: 900, send: async (_worker, json) => void sent.push(json) });

describe("send() of a body JSON cannot carry", () => {
  it("is refused before the transport is called, naming the value and its place", async () => {
    recording();
    const cycle: Record<string, unknown> = { list: [] };
    (cycle.list as unknown[]).push(cycle);
    await expect(send("mailer", { to: ["a", { id: 1n }] })).rejects.toThrow('send("mailer"): body.to[1].id is a BigInt, which JSON cannot carry');
    await expect(send("mailer", { "odd key": Symbol("s") })).rejects.toThrow('send("mailer"): body["odd key"] is a Symbol');
    await expect(send("mailer", cycle)).rejects.toThrow('send("mailer"): the body refers to itself (a cycle)');
    await expect(send("mailer", () => 1)).rejects.toThrow('send("mailer"): the body is a function');
    await expect(send("mailer", { tags: new Set(["a"]) })).rejects.toThrow('send("mailer"): body.tags is a Set, which JSON cannot carry; send [...set]');
    await expect(send("mailer", undefined)).rejects.toThrow('send("mailer"): the body is undefined');
    await expect(send("mailer", { toJSON: () => undefined })).rejects.toThrow('send("mailer"): the body turns into nothing as JSON');
    expect(sent).toEqual([]);
  });

  it("sends what JSON makes of the rest: a Date as its string, an undefined property left out", async () => {
    recording();
    await send("mailer", { at: new Date(Date.UTC(2026, 0, 1)), note: undefined, n: [1, null] });
    expect(sent).toEqual(['{"at":"2026-01-01T00:00:00.000Z","n":[1,null]}']);
  });

  it("the AWS and Cloudflare transports get the checked JSON: a refused body makes no call", async () => {
    const calls: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (_url: string, init: RequestInit) => {
      calls.push(String(init.body));
      return new Response(JSON.stringify({ MessageId: "1" }), { status: 200 });
    }) as typeof fetch;
    const env = { AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s", AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:1", TWELVE_QUEUE_MAILER: "http://127.0.0.1:1/0/shop-dev-mailer" };
    Object.assign(process.env, env);
    try {
      installSqsTransport(meta);
      await expect(send("mailer", { n: 1n })).rejects.toThrow("is a BigInt");
      expect(calls).toEqual([]);
      const produced: unknown[] = [];
      installQueueTransport(meta)({ TWELVE_QUEUE_MAILER: { send: async (body: unknown) => void produced.push(body) } });
      await expect(send("mailer", Symbol("x"))).rejects.toThrow("is a Symbol");
      await send("mailer", { at: new Date(0) });
      expect(produced).toEqual([{ at: "1970-01-01T00:00:00.000Z" }]);
    } finally {
      globalThis.fetch = realFetch;
      for (const key of Object.keys(env)) delete process.env[key];
    }
  });
});
