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

export interface SqsVisibilityEntry {
  id: string;
  receiptHandle: string;
  visibilityTimeout: number;
}

export interface SqsClient {
  readonly endpoint: string;
  sendMessage(queueUrl: string, body: string, opts?: SqsSendOptions): Promise<{ messageId: string }>;
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
    traceId: () => lambdaTraceId(env),
  });
}

/**
 * The trace id of the invocation in progress, as the AWS SDK's recursion-detection middleware
 * finds it: Lambda counts a message's rounds through the same function and queue by it, and
 * stops a loop (recursive loop detection) only when SendMessage carries it. Outside Lambda: none.
 */
function lambdaTraceId(env: Record<string, string | undefined>): string | undefined {
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

export function sqsCaller(options: SqsClientOptions): SqsCall {
  const endpoint = sqsEndpoint(options);
  const doFetch = options.fetch ?? fetch;
  return async function call(action, input, queue) {
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
    let res: Response;
    try {
      res = await doFetch(endpoint, { method: "POST", headers: signed, body });
    } catch (err) {
      throw new Error(`SQS ${action} on ${queue} failed: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`SQS ${action} on ${queue} failed: ${describeError(res.status, text)}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
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
