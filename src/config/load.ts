import { readFileSync, rmSync, statSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { AdapterRegistry } from "../adapter.ts";
import type * as esbuildTypes from "esbuild";
import { contentKey, fileCache } from "../build/cache.ts";
import { esbuild } from "../build/esbuild.ts";
import { TwelveError } from "../errors.ts";
import { twelveModules } from "../build/bundle.ts";
import { isOwnCode } from "../build/twelve-paths.ts";
import { checkEntry } from "../formation/entry.ts";
import { configError, type Problem } from "../formation/problems.ts";
import { handlerProblems } from "../build/handlers.ts";
import type { Formation } from "../formation/types.ts";
import { findConfig } from "./find.ts";

export interface LoadOptions {
  cwd: string;
  config?: string | undefined;
  target?: string | undefined;
  stage?: string | undefined;
  /** The platforms: the target's ranges and its own objections. */
  adapters: AdapterRegistry;
  /**
   * The caller bundles the processes next, and buildFormation checks the entries' handlers
   * while esbuild works: when the config itself is right, do not wait for that check here.
   * (A config with problems still waits, so they come with the entries' in one error.)
   */
  entriesCheckedByBuild?: boolean | undefined;
}

export interface LoadedConfig {
  formation: Formation;
  /** The config file and every local file it imports: `twelve dev` reloads when one changes. */
  dependencies: string[];
}

/**
 * Loads twelve.config.ts: bundles it with esbuild (so TypeScript and local imports work on any
 * Node), imports the result, validates it for the target (the target's adapter adding its own
 * objections) and reads each process's entry for the handler its type needs. Every problem of
 * all of these comes in one error: fixing one never just uncovers the next. Packages stay
 * external and resolve from the project's node_modules.
 */
export async function loadConfig(options: LoadOptions): Promise<LoadedConfig> {
  const configFile = findConfig(options.cwd, options.config);
  const root = path.dirname(configFile);
  const compiled = cachedConfig(configFile, root);
  // The validator (zod's ~20 ms of loading) loads while esbuild compiles the config; a config
  // compiled before was most likely checked before too, and then needs no validator.
  const validator = compiled ? undefined : import("../formation/validate.ts");
  const { module, dependencies, duplicates } = compiled ?? (await compileConfig(configFile, root));
  const raw = await importBundled(module, configFile);
  const key = duplicates.length === 0 ? checkedKey(raw, configFile, options) : undefined;
  const checked = key === undefined ? undefined : checkedFormation(root, key);
  const check = checked ? { formation: checked, processes: checked.processes, problems: [] } : (await (validator ?? import("../formation/validate.ts"))).checkFormation(raw, {
    configFile, target: options.target, stage: options.stage, adapters: options.adapters,
  });
  const right = duplicates.length === 0 && check.problems.length === 0 && check.formation !== undefined;
  const handlers = right && options.entriesCheckedByBuild ? [] : (await handlerProblems(check.processes, { cacheRoot: root })).filter((p) => p !== undefined);
  const problems = [...duplicates, ...check.problems, ...handlers];
  if (problems.length || !check.formation) throw configError(configFile, problems);
  if (key !== undefined && !checked) {
    const cache = formationsCache(root);
    cache.set(key, check.formation);
    cache.save();
  }
  return { formation: check.formation, dependencies };
}

/**
 * The formations checked before. A few are kept: the config's value changes with each edit, and
 * each run of a value made per run (a build time in its env) adds one, never used again.
 */
const formationsCache = (root: string) => fileCache<Formation>(root, "formations", import.meta.url, 16);

/**
 * The key of a config's value checked for these options: the value itself (when it is plain
 * data, as JSON), the config file, target and stage, the platforms' ranges and own checks, and
 * the Node (whose time zone data decides a clock's zone). undefined: a value that JSON would
 * not give back whole (a function, a class, an undefined), which is checked every time.
 */
function checkedKey(raw: unknown, configFile: string, options: LoadOptions): string | undefined {
  if (!isPlainData(raw, 0)) return undefined;
  const platforms = Object.entries(options.adapters).map(([target, adapter]) => `${target} ${JSON.stringify(adapter.limits)} ${adapter.check.toString()}`);
  return contentKey(JSON.stringify(raw), configFile, options.target ?? "", options.stage ?? "", process.version, ...platforms);
}

function isPlainData(value: unknown, depth: number): boolean {
  if (depth > 32) return false;
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((item) => isPlainData(item, depth + 1));
  if (typeof value !== "object") return false;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  return Object.values(value).every((item) => isPlainData(item, depth + 1));
}

/**
 * The formation this value was checked into by an earlier run, if its entries are still
 * files twelve can read (the check says what is wrong with one that is not).
 */
function checkedFormation(root: string, key: string): Formation | undefined {
  const formation = formationsCache(root).get(key);
  return formation && formation.processes.every((process) => checkEntry(process.entry) === undefined) ? formation : undefined;
}

interface CompiledConfig {
  /** The compiled config's file, .twelve/cache/config-<hash of its code>.mjs. */
  module: string;
  dependencies: string[];
  duplicates: Problem[];
}

/**
 * A compiled config as the cache keeps it, with what it was compiled from: each input file's
 * text (hashed) and the time each of their folders last changed (a file added beside one, such
 * as a.ts beside the a.js it imports, may change what an import resolves to).
 */
interface CachedConfig extends CompiledConfig {
  inputs: Record<string, string>;
  folders: Record<string, number>;
}

/** The compiled configs, by config file: an app has one, or a few (--config). */
const configCache = (root: string) => fileCache<CachedConfig>(root, "config", import.meta.url, 8);

/** The config as an earlier run compiled it, when nothing it was compiled from has changed. */
function cachedConfig(configFile: string, root: string): CompiledConfig | undefined {
  const cached = configCache(root).get(configFile);
  if (!cached) return undefined;
  try {
    statSync(cached.module);
    for (const [folder, mtimeMs] of Object.entries(cached.folders)) if (statSync(folder).mtimeMs !== mtimeMs) return undefined;
    for (const [file, hash] of Object.entries(cached.inputs)) if (contentKey(readFileSync(file, "utf8")) !== hash) return undefined;
  } catch {
    return undefined;
  }
  return { module: cached.module, dependencies: cached.dependencies, duplicates: cached.duplicates };
}

function cacheConfig(configFile: string, root: string, compiled: CompiledConfig, inputs: string[]): void {
  const cache = configCache(root);
  // The config's previous compile is of no more use.
  const previous = cache.get(configFile)?.module;
  if (previous && previous !== compiled.module) rmSync(previous, { force: true });
  try {
    cache.set(configFile, {
      ...compiled,
      inputs: Object.fromEntries(inputs.map((file) => [file, contentKey(readFileSync(file, "utf8"))])),
      folders: Object.fromEntries([...new Set(inputs.map((file) => path.dirname(file)))].map((folder) => [folder, statSync(folder).mtimeMs])),
    });
  } catch {
    // An input gone since esbuild read it: nothing to keep.
    return;
  }
  cache.save();
}

/** The config compiled by esbuild (and kept for the next run). */
async function compileConfig(configFile: string, root: string): Promise<CompiledConfig> {
  let result: esbuildTypes.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      entryPoints: [configFile],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node22",
      packages: "external",
      // The metafile's paths are relative to this: the dependencies resolve from the root below.
      absWorkingDir: root,
      write: false,
      metafile: true,
      outfile: path.join(root, ".twelve", "config.mjs"),
      logLevel: "silent",
      define: IMPORT_META,
      plugins: [twelveModules(), ownImportMeta()],
    });
  } catch (error) {
    const errors = (error as { errors?: esbuildTypes.Message[] }).errors ?? [];
    throw new TwelveError(`${path.relative(process.cwd(), configFile) || configFile} does not compile:`, {
      exitCode: 2,
      details: errors.map((e) => (e.location ? `line ${e.location.line}:${e.location.column}: ${e.text}` : e.text)),
      hint: "Fix the syntax error and run the command again.",
    });
  }
  // A key written twice in an object literal silently keeps the last one: in a formation
  // that loses a whole process, so it is a problem, reported with the config's others.
  const duplicates = result.warnings.filter((w) => w.id === "duplicate-object-key").map(duplicateKeyProblem);
  const dependencies = Object.keys(result.metafile.inputs)
    .map((input) => path.resolve(root, input))
    .filter((file) => !file.includes(`${path.sep}node_modules${path.sep}`) && !isOwnCode(file));
  const output = result.outputFiles[0];
  if (!output) throw new TwelveError(`esbuild produced nothing for ${configFile}`, { exitCode: 1 });
  // Named by its code: a config compiled as before is the same file, and Node's compile cache
  // (bin/twelve.mjs) keeps one entry for it, where a fresh name each run left one behind each time.
  const module = path.join(root, ".twelve", "cache", `config-${contentKey(output.text).slice(0, 24)}.mjs`);
  await fs.mkdir(path.dirname(module), { recursive: true });
  await fs.writeFile(module, output.text);
  const compiled = { module, dependencies, duplicates };
  cacheConfig(configFile, root, compiled, Object.keys(result.metafile.inputs).map((input) => path.resolve(root, input)));
  return compiled;
}

