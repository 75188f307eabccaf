import { chunkIndices, utf8Bytes } from "../../../src/runtime/chunks.ts";
import { installTransport, type BatchFailure } from "../../../src/runtime/send.ts";
import type { ProcessMeta } from "../../../src/runtime/types.ts";
import { queueBinding } from "../../../src/formation/names.ts";
import { MAX_MESSAGE_BYTES } from "../limits.ts";
import { sqsFromEnvironment, type SqsBatchEntry, type SqsClient } from "./sqs.ts";

/** Message attribute that tells twelve's worker wrapper the body is JSON it wrote. */
export const CONTENT_TYPE_ATTRIBUTE = "twelve-content-type";
export const JSON_CONTENT_TYPE = "application/json";

let client: SqsClient | undefined;
/** One client per container: credentials and endpoint do not change between invocations. */
export function sqs(): SqsClient {
  client ??= sqsFromEnvironment(process.env);
  return client;
}

/** The queue URL of a worker, which deploy puts in the function's environment. */
export function queueUrl(worker: string): string {
  const variable = queueBinding(worker);
  const url = process.env[variable];
  if (!url) throw new Error(`send("${worker}"): ${variable} is not set; this function was not deployed by twelve deploy, or may not send to "${worker}"`);
  return url;
}

export function installSqsTransport(meta: ProcessMeta): void {
  installTransport({
    workers: meta.workers,
    maxDelaySeconds: 900,
    async send(worker, text, options) {
      const bytes = new TextEncoder().encode(text).byteLength;
      if (bytes > MAX_MESSAGE_BYTES) throw new Error(`send("${worker}"): the body is ${bytes} bytes as JSON; SQS takes at most ${MAX_MESSAGE_BYTES}`);
      await sqs().sendMessage(queueUrl(worker), text, {
        delaySeconds: options.delaySeconds,
        attributes: { [CONTENT_TYPE_ATTRIBUTE]: JSON_CONTENT_TYPE },
      });
    },
    sendBatch: (worker, texts, options) => sendMessageBatches(sqs(), queueUrl(worker), worker, texts, options.delaySeconds),
  });
}

/** SendMessageBatch's limits: 10 entries a call, and the call's bodies and attributes together at most 1 MiB. */
const BATCH_ENTRIES = 10;
const ATTRIBUTE_BYTES = utf8Bytes(CONTENT_TYPE_ATTRIBUTE + "String" + JSON_CONTENT_TYPE);
/** Tries of one entry whose failure SQS says is not the sender's (throttling, an internal error). */
const TRIES = 3;

/**
 * sendBatch() on SQS: bodies split into SendMessageBatch calls, the calls in parallel. An entry
 * SQS failed through no fault of ours, or a call that failed whole (the network, a 5xx), is
 * sent again, up to 3 tries; what still fails is reported by its index in `texts`.
 */
export async function sendMessageBatches(client: SqsClient, url: string, worker: string, texts: readonly string[], delaySeconds: number | undefined): Promise<BatchFailure[]> {
  const sizes = texts.map((text) => utf8Bytes(text) + ATTRIBUTE_BYTES);
  sizes.forEach((bytes, index) => {
    if (bytes - ATTRIBUTE_BYTES > MAX_MESSAGE_BYTES) throw new Error(`sendBatch("${worker}"): bodies[${index}] is ${bytes - ATTRIBUTE_BYTES} bytes as JSON; SQS takes at most ${MAX_MESSAGE_BYTES}, nothing was sent`);
  });
  const entry = (index: number): SqsBatchEntry => ({
    id: String(index),
    body: texts[index]!,
    attributes: { [CONTENT_TYPE_ATTRIBUTE]: JSON_CONTENT_TYPE },
    ...(delaySeconds !== undefined ? { delaySeconds } : {}),
  });
  const calls = chunkIndices(sizes, BATCH_ENTRIES, MAX_MESSAGE_BYTES);
  const failures = await Promise.all(calls.map(async (indices) => {
    let pending = indices;
    let reported: BatchFailure[] = [];
    for (let attempt = 1; pending.length > 0 && attempt <= TRIES; attempt++) {
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      const last = attempt === TRIES;
      try {
        const failed = await client.sendMessageBatch(url, pending.map(entry));
        reported = reported.concat(failed.filter((f) => f.senderFault || last).map((f) => ({ index: Number(f.id), error: `${f.code}${f.message ? `: ${f.message}` : ""}` })));
        pending = failed.filter((f) => !f.senderFault && !last).map((f) => Number(f.id));
      } catch (error) {
        if (last) reported = reported.concat(pending.map((index) => ({ index, error: (error as Error).message })));
        if (last) pending = [];
      }
    }
    return reported;
  }));
  return failures.flat();
}
