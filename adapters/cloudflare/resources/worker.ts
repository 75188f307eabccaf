import { createHash, createHmac } from "node:crypto";
import type { Manifest } from "../../../src/build/manifest.ts";
import { canonical, fieldRules, type Change } from "../../../src/deploy/plan.ts";
import type { CloudflareApi } from "../client.ts";
import type { WranglerConfig } from "../wrangler.ts";
import { wranglerDeploy, wranglerError } from "../wrangler-cli.ts";
import { appTag, CODE_TAG, processTag, SECRETS_TAG, stageTag, type CloudflareContext, type ScriptView } from "./common.ts";
import { ignoreNotFound } from "./queue.ts";

/** A Worker script: its code (as twelve's hash of it), secrets, crons and workers.dev flag. */
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
  /** Read back: when it last changed. */
  modifiedOn?: string;
  /** Read back: every tag on the script; tags that are not twelve's are kept. */
  tags?: string[];
}

export const workerRules = fieldRules<WorkerResource>({
  ignore: ["process", "configPath", "modifiedOn", "tags"],
  summaries: { code: "code", secrets: "secret values" },
});

/** The tags twelve keeps on a Worker script: whose it is, and what it was deployed from. */
export function workerTags(app: string, stage: string, worker: WorkerResource): string[] {
  return [appTag(app), stageTag(stage), processTag(worker.process), `${CODE_TAG}${worker.code}`, `${SECRETS_TAG}${worker.secrets}`];
}

export function desiredWorker(manifest: Manifest, processName: string, configPath: string, config: WranglerConfig, secretNames: string[], secrets: string): WorkerResource {
  return {
    kind: "worker",
    name: config.name,
    process: processName,
    configPath,
    code: codeHash(manifest, processName, config),
    secretNames,
    secrets,
    crons: [...config.triggers.crons].sort(),
    workersDev: config.workers_dev,
  };
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

/** The key of the secrets' digest is the API token: only someone holding it can test a guess against the tag. */
export function secretsDigest(values: Record<string, string>, key: string): string {
  const hmac = createHmac("sha256", key);
  for (const name of Object.keys(values).sort()) hmac.update(`${name}=${values[name]}\n`);
  return hmac.digest("hex").slice(0, 32);
}

/**
 * The app's Workers: named `<app>-<stage>-*` and tagged as the app's and stage's. A script of a
 * name the formation wants but without twelve's tags (a deploy cut between upload and tagging)
 * reads as deployed with unknown code, so the next deploy uploads and tags it.
 */
export function ownScripts(scripts: ScriptView[], app: string, stage: string, wanted: string[]): ScriptView[] {
  const prefix = `${app}-${stage}-`;
  return scripts.filter((s) => {
    const tags = s.tags ?? [];
    if (!s.id.startsWith(prefix)) return false;
    if (tags.includes(appTag(app)) && tags.includes(stageTag(stage))) return true;
    return wanted.includes(s.id) && !tags.some((t) => t.startsWith("twelve-app:"));
  });
}

export async function readWorkers(api: CloudflareApi, scripts: ScriptView[], prefix: string): Promise<WorkerResource[]> {
  return Promise.all(
    scripts.map(async (s): Promise<WorkerResource> => {
      const [schedules, subdomain, secrets] = await Promise.all([
        api.get<{ schedules: { cron: string }[] }>(`/workers/scripts/${s.id}/schedules`),
        api.get<{ enabled: boolean }>(`/workers/scripts/${s.id}/subdomain`),
        api.get<{ name: string }[]>(`/workers/scripts/${s.id}/secrets`),
      ]);
      const tag = (start: string) => (s.tags ?? []).find((t) => t.startsWith(start))?.slice(start.length) ?? null;
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
        modifiedOn: s.modified_on ?? "",
        tags: s.tags ?? [],
      };
    }),
  );
}

/** Whether this change uploads the Worker's code (a new Worker, or new code): `wrangler deploy`. */
export function uploads(change: Change<WorkerResource>): boolean {
  return change.action === "create" || (change.action === "update" && change.fields.some((f) => f.field === "code"));
}

export async function applyWorker(ctx: CloudflareContext, change: Change<WorkerResource>): Promise<void> {
  const worker = change.resource;
  if (change.action === "delete") {
    // force: the script's consumers go with it.
    await ignoreNotFound(ctx.api.send("DELETE", `/workers/scripts/${worker.name}?force=true`));
    return;
  }
  const current = change.action === "update" ? change.current : undefined;
  if (uploads(change)) await upload(ctx, worker, current);
  else if (change.action === "update") await updateSettings(ctx, worker, new Set(change.fields.map((f) => f.field)));
  await writeTags(ctx, worker, current);
}

async function upload(ctx: CloudflareContext, worker: WorkerResource, current: WorkerResource | undefined): Promise<void> {
  const run = await wranglerDeploy(worker.configPath, worker.secretNames, ctx.wranglerEnv, (line) => ctx.debug(`${worker.process} | ${line}`));
  if (run.code !== 0) throw new Error(`wrangler deploy exited with status ${run.code}:\n${wranglerError(run.output)}`);
  ctx.uploaded.add(worker.name);
  // Secrets the formation no longer names: an upload keeps the ones it does not mention.
  for (const name of current?.secretNames ?? []) {
    if (!worker.secretNames.includes(name)) await ignoreNotFound(ctx.api.send("DELETE", `/workers/scripts/${worker.name}/secrets/${name}`));
  }
}

/** Crons, workers.dev and secrets changed alone are set through the API, with no upload. */
async function updateSettings(ctx: CloudflareContext, worker: WorkerResource, fields: Set<string>): Promise<void> {
  const { api } = ctx;
  const path = `/workers/scripts/${worker.name}`;
  if (fields.has("crons")) await api.send("PUT", `${path}/schedules`, worker.crons.map((cron) => ({ cron })));
  if (fields.has("workersDev")) await api.send("POST", `${path}/subdomain`, { enabled: worker.workersDev, previews_enabled: false });
  if (fields.has("secrets") || fields.has("secretNames")) {
    const present = (await api.get<{ name: string }[]>(`${path}/secrets`)).map((s) => s.name);
    for (const name of worker.secretNames) await api.send("PUT", `${path}/secrets`, { name, text: ctx.secrets[name], type: "secret_text" });
    for (const name of present) if (!worker.secretNames.includes(name)) await ignoreNotFound(api.send("DELETE", `${path}/secrets/${name}`));
  }
}

/** twelve's tags, beside any the user set on the script: what the next plan compares. */
async function writeTags(ctx: CloudflareContext, worker: WorkerResource, current: WorkerResource | undefined): Promise<void> {
  const others = (current?.tags ?? []).filter((t) => !t.startsWith("twelve-"));
  await ctx.api.send("PATCH", `/workers/scripts/${worker.name}/script-settings`, { tags: [...others, ...workerTags(ctx.app, ctx.stage, worker)] });
}

export function workersDevUrl(worker: string, subdomain: string): string {
  return `https://${worker}.${subdomain}.workers.dev`;
}

/** The account's workers.dev subdomain, if it has one (or it cannot be read). */
export async function accountSubdomain(api: CloudflareApi): Promise<string | undefined> {
  return (await api.get<{ subdomain: string }>("/workers/subdomain").catch(() => undefined))?.subdomain;
}
