import type { MiniflareWorkerConfig, WorkerOptions } from "miniflare";
import type { WranglerConfig } from "../../adapters/cloudflare/wrangler.ts";

/**
 * A Miniflare 5 Worker set up from the wrangler.json twelve built for it, as Cloudflare would
 * from its upload: the vars and these further text bindings (secrets, test settings), the queue
 * producers and consumers (batches flush at once so tests stay quick), the Durable Objects with
 * their SQLite storage, and the Cron Triggers.
 */
export function miniflareWorker(config: WranglerConfig, code: string, text: Record<string, string>): WorkerOptions {
  const env: NonNullable<MiniflareWorkerConfig["env"]> = {};
  for (const [name, value] of Object.entries({ ...config.vars, ...text })) env[name] = { type: "text", value };
  for (const p of config.queues?.producers ?? []) env[p.binding] = { type: "queue", name: p.queue };
  for (const b of config.durable_objects?.bindings ?? []) env[b.name] = { type: "durable-object", worker: config.name, exportName: b.class_name };
  const exports: NonNullable<MiniflareWorkerConfig["exports"]> = {};
  for (const m of config.migrations ?? []) for (const c of m.new_sqlite_classes) exports[c] = { type: "durable-object", storage: "sqlite" };
  const triggers: MiniflareWorkerConfig["triggers"] = [
    ...(config.queues?.consumers ?? []).map((c) => ({
      type: "queue" as const,
      name: c.queue,
      maxBatchSize: c.max_batch_size,
      maxBatchTimeout: 0,
      maxRetries: c.max_retries,
      deadLetterQueue: c.dead_letter_queue,
      maxConcurrency: c.max_concurrency,
    })),
    ...config.triggers.crons.map((schedule) => ({ type: "scheduled" as const, schedule })),
  ];
  return {
    config: {
      name: config.name,
      compatibilityDate: config.compatibility_date,
      compatibilityFlags: config.compatibility_flags,
      manifest: { mainModule: config.main, modules: { [config.main]: { type: "esm", contents: code } } },
      env,
      exports,
      triggers,
    },
  };
}
