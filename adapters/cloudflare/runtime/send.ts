import { queueBinding } from "../../../src/formation/names.ts";
import { installTransport } from "../../../src/runtime/send.ts";
import type { ProcessMeta } from "../../../src/runtime/types.ts";
import { MAX_DELAY_SECONDS, MAX_MESSAGE_BYTES } from "../limits.ts";

interface QueueProducer {
  send(body: unknown, options?: { delaySeconds?: number; contentType?: string }): Promise<void>;
}

/**
 * Under `twelve dev` this Fetcher takes every message into its durable broker. (Duck-typing the
 * producer would not do: a Fetcher answers any property, `send` included, as an RPC stub.)
 */
export const DEV_BROKER_BINDING = "TWELVE_DEV_BROKER";


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
      const devBroker = current[DEV_BROKER_BINDING] as { fetch(url: string, init: RequestInit): Promise<Response> } | undefined;
      if (text.length > MAX_MESSAGE_BYTES / 4 && new TextEncoder().encode(text).byteLength > MAX_MESSAGE_BYTES) {
        throw new Error(`send("${worker}"): the body is over ${MAX_MESSAGE_BYTES} bytes as JSON, the most a Cloudflare queue message may hold`);
      }
      if (devBroker) {
        const request = `{"worker":${JSON.stringify(worker)},"body":${text}${options.delaySeconds !== undefined ? `,"delaySeconds":${options.delaySeconds}` : ""}}`;
        const response = await devBroker.fetch("http://twelve-dev/send", { method: "POST", body: request });
        if (!response.ok) throw new Error(`send("${worker}"): ${await response.text()}`);
      } else if (producer && typeof producer.send === "function") {
        // The body as JSON made it, as the worker gets it on AWS too (a Date as its string).
        await producer.send(JSON.parse(text), { contentType: "json", ...(options.delaySeconds !== undefined ? { delaySeconds: options.delaySeconds } : {}) });
      } else {
        throw new Error(`send("${worker}"): this Worker has no ${binding} queue binding; redeploy with twelve deploy so it may send to "${worker}"`);
      }
    },
  });
  return (env) => {
    current = env;
  };
}
