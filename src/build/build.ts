import fs from "node:fs/promises";
import path from "node:path";
import type { Adapter } from "../adapter.ts";
import { configError, type Problem } from "../formation/problems.ts";
import type { Formation, Process } from "../formation/types.ts";
import { writeArtifact } from "./artifacts.ts";
import { TwelveError } from "../errors.ts";
import { bundleProcesses, MissingDefault, type Bundle } from "./bundle.ts";
import { handlerProblems } from "./handlers.ts";
import type { Manifest, ManifestProcess } from "./manifest.ts";
import { describeCall, findSendCalls, sendTargets } from "./sends.ts";
import { TWELVE_VERSION } from "./version.ts";

export interface BuildOptions {
  stage: string;
  /** The platform of the formation's target. */
  adapter: Adapter;
  /** Where to build; default .twelve/build/<target> (deploys build into a folder of their own). */
  outDir?: string;
  /** Called once per process as it finishes. */
  onProcess?: (process: ManifestProcess) => void;
}

export interface BuildResult {
  manifest: Manifest;
  /** .twelve/build/<target> */
  outDir: string;
  manifestPath: string;
  /** The project's own source files in each process's bundle, by process: what to watch. */
  sources: Record<string, string[]>;
}

export function buildDir(formation: Formation): string {
  return path.join(formation.root, ".twelve", "build", formation.target);
}

/**
 * Bundles every process for the formation's target (in parallel: esbuild runs off the main
 * thread), checks each entry's handler and the send() calls against the formation, then writes
 * the artifacts and the manifest. The previous build of the target is replaced whole, so
 * nothing stale survives.
 */
export async function buildFormation(formation: Formation, options: BuildOptions): Promise<BuildResult> {
  const { adapter } = options;
  const outDir = options.outDir ?? buildDir(formation);
  const { bundles, sends } = await bundleAll(formation, adapter, outDir);

  // Written beside the old build and swapped in at the end: a build that fails, or another
  // build running at the same time, never leaves a half-written folder.
  const writeDir = `${outDir}.${process.pid}.${Date.now()}.tmp`;
  await fs.mkdir(writeDir, { recursive: true });

  const processes = await Promise.all(
    formation.processes.map(async (process, i) => {
      const packaged = await adapter.package({
        formation,
        process,
        stage: options.stage,
        bundle: bundles[i] as Bundle,
        sends: sends[i] as string[],
        outDir: writeDir,
      });
      const entry: ManifestProcess = {
        ...describeProcess(formation, process),
        sends: sends[i] as string[],
        artifacts: packaged.artifacts,
        platform: packaged.platform,
      };
      options.onProcess?.(entry);
      return { entry, notes: packaged.notes };
    }),
  );

  const manifest: Manifest = {
    manifestVersion: 1,
    twelveVersion: TWELVE_VERSION,
    app: formation.app,
    target: formation.target,
    stage: options.stage,
    processes: processes.map((p) => p.entry),
    secrets: formation.secrets,
    notes: processes.flatMap((p) => p.notes),
  };
  const manifestPath = path.join(outDir, "manifest.json");
  await writeArtifact(writeDir, "manifest.json", `${JSON.stringify(manifest, null, 2)}\n`);
  await swapIn(writeDir, outDir);
  const sources = Object.fromEntries(formation.processes.map((p, i) => [p.name, (bundles[i] as Bundle).sources]));
  return { manifest, outDir, manifestPath, sources };
}

/** Replaces `to` with `from`; another build may land its own folder in between, so retry. */
async function swapIn(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await fs.rm(to, { recursive: true, force: true });
    try {
      return await fs.rename(from, to);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (attempt >= 5 || (code !== "ENOTEMPTY" && code !== "EEXIST")) throw error;
    }
  }
}

function describeProcess(formation: Formation, process: Process): Omit<ManifestProcess, "sends" | "artifacts" | "platform"> {
  const base = {
    name: process.name,
    type: process.type,
    entry: path.relative(formation.root, process.entry).split(path.sep).join("/"),
    concurrency: process.concurrency,
    env: process.env,
  };
  if (process.type === "worker") return { ...base, batchSize: process.batchSize, maxRetries: process.maxRetries };
  if (process.type === "clock") return { ...base, schedule: process.schedule, timezone: process.timezone };
  return base;
}

/**
 * Every process bundled, and every problem of every process in one error: the platform's
 * objections, a missing handler, send() to what is not a worker. loadConfig() checked the
 * handlers already; they are checked again because twelve dev rebuilds when a source changes
 * without loading the config again. A bundle that does not compile is an error of its own
 * (exit 1), every process's at once.
 */
async function bundleAll(formation: Formation, adapter: Adapter, outDir: string): Promise<{ bundles: Bundle[]; sends: string[][] }> {
  const [handlers, , settled] = await Promise.all([
    handlerProblems(formation.processes, { cacheRoot: formation.root }),
    // The entries' sends are read while esbuild bundles: the send check after it finds them read.
    findSendCalls(formation.processes.map((p) => p.entry), { cacheRoot: formation.root }),
    bundleProcesses(formation.processes.map((process) => ({ formation, process, outDir: path.join(outDir, process.name), ...adapter.bundleOptions(process) }))),
  ]);
  const problems: Problem[] = adapter.check(formation);
  const failures: TwelveError[] = [];
  const bundles: (Bundle | undefined)[] = [];
  settled.forEach((result, i) => {
    const handler = handlers[i];
    if (handler) problems.push(handler);
    if (result.status === "fulfilled") return void (bundles[i] = result.value);
    // The bundler's "no default export" is the problem the handler check already names.
    if (result.reason instanceof MissingDefault) return void (handler ? undefined : problems.push(result.reason.problem));
    if (!(result.reason instanceof TwelveError)) throw result.reason;
    failures.push(result.reason);
  });
  if (failures.length) throw failures.length === 1 ? failures[0] : combined(failures);
  const sends = await checkSends(formation, bundles, problems);
  if (problems.length) throw configError(formation.configFile, problems);
  return { bundles: bundles as Bundle[], sends };
}

/** Several processes that do not compile, in one error: each one's lines under its own heading. */
function combined(failures: TwelveError[]): TwelveError {
  return new TwelveError(`${failures.length} processes failed to bundle:`, {
    exitCode: 1,
    details: failures.flatMap((f) => [f.message, ...f.details.map((line) => `  ${line}`)]),
    hint: failures[0]?.hint,
  });
}

/** send("x") with a literal x that is not a worker is a problem, naming the file and line. */
async function checkSends(formation: Formation, bundles: (Bundle | undefined)[], problems: Problem[]): Promise<string[][]> {
  const workers = formation.processes.filter((p) => p.type === "worker").map((p) => p.name);
  const found = await Promise.all(formation.processes.map((_, i) => findSendCalls(bundles[i]?.sources ?? [], { cacheRoot: formation.root })));
  const targets = found.map((calls, i) => {
    const process = formation.processes[i] as Process;
    for (const call of calls) {
      if (call.worker === undefined || workers.includes(call.worker)) continue;
      const other = formation.processes.find((p) => p.name === call.worker);
      problems.push({
        path: `processes.${process.name}`,
        message: `send("${call.worker}") at ${describeCall(call, formation.root)}: ${
          other ? `"${call.worker}" is a ${other.type} process, not a worker` : `no process is named "${call.worker}"`
        }; send() takes a worker (${workers.length ? workers.join(", ") : "this formation has none"})`,
      });
    }
    return sendTargets(calls, workers);
  });
  return targets;
}
