import path from "node:path";
import type * as esbuildTypes from "esbuild";
import { esbuild } from "./esbuild.ts";
import type { Formation, Process } from "../formation/types.ts";
import type { ProcessMeta } from "../runtime/types.ts";
import { failure, TwelveError } from "../errors.ts";
import type { Problem } from "../formation/problems.ts";
import { HANDLERS } from "../runtime/module.ts";
import { isOwnCode, ownModule, TWELVE_MODULES } from "./twelve-paths.ts";

export interface BundleRequest {
  formation: Formation;
  process: Process;
  /**
   * twelve's wrapper module (named as ownModule() takes it) and the function it exports; `exports`:
   * names of the wrapper the bundle exports too (a Durable Object class a platform loads by name).
   */
  wrapper: { module: string; factory: string; exports?: readonly string[] };
  /** How the bundle exports the platform's entry point: `export const handler` or `export default`. */
  exportAs: "handler" | "default";
  /** File name of the bundle (index.mjs, index.js). */
  fileName: string;
  /** The folder the bundle will be written to: source map paths are relative to it. */
  outDir: string;
  options: esbuildTypes.BuildOptions;
}

export interface Bundle {
  fileName: string;
  code: Uint8Array;
  map: Uint8Array;
  /** Absolute paths of the project's own source files in the bundle (not node_modules, not twelve). */
  sources: string[];
}

export function processMeta(formation: Formation, process: Process): ProcessMeta {
  return {
    app: formation.app,
    process: process.name,
    type: process.type,
    entry: process.entryAsWritten,
    workers: formation.processes.filter((p) => p.type === "worker").map((p) => p.name),
    envKeys: [...new Set([...Object.keys(process.env), ...formation.secrets])].sort(),
    ...(process.type === "worker" ? { maxRetries: process.maxRetries } : {}),
    ...(process.type === "clock" ? { schedule: process.schedule, timezone: process.timezone } : {}),
  };
}

/** The module esbuild starts from: the user's entry wrapped by the platform's wrapper. */
function entryModule(request: BundleRequest): string {
  const { formation, process } = request;
  const entry = `./${path.relative(formation.root, process.entry).split(path.sep).join("/")}`;
  const meta = JSON.stringify(processMeta(formation, process));
  return [
    `import userModule from ${JSON.stringify(entry)};`,
    `import { ${request.wrapper.factory} } from "twelve:${request.wrapper.module}";`,
    request.exportAs === "handler"
      ? `export const handler = ${request.wrapper.factory}(userModule, ${meta});`
      : `export default ${request.wrapper.factory}(userModule, ${meta});`,
    ...(request.wrapper.exports?.length ? [`export { ${request.wrapper.exports.join(", ")} } from "twelve:${request.wrapper.module}";`] : []),
  ].join("\n");
}

const COMMON = {
  bundle: true,
  minify: true,
  treeShaking: true,
  sourcemap: "linked",
  sourcesContent: true,
  format: "esm",
  write: false,
  metafile: true,
  logLevel: "silent",
} satisfies esbuildTypes.BuildOptions;

/**
 * Bundles a process with the platform wrapper around it. The generated entry names only
 * relative or virtual paths, so the output (source map included) is the same in any checkout.
 */
export async function bundleProcess(request: BundleRequest): Promise<Bundle> {
  const { formation, process } = request;
  const outfile = path.join(request.outDir, request.fileName);
  let result: esbuildTypes.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      ...COMMON,
      stdin: { contents: entryModule(request), resolveDir: formation.root, sourcefile: `<twelve entry ${process.name}>`, loader: "js" },
      outfile,
      absWorkingDir: formation.root,
      plugins: [twelveModules()],
      ...request.options,
    });
  } catch (error) {
    throw bundleError(error, process);
  }
  return bundleOf(request, result, Object.keys(result.metafile.inputs));
}

/**
 * Bundles several processes, in one esbuild run for those built alike (same folder, file name
 * and options; on one platform, all of them): the modules they share (twelve's runtime, the
 * app's own libraries) are read and parsed once. A run that fails is done again process by
 * process, so each process's errors are its own, as bundleProcess gives them.
 */
