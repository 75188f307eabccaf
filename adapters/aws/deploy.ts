import type { Manifest } from "../../src/build/manifest.ts";
import { secretValues } from "../../src/deploy/secrets.ts";
import { resourceName } from "../../src/formation/names.ts";
import type { Formation } from "../../src/formation/types.ts";
import { applyPlan } from "./apply.ts";
import { acquireDeployLock } from "./lock.ts";
import { accountOf, awsClients, deployRegion } from "./clients.ts";
import { planChanges, toApply, type Plan } from "../../src/deploy/plan.ts";

interface PlanOptions {
  force?: boolean;
  /** Plan the removal of everything of the app and stage. */
  destroy?: boolean;
}
import { desiredResources, type AwsResource } from "./resources.ts";
import { readDeployed } from "./state.ts";

/**
 * One deployment of a built formation to one stage: what it asks for, what AWS has, the plan
 * between them, and applying it. Credentials, region and secrets are checked before anything
 * else, so a missing one fails before any change.
 */
export async function awsDeployment(formation: Formation, manifest: Manifest, buildDir: string, stage: string, env: NodeJS.ProcessEnv = process.env) {
  const secrets = secretValues(formation, env);
  const region = deployRegion(formation.aws.region);
  const clients = await awsClients(region, env);
  const account = await accountOf(clients);
  const desired = desiredResources(formation, manifest, buildDir, { account, region, stage, secrets });
  let deployed = await readDeployed(clients, formation.app, stage);
  const planFor = (options: PlanOptions = {}): Plan<AwsResource> =>
    planChanges(options.destroy ? [] : desired, deployed.resources, { secrets: formation.secrets, queueDepth: deployed.queueDepth, force: options.force || options.destroy });

  return {
    region,
    account,
    clients,
    desired,
    get deployed() {
      return deployed;
    },
    plan: planFor,
    /**
     * Holding the stage's deploy lock (one deploy at a time), reads the deployed state again
     * and applies the plan from it: another deploy may have finished since this one planned.
     */
    async apply(options: PlanOptions, progress: (line: string) => void): Promise<Plan<AwsResource>> {
      // Nothing to do is done without a single mutating call, not even the lock's.
      if (!toApply(planFor(options)).length) return planFor(options);
      const release = await acquireDeployLock(clients, formation.app, stage, (note) => progress(`note: ${note}`));
      try {
        deployed = await readDeployed(clients, formation.app, stage);
        const plan = planFor(options);
        await applyPlan(clients, plan, deployed, { progress });
        return plan;
      } finally {
        await release();
      }
    },
    /** The Function URL of each web process, as deployed now. */
    async webUrls(): Promise<Record<string, string>> {
      const web = formation.processes.filter((p) => p.type === "web");
      const urls = await Promise.all(
        web.map(async (p) => {
          const name = resourceName(formation.app, stage, p.name);
          const config = await clients.lambda.send(new clients.sdk.lambda.GetFunctionUrlConfigCommand({ FunctionName: name })).catch(() => undefined);
          return [p.name, config?.FunctionUrl ?? "(no URL)"] as const;
        }),
      );
      return Object.fromEntries(urls);
    },
  };
}