/**
 * The bundled config runs from .twelve/, so `import.meta.url`, `.dirname` and `.filename` would
 * name that copy. As Vite does, each of the project's own files gets its own values instead:
 * the expressions become module-scoped constants declared at the top of that file.
 */
const IMPORT_META = {
  "import.meta.url": "__twelve_import_meta_url",
  "import.meta.dirname": "__twelve_import_meta_dirname",
  "import.meta.filename": "__twelve_import_meta_filename",
};

function ownImportMeta(): esbuildTypes.Plugin {
  const LOADERS: Record<string, esbuildTypes.Loader> = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "jsx" };
  return {
    name: "twelve-import-meta",
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const loader = LOADERS[path.extname(args.path)];
        if (!loader) return undefined;
        const values = [
          `const ${IMPORT_META["import.meta.url"]} = ${JSON.stringify(pathToFileURL(args.path).href)};`,
          `const ${IMPORT_META["import.meta.dirname"]} = ${JSON.stringify(path.dirname(args.path))};`,
          `const ${IMPORT_META["import.meta.filename"]} = ${JSON.stringify(args.path)};`,
        ].join(" ");
        // One line, so the file's own line numbers stay what they were in error messages.
        return { contents: `${values}${await fs.readFile(args.path, "utf8")}`, loader };
      });
    },
  };
}

