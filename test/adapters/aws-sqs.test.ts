import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqsClient, sqsFromEnvironment } from "../../adapters/aws/runtime/sqs.ts";
import type { SqsClient } from "../../adapters/aws/runtime/sqs.ts";
import { queueUrlFromArn } from "../../adapters/aws/runtime/worker.ts";
import { awsTestEnv, startMoto } from "../support/moto.ts";
import { testSqs } from "../support/sqs.ts";
import { waitFor } from "../support/wait.ts";
import type { MotoServer } from "../support/moto.ts";

describe("sqsFromEnvironment", () => {
  const full = awsTestEnv("http://127.0.0.1:1");

  it("names the missing variable", () => {
    expect(() => sqsFromEnvironment({ ...full, AWS_REGION: undefined })).toThrow(/AWS_REGION/);
    expect(() => sqsFromEnvironment({ ...full, AWS_ACCESS_KEY_ID: "" })).toThrow(/AWS_ACCESS_KEY_ID/);
    expect(() => sqsFromEnvironment({ ...full, AWS_SECRET_ACCESS_KEY: undefined })).toThrow(/AWS_SECRET_ACCESS_KEY/);
  });

  it("picks the endpoint: service-specific, then generic, then the regional default", () => {
    expect(sqsFromEnvironment({ ...full, AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:2" }).endpoint).toBe("http://127.0.0.1:2/");
    expect(sqsFromEnvironment(full).endpoint).toBe("http://127.0.0.1:1/");
    const { AWS_ENDPOINT_URL: _, AWS_REGION: __, ...rest } = full;
    expect(sqsFromEnvironment({ ...rest, AWS_DEFAULT_REGION: "eu-central-1" }).endpoint).toBe(
      "https://sqs.eu-central-1.amazonaws.com/",
    );
  });
});

describe("queueUrlFromArn", () => {
  it("follows the ARN's region and partition, or the endpoint in use", () => {
    const saved = { generic: process.env.AWS_ENDPOINT_URL, sqs: process.env.AWS_ENDPOINT_URL_SQS };
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL_SQS;
    try {
      expect(queueUrlFromArn("arn:aws:sqs:eu-west-1:123456789012:shop-dev-mailer")).toBe("https://sqs.eu-west-1.amazonaws.com/123456789012/shop-dev-mailer");
      expect(queueUrlFromArn("arn:aws-cn:sqs:cn-north-1:123456789012:shop-dev-mailer")).toBe("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/shop-dev-mailer");
      process.env.AWS_ENDPOINT_URL = "http://127.0.0.1:4566/";
      expect(queueUrlFromArn("arn:aws:sqs:eu-west-1:123456789012:q")).toBe("http://127.0.0.1:4566/123456789012/q");
    } finally {
      for (const [name, value] of [["AWS_ENDPOINT_URL", saved.generic], ["AWS_ENDPOINT_URL_SQS", saved.sqs]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe("SQS client against moto", () => {
  let moto: MotoServer;
  let sqs: SqsClient;
  let admin: ReturnType<typeof testSqs>;
  let queueUrl: string;

  beforeAll(async () => {
    moto = await startMoto();
    sqs = sqsFromEnvironment(awsTestEnv(moto.endpoint));
    admin = testSqs(clientOptions(moto.endpoint));
    queueUrl = await admin.createQueue("twelve-test");
  }, 60_000);

  afterAll(async () => {
    await moto?.stop();
  });

  it("round-trips a unicode JSON body byte-for-byte with its attribute", async () => {
    const body = JSON.stringify({
      greeting: "héllo wörld — 你好 — 🚀👩🏽‍💻",
      nested: { list: [1, 2.5, null, true, { deep: "\"quoted\" \\ back\\slash\ttab\nnewline" }], empty: {} },
      rtl: "مرحبا",
    });
    const sent = await sqs.sendMessage(queueUrl, body, { attributes: { kind: "job", trace: "ü-123" } });
    expect(sent.messageId).toMatch(/\S/);

    const [msg] = await admin.receive(queueUrl, { waitSeconds: 1 });
    expect(msg).toBeDefined();
    expect(msg!.messageId).toBe(sent.messageId);
    expect(Buffer.from(msg!.body, "utf8").equals(Buffer.from(body, "utf8"))).toBe(true);
    expect(msg!.messageAttributes).toEqual({ kind: { stringValue: "job", dataType: "String" }, trace: { stringValue: "ü-123", dataType: "String" } });
    await admin.delete(queueUrl, msg!.receiptHandle);
  });

  it("passes delaySeconds: the message is invisible until the delay passes", async () => {
    const q = await admin.createQueue("twelve-delay");
    const sentAt = Date.now();
    await sqs.sendMessage(q, "later", { delaySeconds: 1 });
    expect(await admin.receive(q)).toEqual([]);
    const msg = await waitFor(async () => (await admin.receive(q)).at(0), 5_000, "the delayed message");
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1000);
    expect(msg.body).toBe("later");
  });

  it("changeMessageVisibilityBatch makes a received message visible again, in chunks of 10", async () => {
    const q = await admin.createQueue("twelve-visibility");
    await sqs.sendMessage(q, "retry me");
    const [msg] = await admin.receive(q, { visibilityTimeout: 300 });
    expect(msg).toBeDefined();
    expect(await admin.receive(q)).toEqual([]);

    // Count requests by wrapping fetch: 12 entries must be two calls. The
    // other 11 entries repeat the same handle, which SQS accepts.
    let calls = 0;
    const counting = createSqsClient({
      ...clientOptions(moto.endpoint),
      fetch: (input, init) => {
        calls++;
        return fetch(input, init);
      },
    });
    const entries = Array.from({ length: 12 }, (_, i) => ({
      id: `e${i}`,
      receiptHandle: msg!.receiptHandle,
      visibilityTimeout: 0,
    }));
    await counting.changeMessageVisibilityBatch(q, entries);
    expect(calls).toBe(2);

    const [again] = await admin.receive(q);
    expect(again?.body).toBe("retry me");
  });

  it("reports failed batch entries as an Error", async () => {
    await expect(
      sqs.changeMessageVisibilityBatch(queueUrl, [{ id: "bad", receiptHandle: "not-a-handle", visibilityTimeout: 0 }]),
    ).rejects.toThrow(/bad: ReceiptHandleIsInvalid/);
  });

  it("names the queue and the AWS error type for a bad queue URL", async () => {
    const bad = `${moto.endpoint}/123456789012/no-such-queue`;
    const err = await sqs.sendMessage(bad, "x").then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain(bad);
    expect(err!.message).toMatch(/QueueDoesNotExist/);
    expect(err!.message).not.toMatch(/#/);
  });
});

function clientOptions(endpoint: string): Parameters<typeof createSqsClient>[0] {
  const env = awsTestEnv(endpoint);
  return {
    region: env.AWS_REGION,
    endpoint,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  };
}
