import { failure } from "../../src/errors.ts";
import { toApply, type Change, type Plan } from "../../src/deploy/plan.ts";
import type { CloudflareApi } from "./api.ts";
import { workerTags, type CloudflareResource, type ConsumerResource, type WorkerResource } from "./resources.ts";
import { findQueue, listQueues, workerConsumer, type DeployedState } from "./state.ts";
import { wranglerDeploy, wranglerError } from "./wrangler-cli.ts";

export interface ApplyContext {
  api: CloudflareApi;
  app: string;
  stage: string;
  /** Secrets' values by name, from the deploying environment. */
  secrets: Record<string, string>;
  /** The environment wrangler runs in: the deploying one, with the token and account set. */
  wranglerEnv: NodeJS.ProcessEnv;
  /** How many wrangler uploads run at once. */
  uploads: number;
  /** One line per resource as it is done. */
  progress(line: string): void;
  /** wrangler's own output, line by line (shown with --verbose). */
  debug(line: string): void;
}

/**
 * Applies a plan, in dependency order:
 * 1. queues (a Worker may only bind or consume a queue that exists);
 * 2. Workers whose code changed: `wrangler deploy` of the built bundle, a few at once, secrets
 *    included, then twelve's tags (what the next plan compares);
 * 3. settings of Workers not uploaded (crons, workers.dev, secrets) and consumers, through the API;
 * 4. deletes: consumers, Workers, then queues (a queue with messages only if forced).
 * Steps within a phase run in parallel and all finish before a failure is reported, naming the
 * resource; every step is idempotent against what it finds, so running deploy again converges.
 */
export async function applyPlan(plan: Plan<CloudflareResource>, deployed: DeployedState, ctx: ApplyContext): Promise<{ uploads: number }> {
  const upserts = plan.changes.filter((c) => c.action !== "delete");
  const deletes = toApply(plan).filter((c) => c.action === "delete");
  const ids = { queues: { ...deployed.queueIds }, consumers: { ...deployed.consumerIds } };
  const fieldsOf = (c: Change<CloudflareResource>) => (c.action === "update" ? new Set(c.fields.map((f) => f.field)) : undefined);
  const uploading = upserts.filter((c) => c.kind === "worker" && (c.action === "create" || fieldsOf(c)?.has("code")));
  const uploaded = new Set(uploading.map((c) => c.name));

  await phase(upserts.filter((c) => c.kind === "queue"), async (c) => {
    ids.queues[c.name] = await createQueue(ctx.api, c.name);
  }, ctx);
  if (uploading.length) ctx.progress(`wrangler deploy: ${uploading.map((c) => c.name).join(", ")} (${Math.min(ctx.uploads, uploading.length)} at once)...`);
  await phase(uploading, (c) => upload(c.resource as WorkerResource, deployed, ctx), ctx, ctx.uploads, true);
  for (const c of upserts) {
    if (c.kind === "consumer" && uploaded.has((c.resource as ConsumerResource).script)) ctx.progress(`${SYMBOL[c.action]} consumer ${c.name} (set by wrangler with ${(c.resource as ConsumerResource).script})`);
  }
  await phase(upserts.filter((c) => c.kind === "worker" && !uploaded.has(c.name)), (c) => updateWorker(c.resource as WorkerResource, fieldsOf(c) ?? new Set(), deployed, ctx), ctx);
  // wrangler sets the consumer of a Worker it uploads; the others are set here.
  const consumers = upserts.filter((c) => c.kind === "consumer" && !uploaded.has((c.resource as ConsumerResource).script));
  if (consumers.length) await refreshConsumerIds(ctx.api, ids);
  await phase(consumers, (c) => putConsumer(ctx.api, c.resource as ConsumerResource, ids), ctx);

  await phase(deletes.filter((c) => c.kind === "consumer"), async (c) => {
    const queue = ids.queues[c.name];
    const consumer = ids.consumers[c.name];
    if (queue && consumer) await ignoreNotFound(ctx.api.send("DELETE", `/queues/${queue}/consumers/${consumer}`));
  }, ctx);
  // force: the script's consumers go with it.
  await phase(deletes.filter((c) => c.kind === "worker"), (c) => ignoreNotFound(ctx.api.send("DELETE", `/workers/scripts/${c.name}?force=true`)), ctx);
  const queueDeletes = deletes.filter((c) => c.kind === "queue");
  // A dead-letter queue goes after the queues that name it.
  await phase(queueDeletes.filter((c) => !c.name.endsWith("-dlq")), (c) => deleteQueue(ctx.api, ids.queues[c.name]), ctx);
  await phase(queueDeletes.filter((c) => c.name.endsWith("-dlq")), (c) => deleteQueue(ctx.api, ids.queues[c.name]), ctx);
  return { uploads: uploading.length };
}

