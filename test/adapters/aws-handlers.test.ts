import {
  BatchProcessor,
  EventType,
  FullBatchFailureError,
  SqsFifoPartialProcessorAsync,
  processPartialResponse,
} from "@aws-lambda-powertools/batch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpEventV2, HttpResultV2, SqsEvent, SqsRecord } from "../../adapters/aws/runtime/events.ts";
import { toResult } from "../../adapters/aws/runtime/http-event.ts";
import { awsInvoker, readFixture, type ImportedHandlers } from "./invokers/aws.ts";

// The AWS bundles under AWS's runtime interface client, fed the payloads AWS's own repositories
// publish (test/fixtures/aws-events/README.md) and variants built from them. The behaviour
// shared with Cloudflare is in conformance.test.ts.
describe("AWS handlers with real event payloads", () => {
  let aws: Awaited<ReturnType<typeof awsInvoker>>;
  let imported: ImportedHandlers;

  beforeAll(async () => {
    aws = await awsInvoker();
    imported = await aws.imported();
  }, 60_000);

  afterAll(async () => {
    await aws?.close();
  });

  const echoOf = async (response: Response) => {
    expect(response.status).toBe(200);
    return (await response.json()) as { method: string; path: string; query: string[][]; headers: Record<string, string>; cookie: string | null; body: string };
  };
  const urlEvent = (changes: Partial<HttpEventV2>): HttpEventV2 => ({ ...readFixture<HttpEventV2>("lambda-urls-request.json"), ...changes });

  it("a Function URL request (aws-lambda-go lambda-urls-request.json) becomes the Request the process sees", async () => {
    const response = await aws.url(readFixture("lambda-urls-request.json"));
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const echo = await echoOf(response);
    expect(echo).toMatchObject({ method: "POST", path: "/my/path", cookie: "cookie1; cookie2", body: "Hello from client!" });
    // rawQueryString keeps repeated parameters apart (queryStringParameters joins them with commas).
    expect(echo.query).toEqual([["parameter1", "value1"], ["parameter1", "value2"], ["parameter2", "value"]]);
    expect(echo.headers).toMatchObject({ header1: "value1", header2: "value1,value2" });
  });

  it("API Gateway HTTP API requests (aws-lambda-go apigw-v2-request*.json) too; a GET's body is dropped", async () => {
    const plain = await echoOf(await aws.url(readFixture("apigw-v2-request-no-authorizer.json")));
    expect(plain).toMatchObject({ method: "GET", path: "/", cookie: null, body: "" });
    expect(plain.headers).toMatchObject({ "user-agent": "curl/7.58.0", "x-forwarded-proto": "https", accept: "*/*" });

    const jwt = await echoOf(await aws.url(readFixture("apigw-v2-request.json")));
    expect(jwt).toMatchObject({ method: "GET", path: "/my/path", cookie: "cookie1; cookie2", body: "" });
    expect(jwt.headers).toMatchObject({ header1: "value1", header2: "value2" });
  });

  it("the HTTP API event `sam local generate-event` makes (aws-sam-cli HttpApi.json) decodes its base64 body", async () => {
    const echo = await echoOf(await aws.url(readFixture("sam-http-api.json")));
    expect(echo).toMatchObject({ method: "POST", path: "/path/to/resource", cookie: "cookie1; cookie2", body: '{"test":"body"}' });
    expect(echo.headers).toMatchObject({ header1: "value1", header2: "value1,value2" });
  });

  it('an event with "body": null (as aws-lambda-go and aws-sam-cli send one) reaches the app as no body', async () => {
    const echo = await echoOf(await aws.url(urlEvent({ body: null })));
    expect(echo).toMatchObject({ method: "POST", body: "" });
  });

  it("a header value with code points above 255 (CloudFront-Viewer-City) reaches the app as its UTF-8 bytes", async () => {
    const event = urlEvent({ headers: { "cloudfront-viewer-city": "Srīperumbūdūr", "cloudfront-viewer-country": "IN" } });
    const echo = await echoOf(await aws.url(event));
    // One character per byte, as Node's HTTP server (twelve dev) gives it: decode as UTF-8 to read it.
    expect(Buffer.from(echo.headers["cloudfront-viewer-city"]!, "latin1").toString("utf8")).toBe("Srīperumbūdūr");
    expect(echo.headers["cloudfront-viewer-country"]).toBe("IN");
  });

  it("web functions are built for the Function URL's RESPONSE_STREAM mode and answer in Lambda's streaming protocol", async () => {
    const modes = Object.fromEntries(aws.manifest.processes.map((p) => [p.name, p.platform.invokeMode]));
    expect(modes).toEqual({ web: "RESPONSE_STREAM", jobs: undefined, mailer: undefined, tick: undefined });
    const outcome = await aws.functions.web.invoke(urlEvent({ rawPath: "/status/204", requestContext: { http: { method: "GET", path: "/status/204" } } }));
    expect(outcome.kind).toBe("streamed");
    if (outcome.kind === "streamed") {
      expect(outcome.contentType).toBe("application/vnd.awslambda.http-integration-response");
      outcome.body.resume();
      expect(await outcome.ended).toBeUndefined();
    }
  });

  it("a streamed body goes past the 6 MB Lambda caps a buffered result at", async () => {
    const response = await aws.url(urlEvent({ rawPath: "/large/7", body: undefined, requestContext: { http: { method: "GET", path: "/large/7" } } }));
    expect(response.status).toBe(200);
    expect((await response.arrayBuffer()).byteLength).toBe(7 * 1024 * 1024);
  });

  it("a body that fails mid-stream ends in the runtime's error trailers; the client sees the stream cut", async () => {
    const get = (path: string) => urlEvent({ rawPath: path, body: undefined, requestContext: { http: { method: "GET", path } } });
    const outcome = await aws.functions.web.invoke(get("/broken-stream"));
    expect(outcome.kind).toBe("streamed");
    if (outcome.kind !== "streamed") return;
    outcome.body.resume();
    expect(await outcome.ended).toEqual({ errorType: "Error", errorMessage: "the source broke off" });

    const response = await aws.url(get("/broken-stream"));
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    // The function goes on serving.
    expect((await aws.url(get("/status/204"))).status).toBe(204);
  });

  describe("the buffered result (the handler imported where no `awslambda` global is, and API Gateway's form)", () => {
    const bytes = Array.from({ length: 256 }, (_, i) => 255 - i);
    const bodyOf = (result: HttpResultV2) => [...Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8")];

    it("a binary type with a parameter (application/pdf; charset=binary) goes back as base64", async () => {
      const result = await imported.web(urlEvent({ rawPath: "/bytes/pdf", requestContext: { http: { method: "GET", path: "/bytes/pdf" } } }));
      expect(result).toMatchObject({ statusCode: 200, isBase64Encoded: true, headers: { "content-type": "application/pdf; charset=binary" } });
      expect(bodyOf(result)).toEqual(bytes);
    });

    it("a response without a content type goes back as base64", async () => {
      const result = await imported.web(urlEvent({ rawPath: "/bytes/untyped", requestContext: { http: { method: "GET", path: "/bytes/untyped" } } }));
      expect(result.isBase64Encoded).toBe(true);
      expect(bodyOf(result)).toEqual(bytes);
    });

    it("text stays text, unless its bytes are not UTF-8", async () => {
      const json = await toResult(Response.json({ city: "Srīperumbūdūr" }));
      expect(json).toMatchObject({ isBase64Encoded: false, body: '{"city":"Srīperumbūdūr"}' });
      const latin1 = await toResult(new Response(Buffer.from("café", "latin1"), { headers: { "content-type": "text/plain; charset=iso-8859-1" } }));
      expect(latin1.isBase64Encoded).toBe(true);
      expect(Buffer.from(latin1.body, "base64").toString("latin1")).toBe("café");
    });

    it("a Response becomes the structured result of lambda-urls-response.json", async () => {
      const expected = readFixture<HttpResultV2>("lambda-urls-response.json");
      const headers = new Headers(expected.headers);
      for (const cookie of expected.cookies ?? []) headers.append("set-cookie", cookie);
      const result = await toResult(new Response(expected.body, { status: expected.statusCode, headers }));
      const lower = Object.fromEntries(Object.entries(expected.headers).map(([k, v]) => [k.toLowerCase(), v]));
      expect(result).toEqual({ ...expected, headers: lower });
    });
  });

  it("an SQS event (aws-lambda-go sqs-event.json) becomes a batch: raw body, receive count as attempts, sent time, queue name", async () => {
    const result = await aws.functions.jobs.invokeJson(readFixture<SqsEvent>("sqs-event.json"));
    expect(result).toEqual({ batchItemFailures: [] });
    const [report] = await aws.reports.waitFor((r) => r.process === "jobs" && r.body === "Message Body", (r) => r.length >= 1);
    expect(report).toMatchObject({ attempts: 2, queue: "SQSQueue", timestamp: 1520621625029 });
  });

  it("the SQS event `sam local generate-event sqs receive-message` makes (aws-sam-cli Sqs.json) too", async () => {
    const result = await aws.functions.jobs.invokeJson(readFixture<SqsEvent>("sam-sqs.json"));
    expect(result).toEqual({ batchItemFailures: [] });
    const [report] = await aws.reports.waitFor((r) => r.process === "jobs" && r.body === "Hello from SQS!", (r) => r.length >= 1);
    expect(report).toMatchObject({ attempts: 1, queue: "MyQueue", timestamp: 1523232000000 });
  });

  it("when queue() throws, exactly the messages it had not acknowledged are batchItemFailures", async () => {
    const [template] = readFixture<SqsEvent>("sqs-event.json").Records as [SqsRecord];
    const record = (id: string, body: unknown): SqsRecord => ({
      ...template,
      messageId: id,
      body: JSON.stringify(body),
      messageAttributes: { "twelve-content-type": { stringValue: "application/json", dataType: "String" } },
    });
    const result = await aws.functions.jobs.invokeJson({
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

    const result = await aws.functions.jobs.invokeJson<{ batchItemFailures: { itemIdentifier: string }[] }>({ Records: records });
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(records.map((r) => r.messageId).sort());
    // Received with a 300 s visibility timeout: only the retry({ delaySeconds: 0 }) one is back now.
    const again = await aws.sqs.receive(queueUrl);
    expect(again.map((r) => JSON.parse(r.body).id)).toEqual(["v0"]);
    expect(Number(again[0]!.attributes.ApproximateReceiveCount)).toBe(2);
  });

  // These two change the environment the handler reads, so they run on the imported bundle.
  it("send() puts the body on the worker's real SQS queue as JSON, marked for the worker wrapper", async () => {
    const probe = await aws.sqs.createQueue("conf-dev-outbox");
    const original = process.env.TWELVE_QUEUE_MAILER;
    process.env.TWELVE_QUEUE_MAILER = probe;
    const body = { id: "round-trip", text: "naïve café ☕ \"quotes\" \\ and\nlines", list: [1, 2.5, null, { deep: true }] };
    try {
      const response = await imported.web(urlEvent({ rawPath: "/send/mailer", rawQueryString: "", body: JSON.stringify([{ body }]) }));
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
      const response = await imported.web(urlEvent({ rawPath: "/send/jobs", rawQueryString: "", body: JSON.stringify([{ body: {} }]) }));
      expect(response.statusCode).toBe(500);
      expect(JSON.parse(response.body).error).toMatch(/TWELVE_QUEUE_JOBS is not set/);
    } finally {
      process.env.TWELVE_QUEUE_JOBS = original;
    }
  });

  it("a clock gets the Scheduler's time from its Input, or now when invoked without one", async () => {
    await aws.functions.tick.invokeJson({ twelve: "scheduled", scheduledTime: "2026-03-02T14:00:00Z" });
    const before = Date.now();
    // An Invoke without a payload delivers {} to the handler.
    await aws.functions.tick.invokeJson({});
    const runs = await aws.reports.waitFor((r) => r.process === "tick", (r) => r.length >= 2);
    expect(runs[0]).toMatchObject({ cron: "0 9 * * 1-5", scheduledTime: Date.UTC(2026, 2, 2, 14) });
    expect(runs[1]!.scheduledTime as number).toBeGreaterThanOrEqual(before);
  });

  // Each invocation runs in a function process; a busy machine can make one take seconds.
  describe("worker answers equal @aws-lambda-powertools/batch's partial responses", { timeout: 20_000 }, () => {
    type Body = { id: string; failUntilAttempt?: number; throwBatch?: boolean };
    // Records of the aws-sam-cli SQS event, with JSON bodies as twelve's send() marks them.
    const eventOf = (bodies: Body[]): SqsEvent => {
      const [template] = readFixture<SqsEvent>("sam-sqs.json").Records as [SqsRecord];
      return {
        Records: bodies.map((body, i) => ({
          ...template,
          messageId: `msg-${i}-${body.id}`,
          body: JSON.stringify(body),
          messageAttributes: { "twelve-content-type": { stringValue: "application/json", dataType: "String" } },
        })),
      };
    };
    const bodyOf = (record: SqsRecord) => JSON.parse(record.body) as Body;
    const attemptsOf = (record: SqsRecord) => Number(record.attributes.ApproximateReceiveCount);
    const powertools = (event: SqsEvent, handler: (record: SqsRecord) => Promise<void>, processor = new BatchProcessor(EventType.SQS)) =>
      processPartialResponse(event, handler, processor, { throwOnFullBatchFailure: false });

    it("defineWorker (a throw retries that message) matches BatchProcessor(EventType.SQS)", async () => {
      const event = eventOf([{ id: "a" }, { id: "b", failUntilAttempt: 1 }, { id: "c" }, { id: "d", failUntilAttempt: 1 }, { id: "e" }]);
      // The mailer's own rule (test/fixtures/conformance/mailer.ts), as a powertools record handler.
      const expected = await powertools(event, async (record) => {
        const body = bodyOf(record);
        if (body.failUntilAttempt !== undefined && attemptsOf(record) <= body.failUntilAttempt) throw new Error(`fail ${body.id}`);
      });
      expect(expected.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(["msg-1-b", "msg-3-d"]);
      expect(await aws.functions.mailer.invokeJson(event)).toEqual(expected);
    });

    it("a whole batch failing: twelve lists every message, powertools by default throws so Lambda retries them all", async () => {
      const event = eventOf([{ id: "f1", failUntilAttempt: 1 }, { id: "f2", failUntilAttempt: 1 }]);
      const failing = async () => {
        throw new Error("fails");
      };
      await expect(processPartialResponse(event, failing, new BatchProcessor(EventType.SQS))).rejects.toThrow(FullBatchFailureError);
      expect(await aws.functions.mailer.invokeJson(event)).toEqual(await powertools(event, failing));
    });

    it("queue() throwing part-way (stop there, the rest not acknowledged) matches the FIFO processor's short circuit", async () => {
      const event = eventOf([{ id: "j1" }, { id: "j2", throwBatch: true }, { id: "j3" }, { id: "j4" }]);
      const expected = await powertools(
        event,
        async (record) => {
          if (bodyOf(record).throwBatch) throw new Error("gives up");
        },
        new SqsFifoPartialProcessorAsync(),
      );
      expect(expected.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(["msg-1-j2", "msg-2-j3", "msg-3-j4"]);
      expect(await aws.functions.jobs.invokeJson(event)).toEqual(expected);
    });
  });
});
