import path from "node:path";
import readline from "node:readline/promises";
import type { Change, Plan } from "../deploy/plan.ts";
import { buildFormation } from "../build/build.ts";
import { loadConfig } from "../config/load.ts";
import { resourceName } from "../formation/names.ts";
import type { Formation } from "../formation/types.ts";
import { stageFlag, type GlobalFlags } from "./args.ts";
import type { Output } from "./output.ts";

type StageValues = { stage?: string | undefined; target?: string | undefined };

/** The formation for a stage: what every cloud command starts from. */
export async function stageFormation(flags: GlobalFlags, values: StageValues): Promise<{ formation: Formation; stage: string }> {
  const stage = stageFlag(values.stage);
  const { formation } = await loadConfig({ cwd: path.resolve(flags.cwd), config: flags.config, target: values.target, stage });
  return { formation, stage };
}

/** What scale, ps, logs and run --stage share on AWS: the formation and AWS, no build. */
export async function awsStage(formation: Formation, stage: string) {
  const { accountOf, awsClients, deployRegion } = await import("../../adapters/aws/clients.ts");
  const region = deployRegion(formation.aws.region);
  const clients = await awsClients(region);
  const account = await accountOf(clients);
  const functionName = (process: string) => resourceName(formation.app, stage, process);
  return { region, account, clients, functionName };
}

/** What scale, ps, logs and run --stage share on Cloudflare: the formation and the API, no build. */
export async function cloudflareStage(formation: Formation, stage: string) {
  const { cloudflareApi } = await import("../../adapters/cloudflare/api.ts");
  const api = cloudflareApi(process.env, formation.cloudflare.accountId);
  const workerName = (name: string) => resourceName(formation.app, stage, name);
  return { api, workerName };
}

/** A deployment on either platform, as plan, deploy and destroy use it. */
export interface Deployment {
  /** Where it goes, for people: "AWS eu-west-1 (account 1234)". */
  where: string;
  /** The same facts for --json. */
  place: Record<string, string>;
  plan(options?: { force?: boolean; destroy?: boolean }): Plan;
  apply(options: { force?: boolean; destroy?: boolean }, progress: (line: string) => void): Promise<Plan>;
  webUrls(): Promise<Record<string, string>>;
  /** Calls made so far, by kind. */
  calls(): Record<string, number>;
}

/** What plan, deploy and destroy share: the formation built for its target, and the deployment. */
export async function prepareDeployment(flags: GlobalFlags, values: StageValues, out: Output): Promise<{ formation: Formation; stage: string; deployment: Deployment }> {
  const { formation, stage } = await stageFormation(flags, values);
  const { manifest, outDir } = await buildFormation(formation, { stage });
  out.debug(`built ${manifest.processes.length} processes into ${outDir}`);
  let deployment: Deployment;
  if (formation.target === "aws") {
    const { awsDeployment } = await import("../../adapters/aws/deploy.ts");
    const aws = await awsDeployment(formation, manifest, outDir, stage);
    deployment = {
      where: `AWS ${aws.region} (account ${aws.account})`,
      place: { region: aws.region, account: aws.account },
      plan: aws.plan,
      apply: aws.apply,
      webUrls: aws.webUrls,
      calls: () => ({ reads: aws.clients.count.reads, writes: aws.clients.count.writes }),
    };
  } else {
    const { cloudflareDeployment } = await import("../../adapters/cloudflare/deploy.ts");
    const cf = await cloudflareDeployment(formation, manifest, outDir, stage, process.env, (line) => out.debug(line));
    deployment = {
      where: `Cloudflare (account ${cf.account})`,
      place: { account: cf.account },
      plan: cf.plan,
      apply: cf.apply,
      webUrls: cf.webUrls,
      calls: () => ({ ...cf.calls }),
    };
  }
  out.line(`${out.bold(formation.app)} stage ${out.bold(stage)} on ${deployment.where}`);
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
