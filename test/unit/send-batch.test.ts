import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installSqsTransport, sendMessageBatches } from "../../adapters/aws/runtime/send.ts";
import { createSqsClient, type SqsClientOptions } from "../../adapters/aws/runtime/sqs.ts";
import { installQueueTransport } from "../../adapters/cloudflare/runtime/send.ts";
import { SendBatchError, send, sendBatch } from "../../src/runtime/send.ts";
import type { ProcessMeta } from "../../src/runtime/types.ts";
import { startAwsProxy, type AwsProxy } from "../support/aws-proxy.ts";
import { awsTestEnv, startMoto, type MotoServer } from "../support/moto.ts";
import { testSqs } from "../support/sqs.ts";
import { waitFor } from "../support/wait.ts";

const meta: ProcessMeta = { app: "shop", process: "web", type: "web", entry: "web.ts", workers: ["mailer"], envKeys: [] };

describe("sendBatch() on SQS (moto, every request checked against SQS's own model)", () => {
  let moto: MotoServer;
  let proxy: AwsProxy;
  let options: SqsClientOptions;
  let admin: ReturnType<typeof testSqs>;

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startAwsProxy(moto.endpoint);
    const env = awsTestEnv(proxy.endpoint);
    options = { region: env.AWS_REGION, endpoint: proxy.endpoint, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } };
    admin = testSqs(options);
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
  });

  const receiveAll = async (queueUrl: string, count: number) => {
    const got: string[] = [];
    await waitFor(async () => {
      for (const m of await admin.receive(queueUrl)) {
        got.push(m.body);
        await admin.delete(queueUrl, m.receiptHandle);
      }
      return got.length >= count ? got : undefined;
    }, 10_000, `${count} messages`);
    return got;
  };

  it("sends 25 bodies in 3 SendMessageBatch calls, each a JSON body the worker wrapper recognises", async () => {
    const queueUrl = await admin.createQueue("shop-dev-mailer");
    const env = { ...awsTestEnv(proxy.endpoint), TWELVE_QUEUE_MAILER: queueUrl };
    Object.assign(process.env, env);
    try {
      installSqsTransport(meta);
      const before = proxy.calls.length;
      await sendBatch("mailer", Array.from({ length: 25 }, (_, i) => ({ n: i, text: "héllo 🚀" })));
      const calls = proxy.calls.slice(before).map((c) => c.call);
      expect(calls).toEqual(["SendMessageBatch", "SendMessageBatch", "SendMessageBatch"]);
      expect(proxy.violations).toEqual([]);
      const got = (await receiveAll(queueUrl, 25)).map((b) => JSON.parse(b) as { n: number });
      expect(got.map((b) => b.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
      const [one] = (await (async () => { await sendBatch("mailer", [{ n: 99 }]); return admin.receive(queueUrl, { waitSeconds: 1 }); })());
      expect(one?.messageAttributes?.["twelve-content-type"]?.stringValue).toBe("application/json");
    } finally {
      for (const key of Object.keys(env)) delete process.env[key];
    }
  });

  it("send()s made together go as SendMessageBatch calls of up to 10 (one alone as SendMessage), each resolved when SQS took it", async () => {
    const queueUrl = await admin.createQueue("shop-dev-together");
    const env = { ...awsTestEnv(proxy.endpoint), TWELVE_QUEUE_MAILER: queueUrl };
    Object.assign(process.env, env);
    try {
      installSqsTransport(meta);
      const before = proxy.calls.length;
      await Promise.all(Array.from({ length: 23 }, (_, i) => send("mailer", { n: i })));
      expect(proxy.calls.slice(before).map((c) => c.call)).toEqual(["SendMessageBatch", "SendMessageBatch", "SendMessageBatch"]);
      await send("mailer", { n: 23 });
      // Different delays are different calls: each message keeps its own.
      await Promise.all([send("mailer", { n: 24 }, { delaySeconds: 1 }), send("mailer", { n: 25 })]);
      expect(proxy.calls.slice(before + 3).map((c) => c.call)).toEqual(["SendMessage", "SendMessage", "SendMessage"]);
      expect(proxy.violations).toEqual([]);
      const got = (await receiveAll(queueUrl, 26)).map((b) => (JSON.parse(b) as { n: number }).n);
      expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 26 }, (_, i) => i));
    } finally {
      for (const key of Object.keys(env)) delete process.env[key];
    }
  });

  it("checks every body before sending any: a bad one names its index, and nothing is sent", async () => {
    const queueUrl = await admin.createQueue("shop-dev-checked");
    Object.assign(process.env, { ...awsTestEnv(proxy.endpoint), TWELVE_QUEUE_MAILER: queueUrl });
    installSqsTransport(meta);
    const before = proxy.calls.length;
    await expect(sendBatch("mailer", [{ ok: 1 }, { ok: 2 }, { n: 3n }])).rejects.toThrow('sendBatch("mailer"): bodies[2].n is a BigInt');
    await expect(sendBatch("mailer", [{ ok: 1 }, "x".repeat(1024 * 1024 + 1)])).rejects.toThrow(/bodies\[1\] is \d+ bytes as JSON; SQS takes at most 1048576, nothing was sent/);
    await expect(sendBatch("mailer", [1], { delaySeconds: 901 })).rejects.toThrow("delaySeconds must be a whole number from 0 to 900");
    expect(proxy.calls.length).toBe(before);
    delete process.env.TWELVE_QUEUE_MAILER;
  });

  it("retries an entry SQS failed on its side, and reports by index the ones it refused, having sent the rest", async () => {
    const queueUrl = await admin.createQueue("shop-dev-partial");
    // SQS can fail single entries of a call (moto never does): this fetch drops the marked
    // entries from the request before moto sees them and answers for them as SQS would.
    let transientLeft = 1;
    const faulty: typeof fetch = async (input, init) => {
      const request = JSON.parse(String(init?.body)) as { Entries?: { Id: string; MessageBody: string }[] };
      if (!request.Entries) return fetch(input, init);
      const failed: { Id: string; Code: string; Message: string; SenderFault: boolean }[] = [];
      request.Entries = request.Entries.filter((e) => {
        if (e.MessageBody.includes("refuse")) failed.push({ Id: e.Id, Code: "InvalidParameterValue", Message: "refused for the test", SenderFault: true });
        else if (e.MessageBody.includes("flaky") && transientLeft-- > 0) failed.push({ Id: e.Id, Code: "InternalError", Message: "try again", SenderFault: false });
        else return true;
        return false;
      });
      const kept = request.Entries.map((e) => ({ id: e.Id, body: e.MessageBody }));
      if (kept.length) expect(await createSqsClient(options).sendMessageBatch(queueUrl, kept)).toEqual([]);
      return Response.json({ Successful: kept.map((e) => ({ Id: e.id, MessageId: e.id })), Failed: failed });
    };
    const client = createSqsClient({ ...options, fetch: faulty });
    const texts = Array.from({ length: 14 }, (_, i) => JSON.stringify(i === 3 || i === 12 ? `refuse ${i}` : i === 7 ? `flaky ${i}` : `ok ${i}`));
    const failures = await sendMessageBatches(client, queueUrl, "mailer", texts, undefined);
    expect(failures.sort((a, b) => a.index - b.index)).toEqual([
      { index: 3, error: "InvalidParameterValue: refused for the test" },
      { index: 12, error: "InvalidParameterValue: refused for the test" },
    ]);
    const got = await receiveAll(queueUrl, 12);
    expect(got.sort()).toEqual(texts.filter((_, i) => i !== 3 && i !== 12).sort());
    // What a caller of sendBatch() gets for that outcome.
    const error = new SendBatchError("mailer", failures, texts.length);
    expect(error.message).toBe('sendBatch("mailer"): 2 of 14 bodies were not accepted (the others were): bodies[3]: InvalidParameterValue: refused for the test; bodies[12]: InvalidParameterValue: refused for the test');
  });
});

