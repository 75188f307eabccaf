import type { Manifest } from "../../src/build/manifest.ts";
import { planChanges, toApply, type Plan } from "../../src/deploy/plan.ts";
import { secretValues } from "../../src/deploy/secrets.ts";
import { resourceName } from "../../src/formation/names.ts";
import type { Formation } from "../../src/formation/types.ts";
import { cloudflareApi, type CloudflareApi } from "./api.ts";
import { applyPlan } from "./apply.ts";
import { acquireDeployLock } from "./lock.ts";
import { desiredResources, type CloudflareResource } from "./resources.ts";
import { wranglerBin } from "./wrangler-cli.ts";
import { accountSubdomain, queueBacklog, readDeployed, type DeployedState } from "./state.ts";

interface PlanOptions {
  force?: boolean;
  /** Plan the removal of everything of the app and stage. */
  destroy?: boolean;
}

/** wrangler uploads at once: each is a Node process of its own, on machines with few cores. */
const UPLOADS_AT_ONCE = 4;

/**
 * One deployment of a built formation to one stage on Cloudflare: what it asks for, what the
 * account has, the plan between them, and applying it. The token, account and secrets are
 * checked before anything else, so a missing one fails before any change.
 */
export async function cloudflareDeployment(formation: Formation, manifest: Manifest, buildDir: string, stage: string, env: NodeJS.ProcessEnv = process.env, debug: (line: string) => void = () => {}) {
  const secrets = secretValues(formation, env);
  const api = cloudflareApi(env, formation.cloudflare.accountId);
  const desired = desiredResources(formation, manifest, buildDir, { stage, secrets, digestKey: api.token });
  const wanted = desired.filter((r) => r.kind === "worker").map((r) => r.name);
  const read = async (): Promise<{ state: DeployedState; depth: Record<string, number | null> }> => {
    const state = await readDeployed(api, formation.app, stage, wanted);
    // Only a queue that would go needs its backlog: one read each, in parallel.
    const going = state.resources.filter((r) => r.kind === "queue" && !desired.some((d) => d.kind === "queue" && d.name === r.name));
    const depth = Object.fromEntries(await Promise.all(going.map(async (q) => [q.name, await queueBacklog(api, state.queueIds[q.name] ?? "")] as const)));
    return { state, depth };
  };
  let deployed = await read();
  const planFor = (options: PlanOptions = {}): Plan<CloudflareResource> =>
    planChanges(options.destroy ? [] : desired, deployed.state.resources, { secrets: formation.secrets, queueDepth: deployed.depth, force: options.force || options.destroy });
  let uploads = 0;

  return {
    account: api.accountId,
    api,
    desired,
    get deployed() {
      return deployed.state;
    },
    /** API calls twelve made itself, and the Workers wrangler uploaded. */
    get calls() {
      return { reads: api.calls.reads, writes: api.calls.writes, uploads };
    },
    plan: planFor,
    /**
     * Holding the stage's deploy lock (one deploy at a time), reads the deployed state again
     * and applies the plan from it: another deploy may have finished since this one planned.
     */
    async apply(options: PlanOptions, progress: (line: string) => void): Promise<Plan<CloudflareResource>> {
      // Nothing to do is done without a single mutating call, not even the lock's.
      if (!toApply(planFor(options)).length) return planFor(options);
      // wrangler uploads the Workers: a missing one is said before any change.
      if (!options.destroy) wranglerBin();
      const release = await acquireDeployLock(api, formation.app, stage, (note) => progress(`note: ${note}`));
      try {
        deployed = await read();
        const plan = planFor(options);
        const done = await applyPlan(plan, deployed.state, {
          api,
          app: formation.app,
          stage,
          secrets,
          wranglerEnv: wranglerEnv(env, api),
          uploads: UPLOADS_AT_ONCE,
          progress,
          debug,
        });
        uploads += done.uploads;
        return plan;
      } finally {
        await release();
      }
    },
    /** The workers.dev URL of each web process, as deployed now. */
    async webUrls(): Promise<Record<string, string>> {
      const web = formation.processes.filter((p) => p.type === "web");
      if (!web.length) return {};
      const sub = await accountSubdomain(api);
      return Object.fromEntries(web.map((p) => [p.name, sub ? workersDevUrl(resourceName(formation.app, stage, p.name), sub) : "(no workers.dev subdomain on this account)"]));
    },
  };
}

export function workersDevUrl(worker: string, subdomain: string): string {
  return `https://${worker}.${subdomain}.workers.dev`;
}

/** wrangler runs with the deploying environment, the account made explicit. */
export function wranglerEnv(env: NodeJS.ProcessEnv, api: CloudflareApi): NodeJS.ProcessEnv {
  return { ...env, CLOUDFLARE_API_TOKEN: api.token, CLOUDFLARE_ACCOUNT_ID: api.accountId };
}
