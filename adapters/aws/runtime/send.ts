import { chunkIndices, utf8Bytes } from "../../../src/runtime/chunks.ts";
import { installTransport, type BatchFailure } from "../../../src/runtime/send.ts";
import type { ProcessMeta } from "../../../src/runtime/types.ts";
import { queueBinding } from "../../../src/formation/names.ts";
import { MAX_MESSAGE_BYTES } from "../limits.ts";
import { currentTraceId, sqsFromEnvironment, type SqsBatchEntry, type SqsClient } from "./sqs.ts";

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
      await coalesced(worker, queueUrl(worker), text, options.delaySeconds);
    },
    sendBatch: (worker, texts, options) => sendMessageBatches(sqs(), queueUrl(worker), worker, texts, options.delaySeconds),
  });
}

interface WaitingSend {
  text: string;
  resolve(): void;
  reject(error: Error): void;
}

/** send() calls made in the same turn of the event loop, per queue, delay and trace: sent together. */
const waiting = new Map<string, WaitingSend[]>();

/**
 * One send(): sent with the others made in the same turn of the event loop to the same queue
 * (a handler's `Promise.all(items.map((i) => send(...)))`) as SendMessageBatch calls of up to
 * 10, and alone as SendMessage. A send waits no longer than the end of the current turn, and
 * a batch entry that fails rejects only its own send(). Grouped by the invocation's trace id as
 * well, and flushed from the first send's own turn, so each call carries its trace (Lambda's
 * recursive loop detection counts by it).
 */
function coalesced(worker: string, url: string, text: string, delaySeconds: number | undefined): Promise<void> {
  const trace = currentTraceId();
  const key = `${url}\n${delaySeconds ?? ""}\n${trace ?? ""}`;
  return new Promise<void>((resolve, reject) => {
    const group = waiting.get(key);
    if (group) return void group.push({ text, resolve, reject });
    waiting.set(key, [{ text, resolve, reject }]);
    afterThisTurn(() => {
      const sends = waiting.get(key) ?? [];
      waiting.delete(key);
      void flush(worker, url, delaySeconds, sends);
    });
  });
}

async function flush(worker: string, url: string, delaySeconds: number | undefined, sends: WaitingSend[]): Promise<void> {
  if (sends.length === 1) {
    const [only] = sends as [WaitingSend];
    return sqs()
      .sendMessage(url, only.text, { delaySeconds, attributes: { [CONTENT_TYPE_ATTRIBUTE]: JSON_CONTENT_TYPE } })
      .then(() => only.resolve(), (error: Error) => only.reject(error));
  }
  try {
    const failed = new Map((await sendMessageBatches(sqs(), url, worker, sends.map((s) => s.text), delaySeconds)).map((f) => [f.index, f.error]));
    sends.forEach((s, index) => {
      const error = failed.get(index);
      if (error === undefined) s.resolve();
      else s.reject(new Error(`send("${worker}"): SQS did not take the message (sent in a SendMessageBatch with ${sends.length - 1} others): ${error}`));
    });
  } catch (error) {
    for (const s of sends) s.reject(error as Error);
  }
}

/** Runs `task` once the current turn's callbacks and promise jobs are done (setImmediate in Node). */
function afterThisTurn(task: () => void): void {
  const immediate = (globalThis as { setImmediate?: (task: () => void) => unknown }).setImmediate;
  if (immediate) immediate(task);
  else setTimeout(task, 0);
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
