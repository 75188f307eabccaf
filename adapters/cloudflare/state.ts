import type { CloudflareApi } from "./api.ts";

/** A Worker as deployed, in the terms twelve compares. */
export interface DeployedWorker {
  kind: "worker";
  name: string;
  /** twelve's content hash of the bundle and its wrangler.json, kept in the script's tags. */
  contentHash: string | undefined;
  tags: string[];
  workersDev: boolean;
  crons: string[];
  secrets: string[];
}

export interface DeployedQueue {
  kind: "queue";
  name: string;
  id: string;
  consumers: { id: string; script: string | undefined; batchSize: number | undefined; maxRetries: number | undefined; maxConcurrency: number | null | undefined; deadLetterQueue: string | undefined }[];
}

export const HASH_TAG = "twelve-hash:";
export const appTag = (app: string) => `twelve-app:${app}`;
export const stageTag = (stage: string) => `twelve-stage:${stage}`;

/**
 * What is deployed on Cloudflare for an app and stage: the Workers named `<app>-<stage>-*` and
 * tagged as the app's, with their crons, workers.dev flag and secret names, and the queues
 * named `<app>-<stage>-*` with their consumers. Reads run in parallel.
 */
export async function readDeployedWorkers(api: CloudflareApi, app: string, stage: string): Promise<{ workers: DeployedWorker[]; queues: DeployedQueue[] }> {
  const prefix = `${app}-${stage}-`;
  const [scripts, queues] = await Promise.all([
    api.get<{ id: string; tags?: string[] }[]>("/workers/scripts"),
    listQueues(api),
  ]);
  const ours = scripts.filter((s) => s.id.startsWith(prefix) && (s.tags ?? []).includes(appTag(app)) && (s.tags ?? []).includes(stageTag(stage)));
  const workers = await Promise.all(
    ours.map(async (s): Promise<DeployedWorker> => {
      const [schedules, subdomain, secrets] = await Promise.all([
        api.get<{ schedules: { cron: string }[] }>(`/workers/scripts/${s.id}/schedules`),
        api.get<{ enabled: boolean }>(`/workers/scripts/${s.id}/subdomain`),
        api.get<{ name: string }[]>(`/workers/scripts/${s.id}/secrets`),
      ]);
      const tags = s.tags ?? [];
      return {
        kind: "worker",
        name: s.id,
        contentHash: tags.find((t) => t.startsWith(HASH_TAG))?.slice(HASH_TAG.length),
        tags,
        workersDev: subdomain.enabled,
        crons: schedules.schedules.map((c) => c.cron),
        secrets: secrets.map((x) => x.name).sort(),
      };
    }),
  );
  return {
    workers,
    queues: queues
      .filter((q) => q.queue_name.startsWith(prefix))
      .map((q) => ({
        kind: "queue",
        name: q.queue_name,
        id: q.queue_id,
        consumers: (q.consumers ?? []).map((c) => ({
          id: c.consumer_id,
          script: c.script_name ?? c.script,
          batchSize: c.settings?.batch_size,
          maxRetries: c.settings?.max_retries,
          maxConcurrency: c.settings?.max_concurrency,
          deadLetterQueue: c.dead_letter_queue,
        })),
      })),
  };
}

interface QueueView {
  queue_id: string;
  queue_name: string;
  consumers?: { consumer_id: string; script_name?: string; script?: string; dead_letter_queue?: string; settings?: { batch_size?: number; max_retries?: number; max_concurrency?: number | null } }[];
}

async function listQueues(api: CloudflareApi): Promise<QueueView[]> {
  const all: QueueView[] = [];
  for (let page = 1; ; page++) {
    const batch = await api.get<QueueView[]>(`/queues?page=${page}&per_page=100`);
    all.push(...batch);
    if (batch.length < 100) return all;
  }
}