describe("sendBatch() through a Cloudflare queue producer (workerd, through miniflare)", () => {
  let mf: Miniflare;
  beforeAll(async () => {
    mf = new Miniflare({
      cf: false,
      enableDevRegistry: false,
      workers: [{
        config: {
          name: "shop-dev-mailer",
          compatibilityDate: "2026-08-01",
          // The consumer keeps what it got in KV, for the test to read back.
          manifest: { mainModule: "worker.js", modules: { "worker.js": { type: "esm", contents: "export default { async queue(batch, env) { for (const m of batch.messages) await env.GOT.put(m.id, JSON.stringify(m.body)); } }" } } },
          env: { TWELVE_QUEUE_MAILER: { type: "queue", name: "shop-dev-mailer" }, GOT: { type: "kv" } },
          triggers: [{ type: "queue", name: "shop-dev-mailer", maxBatchSize: 100, maxBatchTimeout: 0 }],
        },
      }],
    });
    await mf.ready;
  }, 60_000);
  afterAll(async () => {
    await mf?.dispose();
  });

  it("splits 250 bodies by the 100-message and 256 KB limits, and every body arrives", async () => {
    const producer = await mf.getQueueProducer("TWELVE_QUEUE_MAILER");
    let calls = 0;
    const counted = { send: producer.send.bind(producer), sendBatch: async (messages: never, options: never) => { calls++; return producer.sendBatch(messages, options); } };
    installQueueTransport(meta)({ TWELVE_QUEUE_MAILER: counted });
    // 200 small bodies (2 calls by count) and 50 of 10 KB (500 KB: 2 more calls by bytes at least).
    const bodies = [...Array.from({ length: 200 }, (_, i) => ({ i })), ...Array.from({ length: 50 }, (_, i) => ({ i: 200 + i, pad: "x".repeat(10_000) }))];
    await sendBatch("mailer", bodies);
    expect(calls).toBe(4);
    const kv = await mf.getKVNamespace("GOT");
    const got = await waitFor(async () => {
      const { keys } = await kv.list({ limit: 1000 });
      return keys.length >= 250 ? keys : undefined;
    }, 15_000, "250 messages consumed");
    const seen = await Promise.all(got.map(async (k) => (JSON.parse(String(await kv.get(k.name, "text"))) as { i: number }).i));
    expect(seen.sort((a, b) => a - b)).toEqual(bodies.map((b) => b.i));
  });

  it("a call the producer refuses is reported with its bodies' indices", async () => {
    const producer = await mf.getQueueProducer("TWELVE_QUEUE_MAILER");
    let call = 0;
    const secondFails = { send: producer.send.bind(producer), sendBatch: async (messages: never, options: never) => { if (++call === 2) throw new Error("Queue sendBatch failed: Too Many Requests"); return producer.sendBatch(messages, options); } };
    installQueueTransport(meta)({ TWELVE_QUEUE_MAILER: secondFails });
    const error = await sendBatch("mailer", Array.from({ length: 150 }, (_, i) => i)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendBatchError);
    expect((error as SendBatchError).failures.map((f) => f.index)).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
    expect((error as SendBatchError).message).toMatch(/^sendBatch\("mailer"\): 50 of 150 bodies were not accepted \(the others were\): bodies\[100\]: Queue sendBatch failed: Too Many Requests/);
  });
});
