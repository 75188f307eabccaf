import type { CloudflareApi } from "./api.ts";
import { appTag, CODE_TAG, SECRETS_TAG, stageTag, type CloudflareResource, type ConsumerResource, type WorkerResource } from "./resources.ts";

/** What is deployed for an app and stage, in the resources' shape, plus the ids the API needs. */
export interface DeployedState {
  resources: CloudflareResource[];
  /** Queue ids by name. */
  queueIds: Record<string, string>;
  /** Consumer ids by queue name (the Worker consumer; one per queue). */
  consumerIds: Record<string, string>;
  /** When each Worker last changed, by name. */
  modifiedOn: Record<string, string>;
  /** Each Worker's tags as found, by name: tags that are not twelve's are kept. */
  tags: Record<string, string[]>;
}

/** The queue that holds a stage's deploy lock: a double hyphen no process name can make. */
export const lockQueueName = (app: string, stage: string) => `${app}-${stage}--lock`;

interface ScriptView {
  id: string;
  tags?: string[];
  modified_on?: string;
}

/**
 * What is deployed on Cloudflare for an app and stage: the Workers named `<app>-<stage>-*`
 * and tagged as the app's, with their crons, workers.dev flag and secret names; the queues
 * named `<app>-<stage>-*` that no other Worker uses, and their Worker consumers. A script of a name the formation wants
 * but without twelve's tags (a deploy cut between upload and tagging) reads as deployed with
 * unknown code, so the next deploy uploads and tags it. Reads run in parallel.
 */
export async function readDeployed(api: CloudflareApi, app: string, stage: string, wantedWorkers: string[] = []): Promise<DeployedState> {
  const prefix = `${app}-${stage}-`;
  const [scripts, queues] = await Promise.all([api.get<ScriptView[]>("/workers/scripts"), listQueues(api)]);
  const isOurs = (s: ScriptView) => {
    const tags = s.tags ?? [];
    if (!s.id.startsWith(prefix)) return false;
    if (tags.includes(appTag(app)) && tags.includes(stageTag(stage))) return true;
    return wantedWorkers.includes(s.id) && !tags.some((t) => t.startsWith("twelve-app:"));
  };
  const ours = scripts.filter(isOurs);
  const workers = await Promise.all(
    ours.map(async (s): Promise<WorkerResource> => {
      const [schedules, subdomain, secrets] = await Promise.all([
        api.get<{ schedules: { cron: string }[] }>(`/workers/scripts/${s.id}/schedules`),
        api.get<{ enabled: boolean }>(`/workers/scripts/${s.id}/subdomain`),
        api.get<{ name: string }[]>(`/workers/scripts/${s.id}/secrets`),
      ]);
      const tag = (prefix: string) => (s.tags ?? []).find((t) => t.startsWith(prefix))?.slice(prefix.length) ?? null;
      return {
        kind: "worker",
        name: s.id,
        process: s.id.slice(prefix.length),
        configPath: "",
        code: tag(CODE_TAG),
        secretNames: secrets.map((x) => x.name).sort(),
        secrets: tag(SECRETS_TAG),
        crons: schedules.schedules.map((c) => c.cron).sort(),
        workersDev: subdomain.enabled,
      };
    }),
  );
  const lock = lockQueueName(app, stage);
  // Queues carry no tags: one named like ours belongs to someone else (another app whose name
  // starts with "<app>-<stage>-") when a Worker that is not ours consumes or produces to it.
  const tagsOf = new Map(scripts.map((s) => [s.id, s.tags ?? []]));
  const foreign = (script: string) => {
    const tags = tagsOf.get(script);
    if (!script.startsWith(prefix)) return true;
    return tags !== undefined && tags.some((t) => t.startsWith("twelve-app:")) && !(tags.includes(appTag(app)) && tags.includes(stageTag(stage)));
  };
  const users = (q: QueueView) => [...(q.consumers ?? []).map(consumerScript), ...(q.producers ?? []).map((p) => p.script ?? "")].filter(Boolean);
  const mine = queues.filter((q) => q.queue_name.startsWith(prefix) && q.queue_name !== lock && !users(q).some(foreign));
  const consumers: ConsumerResource[] = [];
  const consumerIds: Record<string, string> = {};
  for (const q of mine) {
    const c = workerConsumer(q);
    if (!c) continue;
    consumerIds[q.queue_name] = c.consumer_id;
    consumers.push({
      kind: "consumer",
      name: q.queue_name,
      script: consumerScript(c),
      batchSize: c.settings?.batch_size ?? 10,
      maxRetries: c.settings?.max_retries ?? 3,
      maxConcurrency: c.settings?.max_concurrency ?? null,
      deadLetterQueue: c.dead_letter_queue || null,
    });
  }
  return {
    resources: [...mine.map((q) => ({ kind: "queue" as const, name: q.queue_name })), ...workers, ...consumers],
    queueIds: Object.fromEntries(queues.map((q) => [q.queue_name, q.queue_id])),
    consumerIds,
    modifiedOn: Object.fromEntries(ours.map((s) => [s.id, s.modified_on ?? ""])),
    tags: Object.fromEntries(ours.map((s) => [s.id, s.tags ?? []])),
  };
}

/**
 * Messages waiting in a queue, from the queue's metrics (best effort on Cloudflare's side);
 * null when they cannot be read.
 */
export async function queueBacklog(api: CloudflareApi, queueId: string): Promise<number | null> {
  const metrics = await api.get<{ backlog_count?: number }>(`/queues/${queueId}/metrics`).catch(() => undefined);
  return typeof metrics?.backlog_count === "number" ? metrics.backlog_count : null;
}

export interface QueueView {
  queue_id: string;
  queue_name: string;
  created_on?: string;
  consumers?: { consumer_id: string; type?: string; script_name?: string; script?: string; dead_letter_queue?: string; settings?: { batch_size?: number; max_retries?: number; max_concurrency?: number | null } }[];
  producers?: { type?: string; script?: string }[];
}

type ConsumerView = NonNullable<QueueView["consumers"]>[number];

/** A queue's Worker consumer: a queue has at most one (an HTTP pull consumer may sit beside it). */
export function workerConsumer(queue: QueueView): ConsumerView | undefined {
  return (queue.consumers ?? []).find((c) => (c.type ?? "worker") === "worker");
}

/** The script a consumer runs: the API has named it both `script_name` and `script`. */
export function consumerScript(consumer: ConsumerView): string {
  return consumer.script_name ?? consumer.script ?? "";
}

/** The queue of that name, if the account has one. */
export async function findQueue(api: CloudflareApi, name: string): Promise<QueueView | undefined> {
  return (await listQueues(api)).find((q) => q.queue_name === name);
}

/** The account's workers.dev subdomain, if it has one (or it cannot be read). */
export async function accountSubdomain(api: CloudflareApi): Promise<string | undefined> {
  return (await api.get<{ subdomain: string }>("/workers/subdomain").catch(() => undefined))?.subdomain;
}

export async function listQueues(api: CloudflareApi): Promise<QueueView[]> {
  const all: QueueView[] = [];
  for (let page = 1; ; page++) {
    const batch = await api.get<QueueView[]>(`/queues?page=${page}&per_page=100`);
    all.push(...batch);
    if (batch.length < 100) return all;
  }
}
