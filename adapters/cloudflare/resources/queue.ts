import { fieldRules, type Change } from "../../../src/deploy/plan.ts";
import { deadLetterQueueName, queueName } from "../../../src/formation/names.ts";
import type { Formation } from "../../../src/formation/types.ts";
import type { Body, QueueCreateParams, QueueMetricsView } from "../api-types.ts";
import { failure } from "../../../src/errors.ts";
import type { CloudflareApi } from "../client.ts";
import { ignoreNotFound, type CloudflareContext, type QueueView, type ScriptView } from "./common.ts";
import { queueOwnership, takenError } from "./ownership.ts";

/** A queue as listed, with the id and name the schema leaves optional and twelve needs. */
export type NamedQueue = QueueView & { queue_id: string; queue_name: string };

/** A Cloudflare Queue: a worker's, or its dead-letter queue. Queues carry no tags. */
export interface QueueResource {
  kind: "queue";
  name: string;
  /** Read back: the id the API needs. */
  id?: string;
  /** Read back for a queue that would go: messages waiting (null: unknown). */
  backlog?: number | null;
}

export const queueRules = fieldRules<QueueResource>({ ignore: ["id", "backlog"] });

export const isDeadLetterQueue = (queue: QueueResource) => queue.name.endsWith("-dlq");

/** The queue that holds a stage's deploy lock: a double hyphen no process name can make. */
export const lockQueueName = (app: string, stage: string) => `${app}-${stage}--lock`;

export function desiredQueues(formation: Formation, stage: string): QueueResource[] {
  return formation.processes.flatMap((p): QueueResource[] =>
    p.type === "worker" ? [{ kind: "queue", name: queueName(formation.app, stage, p.name) }, { kind: "queue", name: deadLetterQueueName(formation.app, stage, p.name) }] : [],
  );
}

/** The stage's queues, by resources/ownership.ts (its lock queue is not one). */
export function ownQueues(queues: NamedQueue[], scripts: ScriptView[], app: string, stage: string): NamedQueue[] {
  return queues.filter((q) => queueOwnership(q.queue_name, queues, scripts, { app, stage }).ours);
}

/**
 * Messages waiting in a queue, from the queue's metrics (best effort on Cloudflare's side);
 * null when they cannot be read.
 */
export async function queueBacklog(api: CloudflareApi, queueId: string): Promise<number | null> {
  const metrics = await api.get<QueueMetricsView>(`/queues/${queueId}/metrics`).catch(() => undefined);
  return typeof metrics?.backlog_count === "number" ? metrics.backlog_count : null;
}

/** Every queue of the account, however the API pages them. */
export async function listQueues(api: CloudflareApi): Promise<NamedQueue[]> {
  return (await api.getAll<QueueView>("/queues")).filter((q): q is NamedQueue => Boolean(q.queue_id && q.queue_name));
}

/** The queue of that name, if the account has one. */
export async function findQueue(api: CloudflareApi, name: string): Promise<NamedQueue | undefined> {
  return (await listQueues(api)).find((q) => q.queue_name === name);
}

export async function applyQueue(ctx: CloudflareContext, change: Change<QueueResource>): Promise<void> {
  const { api } = ctx;
  const name = change.resource.name;
  if (change.action === "delete") {
    const id = change.resource.id ?? ctx.queueIds[name];
    if (id) await ignoreNotFound(api.send("DELETE", `/queues/${id}`));
    return;
  }
  // A queue has no settings of its own to update: only its existence is planned.
  const created = await createQueue(api, name);
  if (created.existed) {
    // Not this stage's when it was read (else no create was planned): adopted only if it is now.
    const [queues, scripts] = await Promise.all([listQueues(api), api.get<ScriptView[]>("/workers/scripts")]);
    const owner = queueOwnership(name, queues, scripts, ctx);
    if (!owner.ours) throw takenError(ctx, "queue", name, owner.owner);
  }
  ctx.queueIds[name] = created.id;
}

/**
 * Creates a queue; `existed` when the name was taken. Which status and code Cloudflare answers
 * for a taken name is not documented, so a refused create reads the queues back to decide:
 * the queue is there (made meanwhile by another deploy, or by this one cut short), or the
 * error was about something else.
 */
export async function createQueue(api: CloudflareApi, name: string): Promise<{ id: string; existed: boolean; createdOn?: string }> {
  try {
    const created = await api.send<QueueView>("POST", "/queues", { queue_name: name } satisfies Body<QueueCreateParams>);
    if (!created.queue_id) throw failure(`Cloudflare created the queue ${name} but gave no queue_id`, "Run the command again.");
    return { id: created.queue_id, existed: false };
  } catch (error) {
    const found = await findQueue(api, name).catch(() => undefined);
    if (!found) throw error;
    return { id: found.queue_id, existed: true, ...(found.created_on ? { createdOn: found.created_on } : {}) };
  }
}
