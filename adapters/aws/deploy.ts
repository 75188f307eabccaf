import type { Manifest } from "../../src/build/manifest.ts";
import { usageError } from "../../src/errors.ts";
import type { Formation } from "../../src/formation/types.ts";
import { applyPlan } from "./apply.ts";
import { accountOf, awsClients, deployRegion } from "./clients.ts";
import { planChanges, type Plan } from "./plan.ts";
import { desiredResources } from "./resources.ts";
import { readDeployed } from "./state.ts";

/**
 * One deployment of a built formation to one stage: what it asks for, what AWS has, the plan
 * between them, and applying it. Credentials, region and secrets are checked before anything
 * else, so a missing one fails before any change.
 */
export async function awsDeployment(formation: Formation, manifest: Manifest, buildDir: string, stage: string, env: NodeJS.ProcessEnv = process.env) {
  const missing = formation.secrets.filter((name) => env[name] === undefined);
  if (missing.length) {
    throw usageError(`secret${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not set in the deploying environment`, `Export ${missing[0]}=... (in CI: from the repository's secrets) and deploy again.`);
  }
  const region = deployRegion(formation.aws.region);
  const clients = await awsClients(region);
  const account = await accountOf(clients);
  const secrets = Object.fromEntries(formation.secrets.map((name) => [name, env[name] as string]));
  const desired = desiredResources(formation, manifest, buildDir, { account, region, stage, secrets });
  const deployed = await readDeployed(clients, formation.app, stage);

  return {
    region,
    account,
    clients,
    desired,
    deployed,
    plan: (options: { force?: boolean; destroy?: boolean } = {}): Plan =>
      planChanges(options.destroy ? [] : desired, deployed.resources, { secrets: formation.secrets, queueDepth: deployed.queueDepth, force: options.force || options.destroy }),
    apply: (plan: Plan, progress: (line: string) => void) => applyPlan(clients, plan, deployed, { progress }),
    /** The Function URL of each web process, as deployed now. */
    async webUrls(): Promise<Record<string, string>> {
      const web = formation.processes.filter((p) => p.type === "web");
      const urls = await Promise.all(
        web.map(async (p) => {
          const name = `${formation.app}-${stage}-${p.name}`;
          const config = await clients.lambda.send(new clients.sdk.lambda.GetFunctionUrlConfigCommand({ FunctionName: name })).catch(() => undefined);
          return [p.name, config?.FunctionUrl ?? "(no URL)"] as const;
        }),
      );
      return Object.fromEntries(urls);
    },
  };
}
