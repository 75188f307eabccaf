import { createBatch, type IncomingMessage } from "../../../src/runtime/batch.ts";
import { describeError, failureOf, type Failure } from "../../../src/runtime/failure.ts";
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

    let thrown: unknown;
    let threw = false;
    try {
      await worker.queue(batch, env, ctx);
    } catch (error) {
      threw = true;
      thrown = error;
      console.error(`worker "${meta.process}": queue() threw; every message not acknowledged will be retried:`, error);
    }
    await settle();

    const failed = outcomes(threw).filter((o) => o.action === "retry");
    const messages = new Map(batch.messages.map((m) => [m.id, m]));
    const why = (id: string): Failure => failureOf(messages.get(id)!) ?? (threw ? { error: describeError(thrown), final: false } : { error: "retried by the worker", final: false });
    // Under twelve dev its broker keeps the dead letters: it is told why each one failed.
    if (process.env.TWELVE_DEV) {
      return { batchItemFailures: failed.map((o) => ({ itemIdentifier: o.id })), twelveFailures: Object.fromEntries(failed.map((o) => [o.id, why(o.id)])) };
    }
    // Deployed: a message that fails for good goes to the dead-letter queue from here, with
    // its error, instead of by the queue's redrive policy, which would say nothing of why.
    const dead = failed.filter((o) => why(o.id).final || (messages.get(o.id)?.attempts ?? 0) > (meta.maxRetries ?? Number.POSITIVE_INFINITY));
    const moved = new Set(await moveToDeadLetters(dead.map((o) => ({ record: byId.get(o.id)!, attempts: messages.get(o.id)!.attempts, failure: why(o.id) }))));
    const retried = failed.filter((o) => !moved.has(o.id));
    await delayRetries(retried.map((o) => ({ record: byId.get(o.id)!, delaySeconds: o.delaySeconds ?? 0 })));
    return { batchItemFailures: retried.map((o) => ({ itemIdentifier: o.id })) };
  };
}

/** Message attributes of a dead letter the wrapper moved: why, after how many deliveries, and which message it was. */
export const DEAD_LETTER_ATTRIBUTES = { error: "twelve-error", attempts: "twelve-attempts", sentAt: "twelve-sent-at", messageId: "twelve-message-id" } as const;

/**
 * Sends each message to its queue's dead-letter queue (`<queue>-dlq`) with the error attached,
 * and returns the ids that made it: those are acknowledged (left out of batchItemFailures).
 * One that could not be sent is retried as usual, and the redrive policy moves it, without
 * its error: a message is never lost for the sake of its reason.
 */
async function moveToDeadLetters(dead: { record: SqsRecord; attempts: number; failure: Failure }[]): Promise<string[]> {
  const moved = await Promise.all(
    dead.map(async ({ record, attempts, failure }) => {
      try {
        const content = record.messageAttributes?.[CONTENT_TYPE_ATTRIBUTE]?.stringValue;
        await sqs().sendMessage(`${queueUrlFromArn(record.eventSourceARN)}-dlq`, record.body, {
          attributes: {
            ...(content ? { [CONTENT_TYPE_ATTRIBUTE]: content } : {}),
            [DEAD_LETTER_ATTRIBUTES.error]: failure.error || "(no message)",
            [DEAD_LETTER_ATTRIBUTES.attempts]: String(attempts),
            [DEAD_LETTER_ATTRIBUTES.sentAt]: String(record.attributes?.SentTimestamp ?? ""),
            [DEAD_LETTER_ATTRIBUTES.messageId]: record.messageId,
          },
        });
        console.error(`message ${record.messageId} is dead after ${attempts} deliveries (${failure.error}); moved to the dead-letter queue`);
        return record.messageId;
      } catch (error) {
        console.error(`message ${record.messageId} could not be moved to the dead-letter queue; the queue's redrive policy moves it instead:`, error);
        return undefined;
      }
    }),
  );
  return moved.filter((id): id is string => id !== undefined);
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
