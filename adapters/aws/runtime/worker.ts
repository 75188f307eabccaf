import { createBatch, type IncomingMessage } from "../../../src/runtime/batch.ts";
import type { MessageBatch, ProcessMeta } from "../../../src/runtime/types.ts";
import { requireHandler } from "../../../src/runtime/module.ts";
import { lambdaExecutionContext, processEnv } from "./context.ts";
import type { LambdaContext, SqsBatchResponse, SqsEvent, SqsRecord } from "./events.ts";
import { CONTENT_TYPE_ATTRIBUTE, JSON_CONTENT_TYPE, installSqsTransport, sqs } from "./send.ts";
import { defaultSqsEndpoint } from "./sqs.ts";

/**
 * The Lambda handler of a worker process: an SQS batch becomes a MessageBatch, and the
 * messages that were retried (or not acknowledged when queue() threw) come back as
 * batchItemFailures, so SQS redelivers exactly those (ReportBatchItemFailures).
 */
export function workerHandler(mod: unknown, meta: ProcessMeta) {
  const worker = requireHandler(mod, "queue", meta) as unknown as {
    queue(batch: MessageBatch, env: unknown, ctx: unknown): unknown;
  };
  const env = processEnv(meta);
  installSqsTransport(meta);

  return async function handler(event: SqsEvent, _context?: LambdaContext): Promise<SqsBatchResponse> {
    const records = event?.Records;
    if (!Array.isArray(records)) throw new Error(`worker "${meta.process}": expected an SQS event with Records`);
    const byId = new Map(records.map((r) => [r.messageId, r]));
    const { batch, outcomes } = createBatch(queueNameOf(records[0]) ?? meta.process, records.map(toMessage));
    const { ctx, settle } = lambdaExecutionContext();

    let threw = false;
    try {
      await worker.queue(batch, env, ctx);
    } catch (error) {
      threw = true;
      console.error(`worker "${meta.process}": queue() threw; every message not acknowledged will be retried:`, error);
    }
    await settle();

    const retried = outcomes(threw).filter((o) => o.action === "retry");
    await delayRetries(retried.map((o) => ({ record: byId.get(o.id)!, delaySeconds: o.delaySeconds ?? 0 })));
    return { batchItemFailures: retried.map((o) => ({ itemIdentifier: o.id })) };
  };
}

function toMessage(record: SqsRecord): IncomingMessage {
  const isJson = record.messageAttributes?.[CONTENT_TYPE_ATTRIBUTE]?.stringValue === JSON_CONTENT_TYPE;
  let body: unknown = record.body;
  if (isJson) {
    try {
      body = JSON.parse(record.body);
    } catch {
      console.error(`message ${record.messageId}: marked as JSON but does not parse; delivering the raw text`);
    }
  }
  return {
    id: record.messageId,
    body,
    attempts: Number(record.attributes?.ApproximateReceiveCount ?? 1),
    timestamp: new Date(Number(record.attributes?.SentTimestamp ?? Date.now())),
  };
}

function queueNameOf(record: SqsRecord | undefined): string | undefined {
  return record?.eventSourceARN?.split(":").at(-1);
}

/**
 * A failed message would otherwise wait out the queue's whole visibility timeout (6x the
 * function timeout). Setting its visibility to the retry delay (0 by default) redelivers it
 * when the code asked, as on Cloudflare. If this call fails the message still retries, later.
 */
async function delayRetries(retries: { record: SqsRecord; delaySeconds: number }[]): Promise<void> {
  const byQueue = new Map<string, typeof retries>();
  for (const r of retries) {
    const url = queueUrlFromArn(r.record.eventSourceARN);
    byQueue.set(url, [...(byQueue.get(url) ?? []), r]);
  }
  await Promise.all(
    [...byQueue].map(async ([url, entries]) => {
      try {
        await sqs().changeMessageVisibilityBatch(
          url,
          entries.map((e, i) => ({ id: String(i), receiptHandle: e.record.receiptHandle, visibilityTimeout: e.delaySeconds })),
        );
      } catch (error) {
        console.error(`could not set the retry delay of ${entries.length} message(s); they retry after the queue's visibility timeout:`, error);
      }
    }),
  );
}

/** arn:PARTITION:sqs:REGION:ACCOUNT:NAME → the queue URL on the SQS endpoint in use. */
export function queueUrlFromArn(arn: string): string {
  const [, , , region = "", account, name] = arn.split(":");
  const endpoint = process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL ?? defaultSqsEndpoint(region);
  return `${endpoint.replace(/\/+$/, "")}/${account}/${name}`;
}
