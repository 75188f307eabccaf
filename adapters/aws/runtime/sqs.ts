// A minimal SQS client over the AWS JSON 1.0 protocol.
//
// PORTABLE: ships inside Lambda bundles (fetch + WebCrypto only). The AWS SDK
// would add megabytes and cold-start time for the handful of calls a worker
// formation needs.
import { signRequest } from "./sigv4.ts";
import type { AwsCredentials } from "./sigv4.ts";

export interface SqsClientOptions {
  region: string;
  endpoint?: string;
  credentials: AwsCredentials;
  /** Injectable for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** The invocation's X-Ray trace id, sent as X-Amzn-Trace-Id (read at each call). */
  traceId?: () => string | undefined;
}

export interface SqsSendOptions {
  delaySeconds?: number;
  attributes?: Record<string, string>;
}

/** One message of a SendMessageBatch call; `id` is unique within the call. */
export interface SqsBatchEntry {
  id: string;
  body: string;
  delaySeconds?: number;
  attributes?: Record<string, string>;
}

/** An entry SQS did not take; `senderFault` false means the same entry may succeed if sent again. */
export interface SqsBatchFailure {
  id: string;
  code: string;
  message: string | undefined;
  senderFault: boolean;
}

export interface SqsVisibilityEntry {
  id: string;
  receiptHandle: string;
  visibilityTimeout: number;
}

export interface SqsClient {
  readonly endpoint: string;
  sendMessage(queueUrl: string, body: string, opts?: SqsSendOptions): Promise<{ messageId: string }>;
  /** One SendMessageBatch call (at most 10 entries): the entries it did not take. */
  sendMessageBatch(queueUrl: string, entries: readonly SqsBatchEntry[]): Promise<SqsBatchFailure[]>;
  changeMessageVisibilityBatch(queueUrl: string, entries: SqsVisibilityEntry[]): Promise<void>;
}

/** One signed SQS JSON-protocol call; `queue` only names the queue in error messages. */
export type SqsCall = (action: string, input: Record<string, unknown>, queue: string) => Promise<Record<string, unknown>>;

// SQS rejects batches larger than this.
const BATCH_MAX = 10;

export function defaultSqsEndpoint(region: string): string {
  const suffix = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return `https://sqs.${region}.${suffix}`;
}

export function sqsFromEnvironment(env: Record<string, string | undefined>): SqsClient {
  const need = (value: string | undefined, name: string): string => {
    if (!value) throw new Error(`SQS client: environment variable ${name} is not set`);
    return value;
  };
  const region = need(env["AWS_REGION"] || env["AWS_DEFAULT_REGION"], "AWS_REGION (or AWS_DEFAULT_REGION)");
  const accessKeyId = need(env["AWS_ACCESS_KEY_ID"], "AWS_ACCESS_KEY_ID");
  const secretAccessKey = need(env["AWS_SECRET_ACCESS_KEY"], "AWS_SECRET_ACCESS_KEY");
  const sessionToken = env["AWS_SESSION_TOKEN"] || undefined;
  const endpoint = env["AWS_ENDPOINT_URL_SQS"] || env["AWS_ENDPOINT_URL"] || defaultSqsEndpoint(region);
  return createSqsClient({
    region,
    endpoint,
    credentials: sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey },
    traceId: () => currentTraceId(env),
  });
}

/**
 * The trace id of the invocation in progress, as the AWS SDK's recursion-detection middleware
 * finds it: Lambda counts a message's rounds through the same function and queue by it, and
 * stops a loop (recursive loop detection) only when SendMessage carries it. Outside Lambda: none.
 */
export function currentTraceId(env: Record<string, string | undefined> = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {}): string | undefined {
  if (!env["AWS_LAMBDA_FUNCTION_NAME"]) return undefined;
  const store = (globalThis as { awslambda?: { InvokeStore?: { getXRayTraceId?(): string | undefined } } }).awslambda?.InvokeStore;
  return store?.getXRayTraceId?.() || env["_X_AMZN_TRACE_ID"] || undefined;
}

