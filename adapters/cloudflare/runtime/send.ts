import { queueBinding } from "../../../src/formation/names.ts";
import { installTransport } from "../../../src/runtime/send.ts";
import type { ProcessMeta } from "../../../src/runtime/types.ts";

interface QueueProducer {
  send(body: unknown, options?: { delaySeconds?: number; contentType?: string }): Promise<void>;
}

/** Cloudflare Queues take messages up to 128 KB. */
const MAX_BODY_BYTES = 128 * 1000;

/**
 * send() through the queue producer bindings of the Worker's env. Bindings are the same for
 * every invocation of an isolate, so the env of the latest invocation serves all of them.
 */
export function installQueueTransport(meta: ProcessMeta): (env: Record<string, unknown>) => void {
  let current: Record<string, unknown> = {};
  installTransport({
    workers: meta.workers,
    maxDelaySeconds: 43200,
    async send(worker, body, options) {
      const binding = queueBinding(worker);
      const producer = current[binding] as QueueProducer | undefined;
      if (!producer || typeof producer.send !== "function") {
        throw new Error(`send("${worker}"): this Worker has no ${binding} queue binding; redeploy with twelve deploy so it may send to "${worker}"`);
      }
      const text = JSON.stringify(body);
      if (text.length > MAX_BODY_BYTES / 4 && new TextEncoder().encode(text).byteLength > MAX_BODY_BYTES) {
        throw new Error(`send("${worker}"): the body is over ${MAX_BODY_BYTES} bytes as JSON, the most a Cloudflare queue message may hold`);
      }
      await producer.send(body, { contentType: "json", ...(options.delaySeconds !== undefined ? { delaySeconds: options.delaySeconds } : {}) });
    },
  });
  return (env) => {
    current = env;
  };
}
