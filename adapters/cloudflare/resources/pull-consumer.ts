import { fieldRules, type Change } from "../../../src/deploy/plan.ts";
import { deadLetterQueueName } from "../../../src/formation/names.ts";
import type { Formation } from "../../../src/formation/types.ts";
import type { Body, ConsumerCreateParams, ConsumerView } from "../api-types.ts";
import { ignoreNotFound, type CloudflareContext, type QueueView } from "./common.ts";

/**
 * The HTTP pull consumer of a worker's dead-letter queue `A-S-<worker>-dlq`. Nothing consumes
 * with it: `twelve dlq` pulls through it to list a queue past peek's first 100 messages, and
 * releases every lease when the listing ends (dlq.ts). A pull counts a delivery, and a message
 * whose deliveries reach `max_retries` is deleted when its lease ends unacked, so retries are
 * the most Cloudflare allows (developers.cloudflare.com/queues/platform/limits/: "Message
 * retries 100"), and no dead-letter queue of its own: dlq.ts sends a message at its last
 * delivery again before it would go. A queue has one consumer, a Worker's or an HTTP pull one;
 * nothing consumes a dead-letter queue but this.
 */
export interface PullConsumerResource {
  kind: "pull-consumer";
  /** The queue it pulls from. */
  name: string;
  batchSize: number;
  maxRetries: number;
  /** A pull's lease when the pull names none (dlq.ts always names its own). */
  visibilityTimeoutMs: number;
  /** Read back: the consumer's id. */
  id?: string;
}

/** Cloudflare's most: "Message retries: 100". */
export const PULL_MAX_RETRIES = 100;
/** The most one pull returns ("batch_size (defaults to 5; max 100)"). */
export const PULL_BATCH_SIZE = 100;
/** Fifteen minutes: what a listing of 10,000 dead letters needs with room to spare. */
export const PULL_VISIBILITY_TIMEOUT_MS = 15 * 60_000;

export const pullConsumerRules = fieldRules<PullConsumerResource>({ ignore: ["id"] });

/** One per worker, on its dead-letter queue. */
export function desiredPullConsumers(formation: Formation, stage: string): PullConsumerResource[] {
  return formation.processes.flatMap((p): PullConsumerResource[] =>
    p.type === "worker"
      ? [{ kind: "pull-consumer", name: deadLetterQueueName(formation.app, stage, p.name), batchSize: PULL_BATCH_SIZE, maxRetries: PULL_MAX_RETRIES, visibilityTimeoutMs: PULL_VISIBILITY_TIMEOUT_MS }]
      : [],
  );
}

type PullConsumerView = Extract<ConsumerView, { type?: "http_pull" }>;

/** A queue's HTTP pull consumer, if it has one. */
export function pullConsumer(queue: QueueView): PullConsumerView | undefined {
  return (queue.consumers ?? []).find((c): c is PullConsumerView => c.type === "http_pull");
}

/** The HTTP pull consumers of the stage's dead-letter queues (the stage's queues, by ownership.ts), in the resources' shape. */
export function readPullConsumers(queues: QueueView[]): PullConsumerResource[] {
  return queues.flatMap((q): PullConsumerResource[] => {
    const c = pullConsumer(q);
    if (!c || !q.queue_name?.endsWith("-dlq")) return [];
    return [{
      kind: "pull-consumer",
      name: q.queue_name,
      // The stand-in's and Cloudflare's defaults when a setting is not read back.
      batchSize: c.settings?.batch_size ?? 5,
      maxRetries: c.settings?.max_retries ?? 3,
      visibilityTimeoutMs: c.settings?.visibility_timeout_ms ?? 30_000,
      ...(c.consumer_id ? { id: c.consumer_id } : {}),
    }];
  });
}

export function pullConsumerBody(consumer: PullConsumerResource): Body<ConsumerCreateParams.MqHTTPConsumerRequest> {
  return { type: "http_pull", settings: { batch_size: consumer.batchSize, max_retries: consumer.maxRetries, visibility_timeout_ms: consumer.visibilityTimeoutMs } };
}

export async function applyPullConsumer(ctx: CloudflareContext, change: Change<PullConsumerResource>): Promise<void> {
  const queue = ctx.queueIds[change.name];
  if (change.action === "delete") {
    if (queue && change.resource.id) await ignoreNotFound(ctx.api.send("DELETE", `/queues/${queue}/consumers/${change.resource.id}`));
    return;
  }
  if (!queue) throw new Error(`queue ${change.name} does not exist`);
  const body = pullConsumerBody(change.resource);
  if (change.action === "update" && change.current.id) await ctx.api.send("PUT", `/queues/${queue}/consumers/${change.current.id}`, body);
  else await ctx.api.send("POST", `/queues/${queue}/consumers`, body);
}
