import type { BuiltFormation, Deployment, PlanOptions } from "../../src/adapter.ts";
import { applySteps } from "../../src/deploy/apply.ts";
import { applyWithLock } from "../../src/deploy/lock.ts";
import { planChanges, toApply, type Plan } from "../../src/deploy/plan.ts";
import { resourceName } from "../../src/formation/names.ts";
import { TwelveError } from "../../src/errors.ts";
import type { Formation } from "../../src/formation/types.ts";
import type { AwsClients } from "./client.ts";
import { awsDeployLock } from "./lock.ts";
import { environmentError, environmentProblems, readAccountConcurrency, reservationProblem } from "./account-limits.ts";
import { awsPlanRules, awsStep, desiredResources, readDeployed, type AwsResource, type FunctionResource } from "./resources.ts";
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
  const [first, concurrency] = await Promise.all([readDeployed(clients, formation.app, stage), readAccountConcurrency(clients)]);
  let deployed = first;
  const prefix = resourceName(formation.app, stage, "");
  const functions = (resources: AwsResource[]) => resources.filter((r): r is FunctionResource => r.kind === "function");
  /** What AWS would refuse half-way through: refused before any change (a destroy is never refused). */
  const refusal = () =>
    environmentError(formation.configFile, environmentProblems(functions(desired).map((f) => ({ process: f.name.slice(prefix.length), environment: f.environment })), formation.secrets)) ??
    (concurrency
      ? reservationProblem(
          functions(desired).map((f) => ({ process: f.name.slice(prefix.length), reserved: f.reservedConcurrency ?? 0 })),
          functions(deployed).reduce((sum, f) => sum + (f.reservedConcurrency ?? 0), 0),
          concurrency,
          `account ${place.account} in ${place.region}`,
        )
      : undefined);
  const planFor = (options: PlanOptions = {}): Plan<AwsResource> => {
    const refused = options.destroy ? undefined : refusal();
    if (refused) throw refused;
    return planChanges(options.destroy ? [] : desired, deployed, { ...awsPlanRules, secrets: formation.secrets, force: options.force || options.destroy });
  };

  return {
    desired,
    deployed: () => deployed,
    plan: planFor,
    apply: async (options, progress) => {
      const refused = options.destroy ? undefined : refusal();
      if (refused) throw refused;
      return applyWithLock({
        app: formation.app,
        stage,
        lock: awsDeployLock(clients, formation.app, stage),
        note: (line) => progress(`note: ${line}`),
        read: async () => {
          deployed = await readDeployed(clients, formation.app, stage);
        },
        plan: () => planFor(options),
        hasWork: (plan) => toApply(plan).length > 0,
        apply: (plan) => applySteps(plan, awsStep(clients, formation.app, stage), { progress, explain: (error) => explain(error, stage) }),
      });
    },
    async webUrls() {
      const web = formation.processes.filter((p) => p.type === "web");
      return Object.fromEntries(await Promise.all(web.map(async (p) => [p.name, (await functionUrl(clients, resourceName(formation.app, stage, p.name))) ?? "(no URL)"] as const)));
    },
    calls: () => ({ reads: clients.count.reads, writes: clients.count.writes }),
    callSummary: () => `${clients.count.reads} reads, ${clients.count.writes} changes`,
  };
}

/** AWS's words for a failed call, and what to do. */
function explain(error: unknown, stage: string): { message: string; hint: string } {
  const { name, message } = error as Error;
  // twelve's own refusal (another app's resource in the way) says what to do itself.
  if (error instanceof TwelveError && error.hint) return { message, hint: error.hint };
  const hint =
    name === "AccessDeniedException" || name === "AccessDenied"
      ? `The credentials in use lack a permission for this call: \`twelve policy --stage ${stage}\` prints what deploying needs.`
      : name === "TooManyRequestsException" || name === "ThrottlingException"
        ? "AWS throttled the calls; run deploy again (it picks up where it stopped)."
        : "Fix the cause and run deploy again: it picks up where it stopped.";
  return { message: `${name}: ${message}`, hint };
}
