import { queueBinding } from "../../../src/formation/names.ts";
import { chunkIndices, utf8Bytes } from "../../../src/runtime/chunks.ts";
import { installTransport, type BatchFailure } from "../../../src/runtime/send.ts";
import type { ProcessMeta } from "../../../src/runtime/types.ts";
import { MAX_DELAY_SECONDS, MAX_MESSAGE_BYTES } from "../limits.ts";

interface QueueProducer {
  send(body: unknown, options?: { delaySeconds?: number; contentType?: string }): Promise<void>;
  sendBatch(messages: { body: unknown; contentType?: string; delaySeconds?: number }[], options?: { delaySeconds?: number }): Promise<void>;
}

/** Queues' sendBatch() limits: 100 messages a call, 256 KB in all (https://developers.cloudflare.com/queues/platform/limits/). */
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 256 * 1000;

/**
 * Under `twelve dev` this Fetcher takes every message into its durable broker. (Duck-typing the
 * producer would not do: a Fetcher answers any property, `send` included, as an RPC stub.)
 */
export const DEV_BROKER_BINDING = "TWELVE_DEV_BROKER";


type DevBroker = { fetch(url: string, init: RequestInit): Promise<Response> };

/** send() calls under twelve dev made in the same turn, per worker and delay: one call into the broker. */
const waiting = new Map<string, { text: string; resolve(): void; reject(error: Error): void }[]>();

/**
 * One send() under twelve dev: each call into twelve dev's broker crosses from workerd to Node
 * and back, so the sends a handler makes together (`Promise.all(items.map(...))`) go in one
 * call, in their order; a body the broker refuses rejects only its own send(). Together means
 * within the same run of promise jobs: a Worker may not settle another request's promises
 * (workerd cancels that request as hung), and one run of jobs belongs to one request.
 */
function devSend(broker: DevBroker, worker: string, text: string, delaySeconds: number | undefined): Promise<void> {
  const key = `${worker}\n${delaySeconds ?? ""}`;
  return new Promise<void>((resolve, reject) => {
    const group = waiting.get(key);
    if (group) return void group.push({ text, resolve, reject });
    waiting.set(key, [{ text, resolve, reject }]);
    // Flushed once a promise job finds that no send joined since the one before it.
    let seen = 0;
    const settle = () => {
      const count = waiting.get(key)?.length ?? 0;
      if (count !== seen) return void ((seen = count), queueMicrotask(settle));
      flush();
    };
    queueMicrotask(settle);
    const flush = () => {
      const sends = waiting.get(key) ?? [];
      waiting.delete(key);
      devSendBatch(broker, `send("${worker}")`, worker, sends.map((x) => x.text), delaySeconds).then((failures) => {
        const failed = new Map(failures.map((f) => [f.index, f.error]));
        sends.forEach((x, index) => {
          const error = failed.get(index);
          if (error === undefined) x.resolve();
          else x.reject(new Error(`send("${worker}"): ${error}`));
        });
      }).catch((error: Error) => {
        for (const x of sends) x.reject(error);
      });
    };
  });
}

/** Bodies (JSON texts) into twelve dev's broker in one call, in their order: the ones it refused, by index. */
async function devSendBatch(broker: DevBroker, call: string, worker: string, texts: readonly string[], delaySeconds: number | undefined): Promise<BatchFailure[]> {
  const request = `{"worker":${JSON.stringify(worker)},"bodies":[${texts.join(",")}]${delaySeconds !== undefined ? `,"delaySeconds":${delaySeconds}` : ""}}`;
  const response = await broker.fetch("http://twelve-dev/send-batch", { method: "POST", body: request });
  if (!response.ok) throw new Error(`${call}: ${await response.text()}`);
  return ((await response.json()) as { failures: BatchFailure[] }).failures;
}

/**
 * send() through the queue producer bindings of the Worker's env. Bindings are the same for
 * every invocation of an isolate, so the env of the latest invocation serves all of them.
 */
export function installQueueTransport(meta: ProcessMeta): (env: Record<string, unknown>) => void {
  let current: Record<string, unknown> = {};
  installTransport({
    workers: meta.workers,
    maxDelaySeconds: MAX_DELAY_SECONDS,
    async send(worker, text, options) {
      const binding = queueBinding(worker);
      const producer = current[binding] as QueueProducer | undefined;
      const devBroker = current[DEV_BROKER_BINDING] as DevBroker | undefined;
      if (text.length > MAX_MESSAGE_BYTES / 4 && new TextEncoder().encode(text).byteLength > MAX_MESSAGE_BYTES) {
        throw new Error(`send("${worker}"): the body is over ${MAX_MESSAGE_BYTES} bytes as JSON, the most a Cloudflare queue message may hold`);
      }
      if (devBroker) {
        await devSend(devBroker, worker, text, options.delaySeconds);
      } else if (producer && typeof producer.send === "function") {
        // The body as JSON made it, as the worker gets it on AWS too (a Date as its string).
        await producer.send(JSON.parse(text), { contentType: "json", ...(options.delaySeconds !== undefined ? { delaySeconds: options.delaySeconds } : {}) });
      } else {
        throw new Error(`send("${worker}"): this Worker has no ${binding} queue binding; redeploy with twelve deploy so it may send to "${worker}"`);
      }
    },
    async sendBatch(worker, texts, options) {
      const binding = queueBinding(worker);
      const producer = current[binding] as QueueProducer | undefined;
      const devBroker = current[DEV_BROKER_BINDING] as DevBroker | undefined;
      const sizes = texts.map(utf8Bytes);
      sizes.forEach((bytes, index) => {
        if (bytes > MAX_MESSAGE_BYTES) throw new Error(`sendBatch("${worker}"): bodies[${index}] is ${bytes} bytes as JSON; a Cloudflare queue message holds at most ${MAX_MESSAGE_BYTES}, nothing was sent`);
      });
      const delay = options.delaySeconds !== undefined ? { delaySeconds: options.delaySeconds } : {};
      if (devBroker) return devSendBatch(devBroker, `sendBatch("${worker}")`, worker, texts, options.delaySeconds);
      if (!producer || typeof producer.sendBatch !== "function") {
        throw new Error(`sendBatch("${worker}"): this Worker has no ${binding} queue binding; redeploy with twelve deploy so it may send to "${worker}"`);
      }
      // A call is taken or refused whole: a refused call's bodies are all reported.
      const calls = chunkIndices(sizes, BATCH_MESSAGES, BATCH_BYTES);
      const results = await Promise.all(calls.map(async (indices): Promise<BatchFailure[]> => {
        try {
          await producer.sendBatch(indices.map((i) => ({ body: JSON.parse(texts[i]!), contentType: "json" })), delay);
          return [];
        } catch (error) {
          return indices.map((index) => ({ index, error: (error as Error)?.message ?? String(error) }));
        }
      }));
      return results.flat();
    },
  });
  return (env) => {
    current = env;
  };
}
