import path from "node:path";
import readline from "node:readline/promises";
import { accountOf, awsClients, deployRegion } from "../../adapters/aws/clients.ts";
import { awsDeployment } from "../../adapters/aws/deploy.ts";
import type { Change, Plan } from "../deploy/plan.ts";
import { buildFormation } from "../build/build.ts";
import { loadConfig } from "../config/load.ts";
import { usageError } from "../errors.ts";
import { resourceName } from "../formation/names.ts";
import { stageFlag, type GlobalFlags } from "./args.ts";
import type { Output } from "./output.ts";

/** The formation for a stage on AWS: what every cloud command starts from. */
async function awsFormation(flags: GlobalFlags, values: { stage?: string | undefined; target?: string | undefined }, deploying: boolean) {
  const stage = stageFlag(values.stage);
  const { formation } = await loadConfig({ cwd: path.resolve(flags.cwd), config: flags.config, target: values.target, stage });
  if (formation.target !== "aws" && deploying) {
    throw usageError(`deploying to ${formation.target} is not available in this version yet`, "twelve build --target cloudflare makes the Workers and their wrangler.json; twelve dev --target cloudflare runs them.");
  }
  if (formation.target !== "aws") throw usageError(`this command on ${formation.target} is not available in this version yet`);
  return { formation, stage };
}

/** What scale, ps, logs and run --stage share: the formation and AWS, no build. */
export async function awsStage(flags: GlobalFlags, values: { stage?: string | undefined; target?: string | undefined }) {
  const { formation, stage } = await awsFormation(flags, values, false);
  const region = deployRegion(formation.aws.region);
  const clients = await awsClients(region);
  const account = await accountOf(clients);
  const functionName = (process: string) => resourceName(formation.app, stage, process);
  return { formation, stage, region, account, clients, functionName };
}

/** What plan, deploy and destroy share: the formation built for its target, and the deployment. */
export async function prepareDeployment(flags: GlobalFlags, values: { stage?: string | undefined; target?: string | undefined }, out: Output) {
  const { formation, stage } = await awsFormation(flags, values, true);
  const { manifest, outDir } = await buildFormation(formation, { stage });
  out.debug(`built ${manifest.processes.length} processes into ${outDir}`);
  const deployment = await awsDeployment(formation, manifest, outDir, stage);
  out.line(`${out.bold(formation.app)} stage ${out.bold(stage)} on AWS ${deployment.region} (account ${deployment.account})`);
  return { formation, stage, deployment };
}

/** The plan as --json gives it: stable fields, documented in the README. */
export function planJson(plan: Plan) {
  return {
    changes: plan.changes.map((c: Change) => ({
      action: c.action,
      kind: c.kind,
      name: c.name,
      ...(c.action === "update" ? { fields: c.fields } : {}),
      ...(c.action === "delete" && c.keptBecause ? { keptBecause: c.keptBecause } : {}),
    })),
    unchanged: plan.unchanged,
  };
}

/** Asks before a change, unless told not to or where nobody can answer (CI, no terminal). */
export async function confirm(question: string, options: { yes: boolean; out: Output }): Promise<boolean> {
  if (options.yes || options.out.ci || !process.stdin.isTTY || options.out.json) return true;
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
