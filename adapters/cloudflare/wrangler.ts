import { parseCrontab } from "../../src/formation/crontab.ts";
import { deadLetterQueueName, queueBinding, queueName, resourceName } from "../../src/formation/names.ts";
import type { Formation, Process } from "../../src/formation/types.ts";
import { DEAD_LETTER_BINDING } from "./runtime/worker.ts";
import { utcCrons } from "./schedule.ts";

/** The parts of wrangler's config twelve writes. */
export interface WranglerConfig {
  name: string;
  main: string;
  no_bundle: true;
  compatibility_date: string;
  compatibility_flags: string[];
  workers_dev: boolean;
  preview_urls: false;
  upload_source_maps: true;
  observability: { enabled: true };
  vars: Record<string, string>;
  queues?: {
    producers?: { binding: string; queue: string }[];
    consumers?: {
      queue: string;
      max_batch_size: number;
      max_retries: number;
      max_concurrency: number;
      dead_letter_queue: string;
    }[];
  };
  triggers: { crons: string[] };
}

/**
 * One wrangler.json per process, next to its bundle: the Worker `<app>-<stage>-<process>`,
 * uploaded as built (no_bundle), with producers for the queues it sends to, the consumer
 * settings of a worker, and the UTC crons of a clock.
 */
export function wranglerConfig(formation: Formation, process: Process, stage: string, sends: string[], main: string): WranglerConfig {
  const { app } = formation;
  const producers = sends.map((worker) => ({ binding: queueBinding(worker), queue: queueName(app, stage, worker) }));
  // A worker moves a message that fails for good to its dead-letter queue itself, with the error (runtime/worker.ts).
  if (process.type === "worker") producers.push({ binding: DEAD_LETTER_BINDING, queue: deadLetterQueueName(app, stage, process.name) });
  const consumers =
    process.type === "worker"
      ? [{
          queue: queueName(app, stage, process.name),
          max_batch_size: process.batchSize,
          max_retries: process.maxRetries,
          max_concurrency: process.concurrency,
          dead_letter_queue: deadLetterQueueName(app, stage, process.name),
        }]
      : [];
  return {
    name: resourceName(app, stage, process.name),
    main,
    no_bundle: true,
    compatibility_date: formation.cloudflare.compatibilityDate,
    compatibility_flags: formation.cloudflare.compatibilityFlags,
    // Only web processes answer on workers.dev; workers and clocks have no public URL.
    workers_dev: process.type === "web",
    preview_urls: false,
    upload_source_maps: true,
    observability: { enabled: true },
    vars: { ...process.env },
    ...(producers.length || consumers.length
      ? { queues: { ...(producers.length ? { producers } : {}), ...(consumers.length ? { consumers } : {}) } }
      : {}),
    triggers: { crons: process.type === "clock" ? utcCrons(parseCrontab(process.schedule), process.timezone) : [] },
  };
}
