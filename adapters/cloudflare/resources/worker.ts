import { createHash, scryptSync } from "node:crypto";
import type { Manifest } from "../../../src/build/manifest.ts";
import { canonical, fieldRules, type Change } from "../../../src/deploy/plan.ts";
import type { AccountSubdomainView, Body, ScheduleUpdateParams, SchedulesView, ScriptSubdomainView, SecretUpdateParams, SecretView, SettingEditParams, SubdomainCreateParams } from "../api-types.ts";
import type { CloudflareApi } from "../client.ts";
import type { WranglerConfig } from "../wrangler.ts";
import { wranglerDeploy, wranglerError } from "../wrangler-cli.ts";
import { appTag, CODE_TAG, ignoreNotFound, processTag, RUN_TOKEN_TAG, SECRETS_TAG, stageTag, type CloudflareContext, type ScriptView } from "./common.ts";
import { scriptOwnership, scriptStage, takenError } from "./ownership.ts";
import { runTokenDigest } from "./run-token.ts";

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
  /**
   * Clocks: the stage's run token, which the Worker's routes ask for (runtime/clock.ts). Set as
   * the secret TWELVE_RUN_TOKEN, and kept in the script's tags, where the deployer reads it back
   * (Cloudflare never gives a secret's value back). null: none (not a clock, or not set yet).
   */
  runToken: string | null;
  /** What a plan compares of the token: a digest, so that no plan (nor its --json) shows the token. */
  runTokenDigest: string | null;
  /** Read back: when it last changed. */
  modifiedOn?: string;
  /** Read back: every tag on the script; tags that are not twelve's are kept. */
  tags?: string[];
}

export const workerRules = fieldRules<WorkerResource>({
  ignore: ["process", "configPath", "modifiedOn", "tags", "runToken"],
  summaries: { code: "code", secrets: "secret values", runTokenDigest: "run token" },
});

/** The tags twelve keeps on a Worker script: whose it is, and what it was deployed from. */
export function workerTags(app: string, stage: string, worker: WorkerResource): string[] {
  const tags = [appTag(app), stageTag(stage), processTag(worker.process), `${CODE_TAG}${worker.code}`, `${SECRETS_TAG}${worker.secrets}`];
  return worker.runToken ? [...tags, `${RUN_TOKEN_TAG}${worker.runToken}`] : tags;
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
    // The stage's token is known once the stage is read: withRunToken() (./run-token.ts) sets it.
    runToken: null,
    runTokenDigest: null,
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

/**
 * What the `twelve-secrets` tag holds: a digest of the secrets' values that every deployer of
 * the stage computes alike (a laptop and CI with tokens of their own converge), and that does
 * not give the values away to someone who can read the tag. Nothing but the values is shared
 * by every deployer, so they are the key; scrypt (memory-hard, salted with the account, app
 * and stage) makes testing guesses against the tag slow. Secrets are meant to be long random
 * strings; for a short one, the README says what this trades.
 */
export function secretsDigest(values: Record<string, string>, salt: string): string {
  const names = Object.keys(values).sort();
  if (!names.length) return "none";
  const text = names.map((name) => `${name}=${values[name]}\n`).join("");
  return scryptSync(text, `twelve-secrets:${salt}`, 16, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }).toString("hex");
}

/**
 * The app's Workers: named `<app>-<stage>-*` and this stage's by resources/ownership.ts. A
 * script of a name the formation wants but without twelve's tags (a deploy cut between upload
 * and tagging) reads as deployed with unknown code, so the next deploy uploads and tags it.
 */
export function ownScripts(scripts: ScriptView[], app: string, stage: string, wanted: string[]): NamedScript[] {
  const prefix = `${app}-${stage}-`;
  return scripts.filter((s): s is NamedScript => {
    if (!s.id?.startsWith(prefix)) return false;
    if (!scriptOwnership(s, scripts, { app, stage }).ours) return false;
    return scriptStage(s) !== undefined || wanted.includes(s.id);
  });
}

/** A script as listed, with the name the schema leaves optional and twelve needs. */
type NamedScript = ScriptView & { id: string };

export async function readWorkers(api: CloudflareApi, scripts: NamedScript[], prefix: string): Promise<WorkerResource[]> {
  return Promise.all(
    scripts.map(async (s): Promise<WorkerResource> => {
      const [schedules, subdomain, secrets] = await Promise.all([
        api.get<SchedulesView>(`/workers/scripts/${s.id}/schedules`),
        api.get<ScriptSubdomainView>(`/workers/scripts/${s.id}/subdomain`),
        api.get<SecretView[]>(`/workers/scripts/${s.id}/secrets`),
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
        runToken: tag(RUN_TOKEN_TAG),
        runTokenDigest: runTokenDigest(tag(RUN_TOKEN_TAG)),
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
  if (change.action === "create") {
    // Not this stage's when it was read (else no create was planned): another's is never uploaded over.
    const taken = ctx.scripts.find((s) => s.id === worker.name);
    const owner = taken && scriptOwnership(taken, ctx.scripts, ctx);
    if (owner && !owner.ours) throw takenError(ctx, "Worker", worker.name, owner.owner);
  }
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
  if (fields.has("crons")) await api.send("PUT", `${path}/schedules`, worker.crons.map((cron): ScheduleUpdateParams.Body => ({ cron })));
  if (fields.has("workersDev")) await api.send("POST", `${path}/subdomain`, { enabled: worker.workersDev, previews_enabled: false } satisfies Body<SubdomainCreateParams>);
  if (fields.has("secrets") || fields.has("secretNames") || fields.has("runTokenDigest")) {
    const present = (await api.get<SecretView[]>(`${path}/secrets`)).map((s) => s.name);
    for (const name of worker.secretNames) await api.send("PUT", `${path}/secrets`, { name, text: ctx.secrets[name] ?? "", type: "secret_text" } satisfies Body<SecretUpdateParams.WorkersBindingKindSecretText>);
    for (const name of present) if (!worker.secretNames.includes(name)) await ignoreNotFound(api.send("DELETE", `${path}/secrets/${name}`));
  }
}

/** twelve's tags, beside any the user set on the script: what the next plan compares. */
async function writeTags(ctx: CloudflareContext, worker: WorkerResource, current: WorkerResource | undefined): Promise<void> {
  const others = (current?.tags ?? []).filter((t) => !t.startsWith("twelve-"));
  await ctx.api.send("PATCH", `/workers/scripts/${worker.name}/script-settings`, { tags: [...others, ...workerTags(ctx.app, ctx.stage, worker)] } satisfies Body<SettingEditParams>);
}

export function workersDevUrl(worker: string, subdomain: string): string {
  return `https://${worker}.${subdomain}.workers.dev`;
}

/** The account's workers.dev subdomain, if it has one (or it cannot be read). */
export async function accountSubdomain(api: CloudflareApi): Promise<string | undefined> {
  return (await api.get<AccountSubdomainView>("/workers/subdomain").catch(() => undefined))?.subdomain;
}
