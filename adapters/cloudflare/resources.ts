import fs from "node:fs";
import path from "node:path";
import type { Manifest } from "../../src/build/manifest.ts";
import type { Step } from "../../src/deploy/apply.ts";
import { whyKept, type Change, type PlanOptions } from "../../src/deploy/plan.ts";
import type { Formation } from "../../src/formation/types.ts";
import type { CloudflareApi } from "./client.ts";
import type { WranglerConfig } from "./wrangler.ts";
import { RUN_TOKEN_SECRET } from "./runtime/clock.ts";
import type { CloudflareContext, QueueView, ScriptView } from "./resources/common.ts";
import { applyConsumer, consumerRules, desiredConsumers, readConsumers, workerConsumer, type ConsumerResource } from "./resources/consumer.ts";
import { applyPullConsumer, desiredPullConsumers, pullConsumerRules, readPullConsumers, type PullConsumerResource } from "./resources/pull-consumer.ts";
import { applyQueue, desiredQueues, isDeadLetterQueue, listQueues, ownQueues, queueRules, type QueueResource } from "./resources/queue.ts";
import { applyWorker, desiredWorker, ownScripts, readWorkers, secretsDigest, uploads, workerRules, type WorkerResource } from "./resources/worker.ts";

/**
 * Everything twelve creates on Cloudflare for one app and stage, one module per kind of
 * resource (resources/*.ts). This file puts them together: what the formation asks for, one
 * read of the whole stage, and the order of the phases a deploy applies them in.
 */
export type CloudflareResource = QueueResource | WorkerResource | ConsumerResource | PullConsumerResource;
export type { ConsumerResource, PullConsumerResource, QueueResource, WorkerResource };

export interface CloudflareTarget {
  stage: string;
  /** Secrets' values, read from the deploying environment. */
  secrets: Record<string, string>;
  /** The account: it salts the secrets' digest (with the app and stage). */
  account: string;
}

/** What the formation asks for: pure but for reading the built wrangler.json files. */
export function desiredResources(formation: Formation, manifest: Manifest, buildDir: string, target: CloudflareTarget): CloudflareResource[] {
  const secretNames = [...formation.secrets].sort();
  const secrets = secretsDigest(target.secrets, `${target.account}:${formation.app}:${target.stage}`);
  // Each dead-letter queue's HTTP pull consumer: twelve dlq lists through it (dlq.ts).
  const resources: CloudflareResource[] = [...desiredQueues(formation, target.stage), ...desiredPullConsumers(formation, target.stage)];
  for (const built of manifest.processes) {
    const configPath = path.join(buildDir, built.artifacts.wrangler?.path ?? `${built.name}/wrangler.json`);
    const config = JSON.parse(fs.readFileSync(configPath, "utf8")) as WranglerConfig;
    // A clock also holds the stage's run token, a secret of twelve's own (resources/run-token.ts).
    const names = built.type === "clock" ? [...secretNames, RUN_TOKEN_SECRET].sort() : secretNames;
    resources.push(desiredWorker(manifest, built.name, configPath, config, names, secrets), ...desiredConsumers(config));
  }
  return resources;
}

export interface DeployedState {
  resources: CloudflareResource[];
  /** Queue ids by name, of every queue of the account (a lock's or a new one's included). */
  queueIds: Record<string, string>;
  /** Every Worker script of the account: a create checks whose a taken name is. */
  scripts: ScriptView[];
}

/**
 * What is deployed on Cloudflare for an app and stage, in the resources' shape: its Workers
 * with their crons, workers.dev flag and secret names; its queues, their Worker consumers and
 * the dead-letter queues' HTTP pull consumers. `wantedWorkers`: names the formation wants,
 * taken even untagged. Reads run in parallel.
 */
export async function readDeployed(api: CloudflareApi, app: string, stage: string, wantedWorkers: string[] = []): Promise<DeployedState> {
  const [scripts, queues] = await Promise.all([api.get<ScriptView[]>("/workers/scripts"), listQueues(api)]);
  const mine = ownQueues(queues, scripts, app, stage);
  const workers = await readWorkers(api, ownScripts(scripts, app, stage, wantedWorkers), `${app}-${stage}-`);
  return {
    resources: [...mine.map((q): QueueResource => ({ kind: "queue", name: q.queue_name, id: q.queue_id })), ...workers, ...readConsumers(mine), ...readPullConsumers(mine)],
    queueIds: Object.fromEntries(queues.map((q) => [q.queue_name, q.queue_id])),
    scripts,
  };
}

/** How each kind compares, and which deployed resources stay when they would go. */
export const cloudflarePlanRules: Pick<PlanOptions<CloudflareResource>, "rules" | "keep"> = {
  rules: { queue: queueRules, worker: workerRules, consumer: consumerRules, "pull-consumer": pullConsumerRules },
  // A queue still holding messages (per its metrics) is kept until --force.
  keep: (deployed) => (deployed.kind === "queue" ? whyKept(deployed.backlog) : undefined),
};

/** wrangler uploads at once: each is a Node process of its own, on machines with few cores. */
export const UPLOADS_AT_ONCE = 4;

/**
 * The order of a deploy, as phases: queues (a Worker may only bind or consume a queue that
 * exists); Workers whose code changed (`wrangler deploy`, a few at
 * once, with their secrets; then twelve's tags); the other Workers' settings through the API;
 * consumers (the dead-letter queues' HTTP pull consumers among them). Deletes run the other way
 * round: consumers, Workers, queues, dead-letter queues.
 */
export function cloudflareStep(ctx: CloudflareContext): (change: Change<CloudflareResource>) => Step {
  return (change) => {
    switch (change.kind) {
      case "queue":
        // Created together; deleted after the queues that name them as dead-letter queues.
        return { phase: change.action === "delete" && isDeadLetterQueue(change.resource) ? 0 : 1, run: () => applyQueue(ctx, change) };
      case "worker":
        return uploads(change) ? { phase: 2, limit: UPLOADS_AT_ONCE, timed: true, run: () => applyWorker(ctx, change) } : { phase: 3, run: () => applyWorker(ctx, change) };
      case "consumer":
        return { phase: 4, run: () => applyConsumer(ctx, change) };
      case "pull-consumer":
        return { phase: 4, run: () => applyPullConsumer(ctx, change) };
    }
  };
}

/** Worker consumers' ids by queue name, as the account has them now. */
export async function consumerIds(api: CloudflareApi): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const q of await listQueues(api)) {
    const c = workerConsumer(q);
    if (c?.consumer_id) ids[q.queue_name] = c.consumer_id;
  }
  return ids;
}

export type { QueueView };
