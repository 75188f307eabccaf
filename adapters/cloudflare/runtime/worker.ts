import { requireHandler } from "../../../src/runtime/module.ts";
import type { MessageBatch, ProcessMeta } from "../../../src/runtime/types.ts";
import { installQueueTransport } from "./send.ts";

/** A worker process on Workers: Cloudflare's MessageBatch is already twelve's shape. */
export function queueWorker(mod: unknown, meta: ProcessMeta) {
  const worker = requireHandler(mod, "queue", meta) as unknown as {
    queue(batch: MessageBatch, env: Record<string, unknown>, ctx: unknown): unknown;
  };
  const bind = installQueueTransport(meta);
  return {
    async queue(batch: MessageBatch, env: Record<string, unknown>, ctx: unknown) {
      bind(env);
      await worker.queue(batch, env, ctx);
    },
  };
}
