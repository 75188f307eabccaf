import type { BuiltFormation, Deployment, PlanOptions } from "../../src/adapter.ts";
import { applySteps } from "../../src/deploy/apply.ts";
import { applyWithLock } from "../../src/deploy/lock.ts";
import { planChanges, toApply, type Plan } from "../../src/deploy/plan.ts";
import { resourceName } from "../../src/formation/names.ts";
import type { Formation } from "../../src/formation/types.ts";
import type { AwsClients } from "./client.ts";
import { awsDeployLock } from "./lock.ts";
import { awsPlanRules, awsStep, desiredResources, readDeployed, type AwsResource } from "./resources.ts";
import { functionUrl } from "./resources/function.ts";

export interface AwsPlace {
  clients: AwsClients;
  account: string;
  region: string;
}

/**
 * One deployment of a built formation to one stage: what it asks for, what AWS has, the plan
 * between them, and applying it (src/deploy/lock.ts: one deploy of a stage at a time).
 */
export async function awsDeployment(formation: Formation, stage: string, build: BuiltFormation, secrets: Record<string, string>, place: AwsPlace): Promise<Deployment & { desired: AwsResource[]; deployed(): AwsResource[] }> {
  const { clients } = place;
  const desired = desiredResources(formation, build.manifest, build.outDir, { account: place.account, region: place.region, stage, secrets });
  let deployed = await readDeployed(clients, formation.app, stage);
  const planFor = (options: PlanOptions = {}): Plan<AwsResource> =>
    planChanges(options.destroy ? [] : desired, deployed, { ...awsPlanRules, secrets: formation.secrets, force: options.force || options.destroy });

  return {
    desired,
    deployed: () => deployed,
    plan: planFor,
    apply: (options, progress) =>
      applyWithLock({
        app: formation.app,
        stage,
        lock: awsDeployLock(clients, formation.app, stage),
        note: (line) => progress(`note: ${line}`),
        read: async () => {
          deployed = await readDeployed(clients, formation.app, stage);
        },
        plan: () => planFor(options),
        hasWork: (plan) => toApply(plan).length > 0,
        apply: (plan) => applySteps(plan, awsStep(clients, formation.app, stage), { progress, explain }),
      }),
    async webUrls() {
      const web = formation.processes.filter((p) => p.type === "web");
      return Object.fromEntries(await Promise.all(web.map(async (p) => [p.name, (await functionUrl(clients, resourceName(formation.app, stage, p.name))) ?? "(no URL)"] as const)));
    },
    calls: () => ({ reads: clients.count.reads, writes: clients.count.writes }),
    callSummary: () => `${clients.count.reads} reads, ${clients.count.writes} changes`,
  };
}

/** AWS's words for a failed call, and what to do. */
function explain(error: unknown): { message: string; hint: string } {
  const { name, message } = error as Error;
  const hint =
    name === "AccessDeniedException" || name === "AccessDenied"
      ? "The credentials in use lack a permission for this call: see the README's list of what deploy needs."
      : name === "TooManyRequestsException" || name === "ThrottlingException"
        ? "AWS throttled the calls; run deploy again (it picks up where it stopped)."
        : "Fix the cause and run deploy again: it picks up where it stopped.";
  return { message: `${name}: ${message}`, hint };
}
