// twelve as functions, for scripts that drive it (a release script, a test harness): what the
// CLI's build, dev, plan, deploy and destroy do, returning results instead of printing them.
// Mistakes throw TwelveError (with `hint` and `exitCode`), as the CLI reports them.
//
// Like the CLI, this is an entry point: it hands the library the registry of platforms.
import path from "node:path";
import { adapters } from "../adapters/index.ts";
import { buildFormation } from "./build/build.ts";
import type { Manifest } from "./build/manifest.ts";
import { planJson, toApply } from "./deploy/plan.ts";
import { openDeployment, stageFormation, type StageOptions as LibraryStageOptions } from "./deploy/stage.ts";
import type { Printer } from "./dev/output.ts";
import { startDev } from "./dev/supervisor.ts";
import type { Formation, Target } from "./formation/types.ts";

export { TwelveError } from "./errors.ts";
export type { Manifest, ManifestProcess } from "./build/manifest.ts";

export interface ProjectOptions {
  /** Where to look for twelve.config.ts; default: process.cwd(). */
  cwd?: string;
  /** The config file, relative to cwd; default: twelve.config.ts in cwd. */
  config?: string;
  /** Overrides the config's target. */
  target?: Target;
  /** twelve's lines of progress (what the CLI prints), one call each; default: none. */
  log?: (line: string) => void;
}

export interface StageOptions extends ProjectOptions {
  /** Default: "dev". */
  stage?: string;
}

export interface BuildResult {
  manifest: Manifest;
  manifestPath: string;
  /** .twelve/build/<target> */
  outDir: string;
}

/** `twelve build`: bundles every process into .twelve/build/<target>/ with its manifest. */
export async function build(options: StageOptions = {}): Promise<BuildResult> {
  const { formation, stage, adapter } = await stageFormation({ ...library(options), entriesCheckedByBuild: true });
  const { manifest, manifestPath, outDir } = await buildFormation(formation, { stage, adapter });
  return { manifest, manifestPath, outDir };
}

export interface DevSession {
  /** twelve dev's own server (`twelve run` reaches it). */
  serverUrl: string;
  formation(): Formation;
  /** Stops taking work, lets in-flight work finish, stops every process. */
  stop(): Promise<void>;
}

/** `twelve dev`: the whole formation on this machine until stop(). */
export async function dev(options: ProjectOptions & { port?: number } = {}): Promise<DevSession> {
  return startDev({ cwd: cwdOf(options), config: options.config, target: options.target, port: options.port ?? 3000, adapters, printer: printer(options) });
}

/** One change of a plan, as `twelve plan --json` lists it (documented in the README). */
export interface PlannedChange {
  action: "create" | "update" | "delete";
  kind: string;
  name: string;
  fields?: { field: string; from: unknown; to: unknown }[];
  keptBecause?: string;
}

export interface PlanResult {
  app: string;
  stage: string;
  /** Where the stage is, for people: "AWS eu-west-1 (account 1234)". */
  where: string;
  changes: PlannedChange[];
  unchanged: number;
}

export interface DeployResult extends PlanResult {
  /** The URL of each web process. */
  urls: Record<string, string>;
  calls: Record<string, number>;
}

/** `twelve plan`: what deploy would change, read from the cloud; changes nothing. */
export async function plan(options: StageOptions & { force?: boolean } = {}): Promise<PlanResult> {
  const { formation, stage, deployed, deployment } = await openDeployment(library(options));
  return { app: formation.app, stage, where: deployed.where, ...planJson(deployment.plan({ force: Boolean(options.force) })) };
}

/** `twelve deploy --yes`: makes the cloud match the formation (never asks). */
export async function deploy(options: StageOptions & { force?: boolean } = {}): Promise<DeployResult> {
  const { formation, stage, deployed, deployment } = await openDeployment(library(options));
  const force = Boolean(options.force);
  let applied = deployment.plan({ force });
  if (toApply(applied).length) applied = await deployment.apply({ force }, (line) => options.log?.(line));
  return { app: formation.app, stage, where: deployed.where, ...planJson(applied), urls: await deployment.webUrls(), calls: deployment.calls() };
}

/** `twelve destroy --yes`: removes every resource of the app and stage. */
export async function destroy(options: StageOptions = {}): Promise<PlanResult> {
  const { formation, stage, deployed, deployment } = await openDeployment(library(options));
  const planned = deployment.plan({ destroy: true });
  if (planned.changes.length) await deployment.apply({ destroy: true }, (line) => options.log?.(line));
  return { app: formation.app, stage, where: deployed.where, ...planJson(planned) };
}

function library(options: StageOptions): LibraryStageOptions {
  return { cwd: cwdOf(options), config: options.config, target: options.target, stage: options.stage, adapters, env: process.env, debug: (line) => options.log?.(line) };
}

function cwdOf(options: ProjectOptions): string {
  return path.resolve(options.cwd ?? process.cwd());
}

/** twelve dev's lines, handed to `log` without colour (or dropped). */
function printer(options: ProjectOptions): Printer {
  return { line: (text) => options.log?.(text), paint: (_code, text) => text };
}