/** A key written twice: a whole process when its value starts with `{ type:`, else one setting. */
function duplicateKeyProblem(warning: esbuildTypes.Message): Problem {
  const key = /Duplicate key "([^"]+)"/.exec(warning.text)?.[1] ?? "?";
  const line = warning.location?.line ?? 0;
  const after = warning.location ? warning.location.lineText.slice(warning.location.column + warning.location.length) : "";
  if (/^\s*"?\s*:\s*\{\s*type\s*:/.test(after)) {
    return { path: `processes.${key}`, message: `process "${key}" is defined twice (line ${line}); process names must be unique, and the first would be silently lost` };
  }
  return { path: `line ${line}`, message: `"${key}" is written twice in one object; JavaScript keeps only the last, so the first would be silently lost` };
}

/** How many times this process imported each compiled config: twelve dev loads it again on a change. */
const imports = new Map<string, number>();

/** Imports the compiled config from its file beside the project, so its packages resolve. */
async function importBundled(module: string, configFile: string): Promise<unknown> {
  // The same file again (twelve dev reloading after an environment change) needs a URL of its
  // own, or Node hands back the module it ran before without running the config again.
  const count = imports.get(module) ?? 0;
  imports.set(module, count + 1);
  try {
    const mod = (await import(`${pathToFileURL(module).href}${count ? `?load=${count}` : ""}`)) as { default?: unknown };
    if (mod.default === undefined) {
      throw new TwelveError(`${path.basename(configFile)} has no default export`, {
        exitCode: 2,
        hint: 'Write `export default defineConfig({ ... })`, with `import { defineConfig } from "twelve"`.',
      });
    }
    return mod.default;
  } catch (error) {
    if (error instanceof TwelveError) throw error;
    throw new TwelveError(`${path.basename(configFile)} threw while loading: ${(error as Error).message ?? String(error)}`, {
      exitCode: 2,
      cause: error,
      hint: "The config runs when twelve loads it; fix the error it throws.",
    });
  }
}