export async function bundleProcesses(requests: readonly BundleRequest[]): Promise<PromiseSettledResult<Bundle>[]> {
  const groups = new Map<string, number[]>();
  requests.forEach((request, i) => {
    const key = JSON.stringify([request.formation.root, path.dirname(request.outDir), request.fileName, request.exportAs, request.options]);
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const results: PromiseSettledResult<Bundle>[] = [];
  await Promise.all([...groups.values()].map(async (indexes) => {
    const group = indexes.map((i) => requests[i] as BundleRequest);
    const bundles = group.length > 1 ? await bundleTogether(group) : undefined;
    const settled = bundles ? bundles.map((value) => ({ status: "fulfilled", value }) as const) : await Promise.allSettled(group.map(bundleProcess));
    indexes.forEach((i, n) => (results[i] = settled[n] as PromiseSettledResult<Bundle>));
  }));
  return results;
}

const ENTRY_NAMESPACE = "twelve-entry";

/** One esbuild run for processes built alike; undefined when it fails (each is then bundled alone). */
async function bundleTogether(group: readonly BundleRequest[]): Promise<Bundle[] | undefined> {
  const first = group[0] as BundleRequest;
  const byName = new Map(group.map((request) => [request.process.name, request]));
  const extension = path.extname(first.fileName);
  let result: esbuildTypes.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      ...COMMON,
      entryPoints: group.map((request) => ({
        in: `${ENTRY_NAMESPACE}:${request.process.name}`,
        out: `${path.basename(request.outDir)}/${path.basename(request.fileName, extension)}`,
      })),
      outdir: path.dirname(first.outDir),
      outExtension: { ".js": extension },
      absWorkingDir: first.formation.root,
      plugins: [twelveModules(), {
        name: "twelve-entries",
        setup(build) {
          build.onResolve({ filter: new RegExp(`^${ENTRY_NAMESPACE}:`) }, (args) => ({ path: args.path.slice(ENTRY_NAMESPACE.length + 1), namespace: ENTRY_NAMESPACE }));
          build.onLoad({ filter: /.*/, namespace: ENTRY_NAMESPACE }, (args) => {
            const request = byName.get(args.path) as BundleRequest;
            return { contents: entryModule(request), resolveDir: request.formation.root, loader: "js" };
          });
        },
      }],
      ...first.options,
      write: false,
      metafile: true,
    });
  } catch {
    return undefined;
  }
  const inputs = result.metafile.inputs;
  return group.map((request) => bundleOf(request, result, reachable(inputs, `${ENTRY_NAMESPACE}:${request.process.name}`)));
}

/** The inputs a module imports, itself included, transitively: one process's part of a shared run. */
function reachable(inputs: esbuildTypes.Metafile["inputs"], from: string): string[] {
  const seen = new Set<string>([from]);
  for (const input of seen) {
    for (const imported of inputs[input]?.imports ?? []) if (!imported.external && imported.path in inputs) seen.add(imported.path);
  }
  return [...seen];
}

function bundleOf(request: BundleRequest, result: esbuildTypes.BuildResult<{ write: false; metafile: true }>, inputs: string[]): Bundle {
  const { formation, process } = request;
  const outfile = path.join(request.outDir, request.fileName);
  const code = result.outputFiles.find((f) => f.path === outfile);
  const map = result.outputFiles.find((f) => f.path === `${outfile}.map`);
  if (!code || !map) throw failure(`esbuild produced no output for process "${process.name}"`);
  const sources = inputs
    .filter((input) => !input.includes("node_modules") && !input.startsWith("<") && !input.startsWith("twelve:") && !input.startsWith(`${ENTRY_NAMESPACE}:`))
    .map((input) => path.resolve(formation.root, input))
    .filter((file) => !isOwnCode(file));
  return { fileName: request.fileName, code: code.contents, map: map.contents, sources };
}

/** Resolves "twelve" to the portable runtime and "twelve:<path>" to twelve's own wrapper modules. */
export function twelveModules(): esbuildTypes.Plugin {
  return {
    name: "twelve-modules",
    setup(build) {
      build.onResolve({ filter: /^twelve(\/runtime)?$/ }, (args) => ({ path: TWELVE_MODULES[args.path] }));
      build.onResolve({ filter: /^twelve:/ }, (args) => ({ path: ownModule(args.path.slice("twelve:".length)) }));
    },
  };
}

/**
 * The bundler found no default export in the entry: a problem of the formation (exit 2),
 * which buildFormation reports with the others. (The entry's own check, handlers.ts, usually
 * names it first; this covers what that reading cannot decide.)
 */
export class MissingDefault extends TwelveError {
  readonly problem: Problem;
  constructor(process: Process) {
    const problem = { path: `processes.${process.name}.entry`, message: `${process.entryAsWritten} has no default export; export default ${HANDLERS[process.type].shape}` };
    super(`${problem.path}: ${problem.message}`, { exitCode: 2 });
    this.problem = problem;
  }
}

function bundleError(error: unknown, process: Process): TwelveError {
  const failureList = (error as { errors?: esbuildTypes.Message[] }).errors;
  if (!failureList) return failure(`bundling process "${process.name}" failed: ${String(error)}`, undefined, error);
  const noDefault = failureList.find((e) => /No matching export .* for import "default"/.test(e.text));
  if (noDefault) return new MissingDefault(process);
  const lines = failureList.map((e) =>
    e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text,
  );
  return new TwelveError(`bundling process "${process.name}" (${process.entryAsWritten}) failed:`, {
    exitCode: 1,
    details: lines,
    hint: "Fix the source and build again; a missing package needs npm install.",
  });
}
