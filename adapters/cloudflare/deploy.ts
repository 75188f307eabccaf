import type { BuiltFormation, Deployment, PlanOptions } from "../../src/adapter.ts";
import { applySteps } from "../../src/deploy/apply.ts";
import { applyWithLock } from "../../src/deploy/lock.ts";
import { planChanges, toApply, type Plan } from "../../src/deploy/plan.ts";
import { resourceName } from "../../src/formation/names.ts";
import type { Formation } from "../../src/formation/types.ts";
import type { CloudflareApi } from "./client.ts";
import { cloudflareDeployLock } from "./lock.ts";
import { cloudflarePlanRules, cloudflareStep, consumerIds, desiredResources, readDeployed, UPLOADS_AT_ONCE, type CloudflareResource, type DeployedState } from "./resources.ts";
import type { CloudflareContext } from "./resources/common.ts";
import { queueBacklog } from "./resources/queue.ts";
import { accountSubdomain, uploads, workersDevUrl } from "./resources/worker.ts";
import { wranglerBin } from "./wrangler-cli.ts";
import { RUN_TOKEN_SECRET } from "./runtime/clock.ts";
import { newRunToken, stageRunToken, withRunToken } from "./resources/run-token.ts";

/**
 * One deployment of a built formation to one stage on Cloudflare: what it asks for, what the
 * account has, the plan between them, and applying it (src/deploy/lock.ts: one deploy of a
 * stage at a time). wrangler uploads the Workers; twelve does the rest through the API.
 */
export async function cloudflareDeployment(
  formation: Formation,
  stage: string,
  build: BuiltFormation,
  secrets: Record<string, string>,
  options: { api: CloudflareApi; env: NodeJS.ProcessEnv; debug(line: string): void },
): Promise<Deployment & { desired: CloudflareResource[]; deployed(): DeployedState }> {
  const { api } = options;
  const built = desiredResources(formation, build.manifest, build.outDir, { stage, secrets, account: api.accountId });
  const wanted = built.filter((r) => r.kind === "worker").map((r) => r.name);
  // The stage's run token, as its clocks keep it; a new one when none does yet (resources/run-token.ts).
  const fresh = newRunToken();
  const runToken = () => stageRunToken(deployed.resources) ?? fresh;
  const desiredNow = () => withRunToken(built, runToken());
  const read = async (): Promise<DeployedState> => {
    const state = await readDeployed(api, formation.app, stage, wanted);
    // Only a queue that would go needs its backlog: one read each, in parallel.
    const going = (r: CloudflareResource) => r.kind === "queue" && !built.some((d) => d.kind === "queue" && d.name === r.name);
    const resources = await Promise.all(state.resources.map(async (r) => (r.kind === "queue" && going(r) ? { ...r, backlog: await queueBacklog(api, r.id ?? "") } : r)));
    return { ...state, resources };
  };
  let deployed = await read();
  const planFor = (plan: PlanOptions = {}): Plan<CloudflareResource> =>
    planChanges(plan.destroy ? [] : desiredNow(), deployed.resources, { ...cloudflarePlanRules, secrets: formation.secrets, force: plan.force || plan.destroy });
  let uploaded = 0;

  return {
    get desired() {
      return desiredNow();
    },
    deployed: () => deployed,
    plan: planFor,
    async apply(plan, progress) {
      // wrangler uploads the Workers: a missing one is said before any change.
      if (!plan.destroy && toApply(planFor(plan)).length) wranglerBin();
      return applyWithLock({
        app: formation.app,
        stage,
        lock: cloudflareDeployLock(api, formation.app, stage),
        note: (line) => progress(`note: ${line}`),
        read: async () => {
          deployed = await read();
        },
        plan: () => planFor(plan),
        hasWork: (p) => toApply(p).length > 0,
        apply: async (p) => {
          const ctx = context(api, formation.app, stage, { ...secrets, [RUN_TOKEN_SECRET]: runToken() }, deployed, options);
          await applySteps(p, cloudflareStep(ctx), {
            progress,
            explain,
            onPhase: (changes) => {
              const uploading = changes.filter((c) => c.kind === "worker" && uploads(c));
              if (uploading.length) progress(`wrangler deploy: ${uploading.map((c) => c.name).join(", ")} (${Math.min(UPLOADS_AT_ONCE, uploading.length)} at once)...`);
            },
          });
          uploaded += ctx.uploaded.size;
        },
      });
    },
    async webUrls() {
      const web = formation.processes.filter((p) => p.type === "web");
      if (!web.length) return {};
      const sub = await accountSubdomain(api);
      return Object.fromEntries(web.map((p) => [p.name, sub ? workersDevUrl(resourceName(formation.app, stage, p.name), sub) : "(no workers.dev subdomain on this account)"]));
    },
    /** API calls twelve made itself, and the Workers wrangler uploaded. */
    calls: () => ({ reads: api.calls.reads, writes: api.calls.writes, uploads: uploaded }),
    callSummary: () => `${api.calls.reads} reads, ${api.calls.writes} changes, ${uploaded} upload${uploaded === 1 ? "" : "s"} by wrangler`,
  };
}

function context(api: CloudflareApi, app: string, stage: string, secrets: Record<string, string>, deployed: DeployedState, options: { env: NodeJS.ProcessEnv; debug(line: string): void }): CloudflareContext {
  let ids: Promise<Record<string, string>> | undefined;
  return {
    api,
    app,
    stage,
    secrets,
    // wrangler reads the secrets' values from its environment (wrangler-cli.ts): the run token's too.
    wranglerEnv: { ...wranglerEnv(options.env, api), ...(secrets[RUN_TOKEN_SECRET] ? { [RUN_TOKEN_SECRET]: secrets[RUN_TOKEN_SECRET] } : {}) },
    debug: options.debug,
    scripts: deployed.scripts,
    queueIds: { ...deployed.queueIds },
    uploaded: new Set(),
    // After the uploads: wrangler may have made some consumers.
    consumerIds: () => (ids ??= consumerIds(api)),
  };
}

/** wrangler runs with the deploying environment, the account made explicit. */
export function wranglerEnv(env: NodeJS.ProcessEnv, api: CloudflareApi): NodeJS.ProcessEnv {
  return { ...env, CLOUDFLARE_API_TOKEN: api.token, CLOUDFLARE_ACCOUNT_ID: api.accountId };
}

/** The API's words (or wrangler's) for a failed step, and what to do. */
function explain(error: unknown): { message: string; hint: string } {
  // twelve's own refusal (another app's resource in the way) says what to do itself.
  if ((error as { taken?: boolean }).taken) return { message: (error as Error).message, hint: (error as { hint: string }).hint };
  const status = (error as { status?: number }).status;
  const hint = status === 401 || status === 403 ? (error as { hint?: string }).hint : undefined;
  return { message: (error as Error).message, hint: hint ?? "Fix the cause and run twelve deploy again: it carries on from what is deployed." };
}
