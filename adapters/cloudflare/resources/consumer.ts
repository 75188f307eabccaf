import { fieldRules, type Change } from "../../../src/deploy/plan.ts";
import type { WranglerConfig } from "../wrangler.ts";
import type { Body, ConsumerUpdateParams } from "../api-types.ts";
import { ignoreNotFound, type CloudflareContext, type ConsumerView, type QueueView } from "./common.ts";

/** A consumer's settings as a PUT or POST carries them. */
export type ConsumerBody = Body<ConsumerUpdateParams.MqWorkerConsumerRequest> & { script_name: string };

/** A queue's Worker consumer: its cap, batch size, retries and dead-letter queue. */
export interface ConsumerResource {
  kind: "consumer";
  /** The queue it consumes. */
  name: string;
  script: string;
  batchSize: number;
  maxRetries: number;
  maxConcurrency: number | null;
  deadLetterQueue: string | null;
}

export const consumerRules = fieldRules<ConsumerResource>({});

/** The consumer a worker's built wrangler.json asks for. */
export function desiredConsumers(config: WranglerConfig): ConsumerResource[] {
  return (config.queues?.consumers ?? []).map((consumer) => ({
    kind: "consumer",
    name: consumer.queue,
    script: config.name,
    batchSize: consumer.max_batch_size,
    maxRetries: consumer.max_retries,
    maxConcurrency: consumer.max_concurrency,
    deadLetterQueue: consumer.dead_letter_queue,
  }));
}

/** The Worker consumers of the stage's queues, in the resources' shape. */
export function readConsumers(queues: QueueView[]): ConsumerResource[] {
  return queues.flatMap((q): ConsumerResource[] => {
    const c = workerConsumer(q);
    if (!c || !q.queue_name) return [];
    return [{
      kind: "consumer",
      name: q.queue_name,
      script: consumerScript(c),
      batchSize: c.settings?.batch_size ?? 10,
      maxRetries: c.settings?.max_retries ?? 3,
      maxConcurrency: c.settings?.max_concurrency ?? null,
      deadLetterQueue: c.dead_letter_queue || null,
    }];
  });
}

type WorkerConsumerView = Extract<ConsumerView, { type?: "worker" }>;

/** A queue's Worker consumer: a queue has at most one (an HTTP pull consumer may sit beside it). */
export function workerConsumer(queue: QueueView): WorkerConsumerView | undefined {
  return (queue.consumers ?? []).find((c): c is WorkerConsumerView => (c.type ?? "worker") === "worker");
}

/** The script a consumer runs; an HTTP pull consumer runs none. */
export function consumerScript(consumer: ConsumerView): string {
  return "script_name" in consumer ? (consumer.script_name ?? "") : "";
}

/** The body of a consumer's PUT or POST: every setting, the cap among them. */
export function consumerBody(consumer: ConsumerResource): ConsumerBody {
  return {
    type: "worker",
    script_name: consumer.script,
    dead_letter_queue: consumer.deadLetterQueue ?? "",
    settings: { batch_size: consumer.batchSize, max_retries: consumer.maxRetries, ...(consumer.maxConcurrency === null ? {} : { max_concurrency: consumer.maxConcurrency }) },
  };
}

/**
 * wrangler sets the consumer of a Worker it uploads (from its wrangler.json); a consumer whose
 * Worker was not uploaded is set through the API.
 */
export async function applyConsumer(ctx: CloudflareContext, change: Change<ConsumerResource>): Promise<string | void> {
  const consumer = change.resource;
  const queue = ctx.queueIds[consumer.name];
  if (change.action === "delete") {
    const id = (await ctx.consumerIds())[consumer.name];
    if (queue && id) await ignoreNotFound(ctx.api.send("DELETE", `/queues/${queue}/consumers/${id}`));
    return;
  }
  if (ctx.uploaded.has(consumer.script)) return `${change.action === "create" ? "+" : "~"} consumer ${consumer.name} (set by wrangler with ${consumer.script})`;
  if (!queue) throw new Error(`queue ${consumer.name} does not exist`);
  const existing = (await ctx.consumerIds())[consumer.name];
  if (existing) await ctx.api.send("PUT", `/queues/${queue}/consumers/${existing}`, consumerBody(consumer));
  else await ctx.api.send("POST", `/queues/${queue}/consumers`, consumerBody(consumer));
}
