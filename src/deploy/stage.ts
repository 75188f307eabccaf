import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Adapter, AdapterRegistry, DeployedStage, Deployment } from "../adapter.ts";
import { buildFormation, type BuildResult } from "../build/build.ts";
import { loadConfig } from "../config/load.ts";
import { usageError } from "../errors.ts";
import { stageProblem } from "../formation/names.ts";
import { DEFAULTS, type Formation } from "../formation/types.ts";
import { secretValues } from "./secrets.ts";

/** Where a command finds its app, and which stage and target it means. */
export interface StageOptions {
  cwd: string;
  config?: string | undefined;
  target?: string | undefined;
  stage?: string | undefined;
  adapters: AdapterRegistry;
  /** The deploying environment: credentials, endpoints, secrets (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Lines for --verbose. */
  debug?(line: string): void;
  /** Lines for people, always shown (a cloud call that keeps us waiting). */
  note?(line: string): void;
  /** The processes are bundled next (build, deploy): see LoadOptions.entriesCheckedByBuild. */
  entriesCheckedByBuild?: boolean;
}

export interface OpenStage {
  formation: Formation;
  stage: string;
  adapter: Adapter;
  deployed: DeployedStage;
}

/** --stage, or the default stage; an unusable name is a usage error. */
export function stageName(value: string | undefined): string {
  const stage = value ?? DEFAULTS.stage;
  const problem = stageProblem(stage);
  if (problem) throw usageError(`--stage: ${problem}`);
  return stage;
}

/** The formation for a stage: what every cloud command starts from. */
export async function stageFormation(options: StageOptions): Promise<{ formation: Formation; stage: string; adapter: Adapter }> {
  const stage = stageName(options.stage);
  const { formation } = await loadConfig({
    cwd: path.resolve(options.cwd),
    config: options.config,
    target: options.target,
    stage,
    adapters: options.adapters,
    entriesCheckedByBuild: options.entriesCheckedByBuild,
  });
  return { formation, stage, adapter: options.adapters[formation.target] };
}

/** The formation and its deployed stage, without a build: what scale, ps, logs and run --stage use. */
export async function openStage(options: StageOptions): Promise<OpenStage> {
  return connectStage(await stageFormation(options), options);
}

/** The deployed stage of a formation already loaded. */
export async function connectStage(loaded: { formation: Formation; stage: string; adapter: Adapter }, options: StageOptions): Promise<OpenStage> {
  const deployed = await loaded.adapter.connect(loaded.formation, loaded.stage, { env: options.env ?? process.env, debug: options.debug ?? (() => {}), ...(options.note ? { note: options.note } : {}) });
  return { ...loaded, deployed };
}

/**
 * What plan, deploy and destroy share: the formation built for its target, its secrets read
 * from the deploying environment, and the deployment of that build to the stage. A missing
 * secret, credential or region fails here, before any change.
 *
 * The build goes to a folder of this deploy's own (.twelve/deploy/<stage>-<pid>-<id>), which
 * `close()` removes: deploys of other stages (or a second one of the same stage, which the lock
 * then stops) can build in the same checkout while this one uploads.
 */
export async function openDeployment(options: StageOptions): Promise<OpenStage & { build: BuildResult; deployment: Deployment; close(): Promise<void> }> {
  const { formation, stage, adapter } = await stageFormation(options);
  const env = options.env ?? process.env;
  const secrets = secretValues(formation, env);
  const outDir = path.join(formation.root, ".twelve", "deploy", `${stage}-${process.pid}-${randomUUID().slice(0, 8)}`, formation.target);
  const close = () => fs.rm(path.dirname(outDir), { recursive: true, force: true });
  try {
    const build = await buildFormation(formation, { stage, adapter, outDir });
    options.debug?.(`built ${build.manifest.processes.length} processes into ${build.outDir}`);
    const { deployed } = await connectStage({ formation, stage, adapter }, options);
    const deployment = await deployed.deployment(build, secrets);
    return { formation, stage, adapter, deployed, build, deployment, close };
  } catch (error) {
    await close();
    throw error;
  }
}
