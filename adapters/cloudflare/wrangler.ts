import { parseCrontab } from "../../src/formation/crontab.ts";
import { deadLetterQueueName, queueBinding, queueName, resourceName } from "../../src/formation/names.ts";
import type { Formation, Process } from "../../src/formation/types.ts";
import { LEASE_BINDING, LEASE_CLASS } from "./runtime/clock-lease.ts";
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
  /** Clocks: the Durable Object that holds the clock's lease and last run (runtime/clock-lease.ts). */
  durable_objects?: { bindings: { name: string; class_name: string }[] };
  migrations?: { tag: string; new_sqlite_classes: string[] }[];
  triggers: { crons: string[] };
}

/**
 * The lease's class is made once, SQLite-backed (what Cloudflare recommends for new classes, and
 * the only kind Workers Free has); wrangler sends this migration only to a Worker whose
 * migration tag is not yet this one.
 */
export const LEASE_MIGRATION = { tag: "twelve-lease-v1", new_sqlite_classes: [LEASE_CLASS] };

/**
 * Cloudflare counts Cron Triggers per account: "Number of Cron Triggers per account: 5 (Free),
 * 250 (Paid)" (developers.cloudflare.com/workers/platform/limits/). twelve cannot read the
 * account's plan nor the Cron Triggers of its other Workers, so a build says how many this stage
 * takes and warns past the lower number, before the account refuses them.
 */
export const CRON_TRIGGERS_FREE = 5;
export const CRON_TRIGGERS_PAID = 250;

export function cronTriggerNote(formation: Formation): string {
  const clocks = formation.processes.filter((p) => p.type === "clock");
  const each = clocks.map((p) => ({ name: p.name, crons: utcCrons(parseCrontab(p.schedule), p.timezone).length }));
  const total = each.reduce((sum, c) => sum + c.crons, 0);
  const list = each.map((c) => `${c.name} ${c.crons}`).join(", ");
  const counted = `this stage's clocks take ${total} Cron Trigger${total === 1 ? "" : "s"} (${list})`;
  const limits = `Cloudflare allows ${CRON_TRIGGERS_FREE} per account on Workers Free and ${CRON_TRIGGERS_PAID} on Workers Paid, counting every Worker and stage of the account`;
  if (total > CRON_TRIGGERS_PAID) return `warning: ${counted}, more than the ${CRON_TRIGGERS_PAID} of Workers Paid: ${limits}; the deploy will be refused`;
  if (total > CRON_TRIGGERS_FREE) return `warning: ${counted}, more than the ${CRON_TRIGGERS_FREE} of Workers Free: ${limits}; on Free the deploy will be refused`;
  return `${counted}; ${limits}`;
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
    // Web processes answer on workers.dev; a clock too, but only its two routes, to the stage's
    // run token (runtime/clock.ts): twelve run and ps reach it there. Workers have no URL.
    workers_dev: process.type !== "worker",
    preview_urls: false,
    upload_source_maps: true,
    observability: { enabled: true },
    vars: { ...process.env },
    ...(producers.length || consumers.length
      ? { queues: { ...(producers.length ? { producers } : {}), ...(consumers.length ? { consumers } : {}) } }
      : {}),
    ...(process.type === "clock" ? { durable_objects: { bindings: [{ name: LEASE_BINDING, class_name: LEASE_CLASS }] }, migrations: [LEASE_MIGRATION] } : {}),
    triggers: { crons: process.type === "clock" ? utcCrons(parseCrontab(process.schedule), process.timezone) : [] },
  };
}
