import { CreateQueueCommand, GetQueueAttributesCommand, PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { adapters } from "../../adapters/index.ts";
import { awsClients, deployRegion } from "../../adapters/aws/client.ts";
import { awsDeadLetters } from "../../adapters/aws/dlq.ts";
import type { DeadLetter, DeadLetters } from "../../src/adapter.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { ClockProcess, Formation, WorkerProcess } from "../../src/formation/types.ts";
import { startAwsProxy, type AwsProxy } from "../support/aws-proxy.ts";
import { awsTestEnv, motoClientConfig, startMoto, type MotoServer } from "../support/moto.ts";
import { removeProject, shopProject } from "../support/project.ts";

// `twelve dlq --stage` on AWS, against moto behind the botocore-model proxy: reading the
// dead-letter queues consumes nothing, redrive puts each message on the worker's queue before it
// leaves the dead-letter queue, and an interruption at any step loses nothing.

const STAGE = "dlqt";
const DLQ = `shop-${STAGE}-mailer-dlq`;
const QUEUE = `shop-${STAGE}-mailer`;

describe("AWS dead letters (twelve dlq --stage)", () => {
  let moto: MotoServer;
  let proxy: AwsProxy;
  let dir: string;
  let formation: Formation;
  let letters: DeadLetters;
  let sqs: SQSClient;
  const urls: Record<string, string> = {};
  const mailer = () => formation.processes.find((p) => p.name === "mailer") as WorkerProcess;
  const nightly = () => formation.processes.find((p) => p.name === "nightly") as ClockProcess;
  const all = async (process: WorkerProcess | ClockProcess = mailer()) => {
    const out: DeadLetter[] = [];
    for await (const letter of letters.list(process, () => {})) out.push(letter);
    return out;
  };
  /** Messages in a queue, hidden ones included (a read cut short leaves some hidden for a while). */
  const held = async (name: string) => {
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: urls[name], AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));
    return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
  };
  const json = { "twelve-content-type": { DataType: "String", StringValue: "application/json" } };
  /** As SQS's redrive policy leaves one: the body and attributes as sent. */
  const deadBySqs = (n: number) => sqs.send(new SendMessageCommand({ QueueUrl: urls[DLQ], MessageBody: JSON.stringify({ to: `c${n}@example.com` }), MessageAttributes: json }));
  /** As twelve's worker wrapper moves one on its last attempt: with its error. */
  const deadByTwelve = (n: number, error: string) =>
    sqs.send(new SendMessageCommand({
      QueueUrl: urls[DLQ],
      MessageBody: JSON.stringify({ to: `w${n}@example.com` }),
      MessageAttributes: {
        ...json,
        "twelve-error": { DataType: "String", StringValue: error },
        "twelve-attempts": { DataType: "String", StringValue: "4" },
        "twelve-sent-at": { DataType: "String", StringValue: "1764670000000" },
        "twelve-message-id": { DataType: "String", StringValue: `original-${n}` },
      },
    }));

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startAwsProxy(moto.endpoint);
    dir = shopProject();
    ({ formation } = await loadConfig({ cwd: dir, target: "aws", stage: STAGE, adapters }));
    sqs = new SQSClient(motoClientConfig(moto.endpoint));
    for (const name of [QUEUE, DLQ, `shop-${STAGE}-nightly-dlq`]) urls[name] = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
    letters = (await adapters.aws.connect(formation, STAGE, { env: { ...process.env, ...awsTestEnv(proxy.endpoint) }, debug: () => {} })).deadLetters;
  }, 60_000);
  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
    removeProject(dir);
  });
  beforeEach(async () => {
    proxy.cutWrites(undefined);
    for (const url of Object.values(urls)) await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    expect(proxy.violations).toEqual([]);
  });

  it("lists every dead letter even when the read outlasts the visibility it hides them with", async () => {
    for (let n = 0; n < 100; n++) await deadBySqs(n);
    const env = { ...process.env, ...awsTestEnv(proxy.endpoint) };
    const clients = await awsClients(deployRegion(formation.aws.region, env), env);
    const slowReader = awsDeadLetters(clients, formation, STAGE, { readVisibilitySeconds: 1 });
    const seen: string[] = [];
    // A slow caller (a terminal paging, a pipe): the read waits for it, and its first messages come back into view.
    for await (const letter of slowReader.list(mailer(), () => {})) {
      seen.push(letter.id);
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    expect(new Set(seen).size).toBe(100);
    expect(seen).toHaveLength(100);
    expect(await held(DLQ)).toBe(100);
  }, 60_000);

  it("lists without consuming: the same dead letters every time, visible at once afterwards, attempts and errors as the worker left them", async () => {
    await deadBySqs(1);
    await deadByTwelve(2, "TypeError: no such customer");
    const first = await all();
    expect(first.map((l) => l.body).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([{ to: "c1@example.com" }, { to: "w2@example.com" }]);
    const byTwelve = first.find((l) => l.id === "original-2");
    expect(byTwelve).toMatchObject({ attempts: 4, error: "TypeError: no such customer", sentAt: 1764670000000 });
    // SQS moved the other after maxReceiveCount = maxRetries + 1 deliveries, and kept no reason.
    expect(first.find((l) => l.id !== "original-2")).toMatchObject({ attempts: 4, error: null });
    expect(await all()).toEqual(first);
    // Visible again at once: a plain receive gets both.
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: urls[DLQ], MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
    expect(Messages).toHaveLength(2);

    const summary = await letters.summary();
    expect(summary.find((s) => s.process === "mailer")).toMatchObject({ type: "worker", count: 2, oldestSentAt: 1764670000000, where: `SQS queue ${DLQ}` });
    expect(summary.find((s) => s.process === "nightly")).toMatchObject({ type: "clock", count: 0 });
    expect(proxy.violations).toEqual([]);
  });

  it("redrives by id and all: bodies and content type unchanged, twelve's dead-letter attributes gone, each sent before it is deleted", async () => {
    await deadBySqs(1);
    await deadByTwelve(2, "boom");
    await deadByTwelve(3, "boom");
    const byId = await letters.redrive(mailer(), ["original-2", "nope"], () => {});
    expect(byId).toEqual({ redriven: 1, missing: ["nope"] });
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: urls[QUEUE], MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }));
    expect(Messages.map((m) => [m.Body, Object.keys(m.MessageAttributes ?? {})])).toEqual([[JSON.stringify({ to: "w2@example.com" }), ["twelve-content-type"]]]);
    expect((await all()).map((l) => l.id).sort()).not.toContain("original-2");
    expect(await letters.redrive(mailer(), undefined, () => {})).toEqual({ redriven: 2, missing: [] });
    expect(await all()).toEqual([]);
    expect(await held(QUEUE)).toBe(3);
    expect(proxy.violations).toEqual([]);
  });

  it("purges by id, and all", async () => {
    for (const n of [1, 2, 3]) await deadByTwelve(n, "boom");
    expect(await letters.purge(mailer(), ["original-1"], () => {})).toEqual({ purged: 1, missing: [] });
    expect((await all()).map((l) => l.id).sort()).toEqual(["original-2", "original-3"]);
    expect(await letters.purge(mailer(), undefined, () => {})).toEqual({ purged: 2, missing: [] });
    expect(await held(DLQ)).toBe(0);
  });

  it("an interrupted redrive loses nothing, whichever call it dies at", async () => {
    // Every AWS call a redrive of 3 makes that changes something: receives, the batch send, the
    // batch delete, the visibility resets. Dying at each one in turn leaves every message on
    // the worker's queue or still dead (a duplicate is acceptable, a loss is not).
    for (let cut = 1; cut <= 6; cut++) {
      proxy.cutWrites(undefined);
      for (const url of Object.values(urls)) await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
      for (const n of [1, 2, 3]) await deadByTwelve(n, "boom");
      proxy.cutWrites(cut);
      const outcome = await letters.redrive(mailer(), undefined, () => {}).then(() => "finished", () => "cut short");
      proxy.cutWrites(undefined);
      const total = (await held(QUEUE)) + (await held(DLQ));
      expect(total, `cut at write ${cut} (${outcome})`).toBeGreaterThanOrEqual(3);
    }
  });

  it("lists many in pages, with progress, and redrives them all", async () => {
    const n = 120;
    for (let i = 0; i < n; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => deadBySqs(i + j)));
    }
    const seen: number[] = [];
    let count = 0;
    for await (const _ of letters.list(mailer(), (done) => seen.push(done))) count++;
    expect(count).toBe(n);
    expect(seen.at(-1)).toBe(n);
    expect(seen.length).toBeGreaterThan(5);
    expect((await letters.redrive(mailer(), undefined, () => {})).redriven).toBe(n);
    expect(await held(QUEUE)).toBe(n);
    expect(await held(DLQ)).toBe(0);
  }, 60_000);

  it("shows a clock's failed runs: the Scheduler's undelivered invocations and Lambda's dropped runs", async () => {
    const url = urls[`shop-${STAGE}-nightly-dlq`];
    await sqs.send(new SendMessageCommand({
      QueueUrl: url,
      MessageBody: JSON.stringify({ twelve: "scheduled", scheduledTime: "2026-12-02T02:00:00Z" }),
      MessageAttributes: { ERROR_CODE: { DataType: "String", StringValue: "AWS.Lambda.AccessDenied" }, ERROR_MESSAGE: { DataType: "String", StringValue: "not allowed to invoke" }, RETRY_ATTEMPTS: { DataType: "String", StringValue: "2" } },
    }));
    await sqs.send(new SendMessageCommand({
      QueueUrl: url,
      MessageBody: JSON.stringify({ requestContext: { condition: "EventAgeExceeded", approximateInvokeCount: 0 }, requestPayload: { twelve: "scheduled", scheduledTime: "2026-12-03T02:00:00Z" } }),
    }));
    const runs = await all(nightly());
    const denied = runs.find((r) => r.error?.startsWith("AWS.Lambda.AccessDenied"));
    expect(denied).toMatchObject({ sentAt: Date.parse("2026-12-02T02:00:00Z"), attempts: 3, error: "AWS.Lambda.AccessDenied: not allowed to invoke" });
    const dropped = runs.find((r) => r !== denied);
    expect(dropped?.sentAt).toBe(Date.parse("2026-12-03T02:00:00Z"));
    expect(dropped?.error).toMatch(/^skipped: the run for 2026-12-03T02:00:00Z could not start \(the previous run was still going: one run at a time\)/);
  });
});