/** Runs one phase's steps, at most `limit` at once; reports each (`timed`: with its seconds), then the first failure. */
async function phase(changes: Change<CloudflareResource>[], run: (change: Change<CloudflareResource>) => Promise<void>, ctx: ApplyContext, limit = 8, timed = false): Promise<void> {
  const failures: { change: Change<CloudflareResource>; error: Error }[] = [];
  let next = 0;
  const lane = async () => {
    while (next < changes.length) {
      const change = changes[next++] as Change<CloudflareResource>;
      const started = performance.now();
      try {
        await run(change);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        const what = change.action === "update" ? ` (${change.fields.map((f) => f.field).join(", ")})` : "";
        ctx.progress(`${SYMBOL[change.action]} ${change.kind} ${change.name}${what}${timed ? ` ${seconds} s` : ""}`);
      } catch (error) {
        failures.push({ change, error: error as Error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, changes.length) }, lane));
  const first = failures[0];
  if (!first) return;
  const others = failures.length > 1 ? ` (and ${failures.slice(1).map((f) => `${f.change.kind} ${f.change.name}`).join(", ")})` : "";
  const { change, error } = first;
  const status = (error as { status?: number }).status;
  const hint = status === 401 || status === 403 ? (error as { hint?: string }).hint : undefined;
  throw failure(`${change.action} ${change.kind} ${change.name} failed${others}: ${error.message}`, hint ?? "Fix the cause and run twelve deploy again: it carries on from what is deployed.", error);
}

const SYMBOL = { create: "+", update: "~", delete: "-" } as const;

async function createQueue(api: CloudflareApi, name: string): Promise<string> {
  try {
    return (await api.send<{ queue_id: string }>("POST", "/queues", { queue_name: name })).queue_id;
  } catch (error) {
    // Created meanwhile (another deploy, or this one cut short): what we wanted exists.
    if ((error as { status?: number }).status !== 409) throw error;
    const found = await findQueue(api, name);
    if (!found) throw error;
    return found.queue_id;
  }
}

async function upload(worker: WorkerResource, deployed: DeployedState, ctx: ApplyContext): Promise<void> {
  const run = await wranglerDeploy(worker.configPath, worker.secretNames, ctx.wranglerEnv, (line) => ctx.debug(`${worker.process} | ${line}`));
  if (run.code !== 0) {
    throw new Error(`wrangler deploy exited with status ${run.code}:\n${wranglerError(run.output)}`);
  }
  // Secrets the formation no longer names: an upload keeps the ones it does not mention.
  const before = deployed.resources.find((r): r is WorkerResource => r.kind === "worker" && r.name === worker.name);
  for (const name of before?.secretNames ?? []) {
    if (!worker.secretNames.includes(name)) await ignoreNotFound(ctx.api.send("DELETE", `/workers/scripts/${worker.name}/secrets/${name}`));
  }
  await writeTags(worker, deployed, ctx);
}

/** twelve's tags, beside any the user set on the script. */
async function writeTags(worker: WorkerResource, deployed: DeployedState, ctx: ApplyContext): Promise<void> {
  const others = (deployed.tags[worker.name] ?? []).filter((t) => !t.startsWith("twelve-"));
  await ctx.api.send("PATCH", `/workers/scripts/${worker.name}/script-settings`, { tags: [...others, ...workerTags(ctx.app, ctx.stage, worker)] });
}

async function updateWorker(worker: WorkerResource, fields: Set<string>, deployed: DeployedState, ctx: ApplyContext): Promise<void> {
  const { api } = ctx;
  const path = `/workers/scripts/${worker.name}`;
  if (fields.has("crons")) await api.send("PUT", `${path}/schedules`, worker.crons.map((cron) => ({ cron })));
  if (fields.has("workersDev")) await api.send("POST", `${path}/subdomain`, { enabled: worker.workersDev, previews_enabled: false });
  if (fields.has("secrets") || fields.has("secretNames")) {
    const current = (await api.get<{ name: string }[]>(`${path}/secrets`)).map((s) => s.name);
    for (const name of worker.secretNames) await api.send("PUT", `${path}/secrets`, { name, text: ctx.secrets[name], type: "secret_text" });
    for (const name of current) if (!worker.secretNames.includes(name)) await ignoreNotFound(api.send("DELETE", `${path}/secrets/${name}`));
  }
  await writeTags(worker, deployed, ctx);
}

function consumerBody(consumer: ConsumerResource) {
  return {
    type: "worker",
    script_name: consumer.script,
    dead_letter_queue: consumer.deadLetterQueue ?? "",
    settings: { batch_size: consumer.batchSize, max_retries: consumer.maxRetries, max_concurrency: consumer.maxConcurrency },
  };
}

async function putConsumer(api: CloudflareApi, consumer: ConsumerResource, ids: { queues: Record<string, string>; consumers: Record<string, string> }): Promise<void> {
  const queue = ids.queues[consumer.name];
  if (!queue) throw new Error(`queue ${consumer.name} does not exist`);
  const existing = ids.consumers[consumer.name];
  if (existing) await api.send("PUT", `/queues/${queue}/consumers/${existing}`, consumerBody(consumer));
  else await api.send("POST", `/queues/${queue}/consumers`, consumerBody(consumer));
}

/** Consumer ids as they are now: wrangler may have made some in the phase before. */
async function refreshConsumerIds(api: CloudflareApi, ids: { queues: Record<string, string>; consumers: Record<string, string> }): Promise<void> {
  for (const q of await listQueues(api)) {
    ids.queues[q.queue_name] = q.queue_id;
    const c = workerConsumer(q);
    if (c) ids.consumers[q.queue_name] = c.consumer_id;
    else delete ids.consumers[q.queue_name];
  }
}

async function deleteQueue(api: CloudflareApi, id: string | undefined): Promise<void> {
  if (id) await ignoreNotFound(api.send("DELETE", `/queues/${id}`));
}

/** Deleting what is already gone is done. */
async function ignoreNotFound(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
  }
}