function traceHeader(traceId: string | undefined): Record<string, string> {
  return traceId ? { "x-amzn-trace-id": traceId } : {};
}

export function sqsEndpoint(options: SqsClientOptions): string {
  // JSON-protocol calls always POST to the service root, whatever the queue.
  return new URL("/", options.endpoint ?? defaultSqsEndpoint(options.region)).toString();
}

/**
 * The most SQS requests one client has in flight; more wait their turn. As the AWS SDK's Node
 * handler does (maxSockets 50): a web handler that sends 1,000 messages at once would
 * otherwise open 1,000 connections (fetch opens one per request it cannot put on an idle
 * one), and the connections cost more than the calls.
 */
export const MAX_IN_FLIGHT = 50;

/** A queue of turns: at most `limit` holders at once, the others served in order. */
function turns(limit: number) {
  let held = 0;
  const waiting: (() => void)[] = [];
  return {
    async take(): Promise<void> {
      if (held < limit) {
        held++;
        return;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    },
    give(): void {
      const next = waiting.shift();
      if (next) next();
      else held--;
    },
  };
}

interface NodeHttp {
  Agent: new (options: { keepAlive: boolean; maxSockets: number }) => unknown;
  request(url: string, options: { method: string; headers: Record<string, string>; agent: unknown }, answer: (res: NodeAnswer) => void): { on(event: "error", listener: (error: Error) => void): void; end(body: string): void };
}
interface NodeAnswer {
  statusCode?: number;
  setEncoding(encoding: "utf8"): void;
  on(event: "data", listener: (chunk: string) => void): void;
  on(event: "end" | "close", listener: () => void): void;
  on(event: "error", listener: (error: Error) => void): void;
}

/**
 * A POST through Node's own http(s) with kept-alive connections, where the runtime hands it
 * over (Lambda, twelve dev): for many small calls it costs a third of what fetch does. The
 * bundle names no `node:` module; elsewhere fetch is used.
 */
function nodePoster(endpoint: string): ((headers: Record<string, string>, body: string) => Promise<{ ok: boolean; status: number; text: string }>) | undefined {
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process?.getBuiltinModule;
  const http = getBuiltin?.(endpoint.startsWith("https:") ? "node:https" : "node:http") as NodeHttp | undefined;
  if (!http) return undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  return (headers, body) =>
    new Promise((resolve, reject) => {
      const request = http.request(endpoint, { method: "POST", headers: { ...headers, "content-length": String(new TextEncoder().encode(body).length) }, agent }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("error", reject);
        res.on("end", () => resolve({ ok: (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300, status: res.statusCode ?? 0, text }));
      });
      request.on("error", reject);
      request.end(body);
    });
}

export function sqsCaller(options: SqsClientOptions): SqsCall {
  const endpoint = sqsEndpoint(options);
  const doFetch = options.fetch ?? fetch;
  const post = options.fetch ? undefined : nodePoster(endpoint);
  const slots = turns(MAX_IN_FLIGHT);
  return async function call(action, input, queue) {
    await slots.take();
    try {
      return await callNow(action, input, queue);
    } finally {
      slots.give();
    }
  };
  async function callNow(action: string, input: Record<string, unknown>, queue: string): Promise<Record<string, unknown>> {
    const body = JSON.stringify(input);
    const signed = await signRequest({
      method: "POST",
      url: endpoint,
      headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": `AmazonSQS.${action}`, ...traceHeader(options.traceId?.()) },
      body,
      service: "sqs",
      region: options.region,
      credentials: options.credentials,
    });
    // fetch derives Host from the URL (same value that was signed); some
    // runtimes refuse an explicit one.
    delete signed["host"];
    let res: { ok: boolean; status: number };
    let text: string;
    try {
      if (post) ({ text, ...res } = await post(signed, body));
      else {
        const answer = await doFetch(endpoint, { method: "POST", headers: signed, body });
        res = answer;
        text = await answer.text();
      }
    } catch (err) {
      throw new Error(`SQS ${action} on ${queue} failed: ${(err as Error).message}`, { cause: err });
    }
    if (!res.ok) throw new Error(`SQS ${action} on ${queue} failed: ${describeError(res.status, text)}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }
}

export function createSqsClient(options: SqsClientOptions): SqsClient {
  const call = sqsCaller(options);
  return {
    endpoint: sqsEndpoint(options),

    async sendMessage(queueUrl, body, opts = {}) {
      const input: Record<string, unknown> = { QueueUrl: queueUrl, MessageBody: body };
      if (opts.delaySeconds !== undefined) input["DelaySeconds"] = opts.delaySeconds;
      if (opts.attributes && Object.keys(opts.attributes).length > 0) {
        input["MessageAttributes"] = Object.fromEntries(
          Object.entries(opts.attributes).map(([k, v]) => [k, { DataType: "String", StringValue: v }]),
        );
      }
      const out = await call("SendMessage", input, queueUrl);
      return { messageId: String(out["MessageId"]) };
    },

    async sendMessageBatch(queueUrl, entries) {
      if (entries.length > BATCH_MAX) throw new Error(`SQS SendMessageBatch on ${queueUrl}: ${entries.length} entries; SQS takes at most ${BATCH_MAX} a call`);
      const out = await call(
        "SendMessageBatch",
        {
          QueueUrl: queueUrl,
          Entries: entries.map((e) => ({
            Id: e.id,
            MessageBody: e.body,
            ...(e.delaySeconds !== undefined ? { DelaySeconds: e.delaySeconds } : {}),
            ...(e.attributes && Object.keys(e.attributes).length > 0 ? { MessageAttributes: messageAttributes(e.attributes) } : {}),
          })),
        },
        queueUrl,
      );
      const failed = (out["Failed"] as { Id?: string; Code?: string; Message?: string; SenderFault?: boolean }[] | undefined) ?? [];
      return failed.map((f) => ({ id: String(f.Id), code: String(f.Code ?? "Unknown"), message: f.Message, senderFault: f.SenderFault === true }));
    },

    async changeMessageVisibilityBatch(queueUrl, entries) {
      const failures: string[] = [];
      // Every chunk is sent even if an earlier one had failures, so one bad
      // receipt handle does not leave the other messages at the old timeout.
      for (let i = 0; i < entries.length; i += BATCH_MAX) {
        const chunk = entries.slice(i, i + BATCH_MAX);
        const out = await call(
          "ChangeMessageVisibilityBatch",
          {
            QueueUrl: queueUrl,
            Entries: chunk.map((e) => ({ Id: e.id, ReceiptHandle: e.receiptHandle, VisibilityTimeout: e.visibilityTimeout })),
          },
          queueUrl,
        );
        const failed = (out["Failed"] as { Id?: string; Code?: string; Message?: string }[] | undefined) ?? [];
        for (const f of failed) failures.push(`${f.Id}: ${f.Code}${f.Message ? ` (${f.Message})` : ""}`);
      }
      if (failures.length > 0) {
        throw new Error(`SQS ChangeMessageVisibilityBatch on ${queueUrl}: ${failures.length} entries failed: ${failures.join("; ")}`);
      }
    },
  };
}

function messageAttributes(attributes: Record<string, string>): Record<string, { DataType: string; StringValue: string }> {
  return Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: "String", StringValue: v }]));
}

function describeError(status: number, text: string): string {
  try {
    const parsed = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
    // "com.amazonaws.sqs#QueueDoesNotExist" -> "QueueDoesNotExist"
    const type = parsed.__type ? parsed.__type.slice(parsed.__type.indexOf("#") + 1) : `HTTP ${status}`;
    const message = parsed.message ?? parsed.Message;
    return message ? `${type}: ${message} (HTTP ${status})` : `${type} (HTTP ${status})`;
  } catch {
    return `HTTP ${status}: ${text.slice(0, 200)}`;
  }
}
