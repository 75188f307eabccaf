import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpEventV2, HttpResultV2, SqsEvent, SqsRecord } from "../../adapters/aws/runtime/events.ts";
import { toResult } from "../../adapters/aws/runtime/web.ts";
import { awsInvoker, readFixture } from "./invokers/aws.ts";

// The AWS wrappers with the real payloads of ../shared/fixtures/aws-events, as AWS sends them,
// and variants built from them. The shared behaviour is in conformance.test.ts.
describe("AWS handlers with real event payloads", () => {
  let aws: Awaited<ReturnType<typeof awsInvoker>>;

  beforeAll(async () => {
    aws = await awsInvoker();
  }, 60_000);

  afterAll(async () => {
    await aws?.close();
  });

  const echoOf = (result: HttpResultV2) => JSON.parse(result.body) as Record<string, unknown>;

  it("a Function URL request (lambda-urls-request.json) becomes the Request the process sees", async () => {
    const result = await aws.handlers.web(readFixture<HttpEventV2>("lambda-urls-request.json"));
    expect(result).toMatchObject({ statusCode: 200, isBase64Encoded: false });
    expect(result.headers["content-type"]).toMatch(/^application\/json/);
    const echo = echoOf(result);
    expect(echo).toMatchObject({ method: "POST", path: "/my/path", cookie: "cookie1; cookie2", body: "Hello from client!" });
    // rawQueryString keeps repeated parameters apart (queryStringParameters joins them with commas).
    expect(echo.query).toEqual([["parameter1", "value1"], ["parameter1", "value2"], ["parameter2", "value"]]);
    expect(echo.headers).toMatchObject({ header1: "value1", header2: "value1,value2" });
  });

  it("an API Gateway HTTP API request (apigw-v2-request-no-authorizer.json) too", async () => {
    const result = await aws.handlers.web(readFixture<HttpEventV2>("apigw-v2-request-no-authorizer.json"));
    const echo = echoOf(result);
    expect(echo).toMatchObject({ method: "GET", path: "/", cookie: null, body: "" });
    expect(echo.headers).toMatchObject({ "user-agent": "curl/7.58.0", "x-forwarded-proto": "https", accept: "*/*" });
  });

  it("a Response becomes the structured result of lambda-urls-response.json", async () => {
    const expected = readFixture<HttpResultV2>("lambda-urls-response.json");
    const headers = new Headers(expected.headers);
    for (const cookie of expected.cookies ?? []) headers.append("set-cookie", cookie);
    const result = await toResult(new Response(expected.body, { status: expected.statusCode, headers }));
    const lower = Object.fromEntries(Object.entries(expected.headers).map(([k, v]) => [k.toLowerCase(), v]));
    expect(result).toEqual({ ...expected, headers: lower });
  });

  it("an SQS event (sqs-event.json) becomes a batch: raw body, receive count as attempts, sent time, queue name", async () => {
    const result = await aws.handlers.jobs(readFixture<SqsEvent>("sqs-event.json"));
    expect(result).toEqual({ batchItemFailures: [] });
    const [report] = await aws.reports.waitFor((r) => r.process === "jobs" && r.body === "Message Body", (r) => r.length >= 1);
    expect(report).toMatchObject({ attempts: 2, queue: "SQSQueue", timestamp: 1520621625029 });
  });

  it("when queue() throws, exactly the messages it had not acknowledged are batchItemFailures", async () => {
    const [template] = readFixture<SqsEvent>("sqs-event.json").Records as [SqsRecord];
    const record = (id: string, body: unknown): SqsRecord => ({
      ...template,
      messageId: id,
      body: JSON.stringify(body),
      messageAttributes: { "twelve-content-type": { stringValue: "application/json", dataType: "String" } },
    });
    const result = await aws.handlers.jobs({
      Records: [record("m1", { id: "t1" }), record("m2", { id: "t2", throwBatch: true }), record("m3", { id: "t3" })],
    });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "m2" }, { itemIdentifier: "m3" }] });
  });

  it("a retried message is made visible again after its delay (ChangeMessageVisibility on the real queue)", async () => {
    const queueUrl = await aws.sqs.createQueue("conf-dev-probe");
    const { sqsFromEnvironment } = await import("../../adapters/aws/runtime/sqs.ts");
    const client = sqsFromEnvironment(process.env);
    const attribute = { "twelve-content-type": "application/json" };
    await client.sendMessage(queueUrl, JSON.stringify({ id: "v0", retryDelay: 0 }), { attributes: attribute });
    await client.sendMessage(queueUrl, JSON.stringify({ id: "v30", retryDelay: 30 }), { attributes: attribute });
    const records = await aws.sqs.receive(queueUrl, { visibilityTimeout: 300 });
    expect(records).toHaveLength(2);

    const result = await aws.handlers.jobs({ Records: records });
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(records.map((r) => r.messageId).sort());
    // Received with a 300 s visibility timeout: only the retry({ delaySeconds: 0 }) one is back now.
    const again = await aws.sqs.receive(queueUrl);
    expect(again.map((r) => JSON.parse(r.body).id)).toEqual(["v0"]);
    expect(Number(again[0]!.attributes.ApproximateReceiveCount)).toBe(2);
  });

  it("send() puts the body on the worker's real SQS queue as JSON, marked for the worker wrapper", async () => {
    const probe = await aws.sqs.createQueue("conf-dev-outbox");
    const original = process.env.TWELVE_QUEUE_MAILER;
    process.env.TWELVE_QUEUE_MAILER = probe;
    const body = { id: "round-trip", text: "naïve café ☕ \"quotes\" \\ and\nlines", list: [1, 2.5, null, { deep: true }] };
    try {
      const response = await aws.handlers.web({
        ...readFixture<HttpEventV2>("lambda-urls-request.json"),
        rawPath: "/send/mailer",
        rawQueryString: "",
        body: JSON.stringify([{ body }]),
      });
      expect(response.statusCode).toBe(202);
    } finally {
      process.env.TWELVE_QUEUE_MAILER = original;
    }
    const [message] = await aws.sqs.receive(probe, { waitSeconds: 1 });
    expect(JSON.parse(message!.body)).toEqual(body);
    expect(message!.messageAttributes?.["twelve-content-type"]?.stringValue).toBe("application/json");
  });

  it("send() without the worker's queue URL in the environment says which variable is missing", async () => {
    const original = process.env.TWELVE_QUEUE_JOBS;
    delete process.env.TWELVE_QUEUE_JOBS;
    try {
      const response = await aws.handlers.web({
        ...readFixture<HttpEventV2>("lambda-urls-request.json"),
        rawPath: "/send/jobs",
        rawQueryString: "",
        body: JSON.stringify([{ body: {} }]),
      });
      expect(response.statusCode).toBe(500);
      expect(JSON.parse(response.body).error).toMatch(/TWELVE_QUEUE_JOBS is not set/);
    } finally {
      process.env.TWELVE_QUEUE_JOBS = original;
    }
  });

  it("a clock gets the Scheduler's time from its Input, or now when invoked without one", async () => {
    await aws.handlers.tick({ twelve: "scheduled", scheduledTime: "2026-03-02T14:00:00Z" });
    const before = Date.now();
    await aws.handlers.tick(undefined);
    const runs = await aws.reports.waitFor((r) => r.process === "tick", (r) => r.length >= 2);
    expect(runs[0]).toMatchObject({ cron: "0 9 * * 1-5", scheduledTime: Date.UTC(2026, 2, 2, 14) });
    expect(runs[1]!.scheduledTime as number).toBeGreaterThanOrEqual(before);
  });
});
