import { createHash, createHmac } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Manifest } from "../../src/build/manifest.ts";
import { canonical } from "../../src/deploy/plan.ts";
import { deadLetterQueueName, queueName, resourceName } from "../../src/formation/names.ts";
import type { Formation } from "../../src/formation/types.ts";
import type { WranglerConfig } from "./wrangler.ts";

/**
 * Everything twelve creates on Cloudflare for one app and stage, as plain data: what `plan`
 * compares with what is deployed (read back through the API, same shape) and what `deploy`
 * applies. Pure but for reading the built wrangler.json files.
 */

export interface QueueResource {
  kind: "queue";
  name: string;
}

export interface WorkerResource {
  kind: "worker";
  name: string;
  /** The formation's process; not compared. */
  process: string;
  /** The built wrangler.json wrangler deploys from; not compared. */
  configPath: string;
  /**
   * Hash of what one upload carries: the bundle, its source map and the version's settings
   * (compatibility, vars, producer bindings). Kept in the script's tags; null when unknown.
   */
  code: string | null;
  /** Names of the Worker's secrets. */
  secretNames: string[];
  /** Keyed digest of the secrets' values (never the values): a rotated secret is set again. */
  secrets: string | null;
  /** UTC cron triggers. */
  crons: string[];
  /** Reachable at <name>.<subdomain>.workers.dev. */
  workersDev: boolean;
}

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

export type CloudflareResource = QueueResource | WorkerResource | ConsumerResource;

export interface CloudflareTarget {
  stage: string;
  /** Secrets' values, read from the deploying environment. */
  secrets: Record<string, string>;
  /** The key of the secrets' digest: only someone holding it can test a guess against the tag. */
  digestKey: string;
}

export const CODE_TAG = "twelve-hash:";
export const SECRETS_TAG = "twelve-secrets:";
export const appTag = (app: string) => `twelve-app:${app}`;
export const stageTag = (stage: string) => `twelve-stage:${stage}`;
export const processTag = (process: string) => `twelve-process:${process}`;

/** The tags twelve keeps on a Worker script: whose it is, and what it was deployed from. */
export function workerTags(app: string, stage: string, worker: WorkerResource): string[] {
  return [appTag(app), stageTag(stage), processTag(worker.process), `${CODE_TAG}${worker.code}`, `${SECRETS_TAG}${worker.secrets}`];
}

export function desiredResources(formation: Formation, manifest: Manifest, buildDir: string, target: CloudflareTarget): CloudflareResource[] {
  const { app } = formation;
  const { stage } = target;
  const resources: CloudflareResource[] = [];
  const secretNames = [...formation.secrets].sort();
  const secrets = secretsDigest(target.secrets, target.digestKey);

  for (const process of formation.processes) {
    if (process.type !== "worker") continue;
    resources.push({ kind: "queue", name: queueName(app, stage, process.name) }, { kind: "queue", name: deadLetterQueueName(app, stage, process.name) });
  }
  for (const built of manifest.processes) {
    const configPath = path.join(buildDir, built.artifacts.wrangler?.path ?? `${built.name}/wrangler.json`);
    const config = JSON.parse(fs.readFileSync(configPath, "utf8")) as WranglerConfig;
    resources.push({
      kind: "worker",
      name: resourceName(app, stage, built.name),
      process: built.name,
      configPath,
      code: codeHash(manifest, built.name, config),
      secretNames,
      secrets,
      crons: [...config.triggers.crons].sort(),
      workersDev: config.workers_dev,
    });
    for (const consumer of config.queues?.consumers ?? []) {
      resources.push({
        kind: "consumer",
        name: consumer.queue,
        script: config.name,
        batchSize: consumer.max_batch_size,
        maxRetries: consumer.max_retries,
        maxConcurrency: consumer.max_concurrency,
        deadLetterQueue: consumer.dead_letter_queue,
      });
    }
  }
  return resources;
}

/**
 * What one upload carries, hashed: the bundle and source map (by their sha256 in the manifest)
 * and the wrangler.json without what twelve sets through the API on its own (crons,
 * workers.dev, the consumer), so changing those alone uploads nothing.
 */
function codeHash(manifest: Manifest, processName: string, config: WranglerConfig): string {
  const built = manifest.processes.find((p) => p.name === processName);
  const { triggers: _triggers, workers_dev: _workersDev, queues, ...version } = config;
  const hash = createHash("sha256");
  for (const key of ["bundle", "sourcemap"]) hash.update(`${key}:${built?.artifacts[key]?.sha256 ?? ""}\n`);
  hash.update(canonical({ ...version, producers: queues?.producers ?? [] }));
  return hash.digest("hex").slice(0, 32);
}

function secretsDigest(values: Record<string, string>, key: string): string {
  const hmac = createHmac("sha256", key);
  for (const name of Object.keys(values).sort()) hmac.update(`${name}=${values[name]}\n`);
  return hmac.digest("hex").slice(0, 32);
}
