import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { AdapterRegistry } from "../adapter.ts";
import type * as esbuildTypes from "esbuild";
import { esbuild } from "../build/esbuild.ts";
import { TwelveError } from "../errors.ts";
import { twelveModules } from "../build/bundle.ts";
import { isOwnCode } from "../build/twelve-paths.ts";
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
  // The validator (zod's ~20 ms of loading) loads while esbuild compiles the config.
  const [{ code, dependencies, duplicates }, { checkFormation }] = await Promise.all([bundleConfig(configFile, root), import("../formation/validate.ts")]);
  const raw = await importBundled(code, configFile, root);
  const check = checkFormation(raw, { configFile, target: options.target, stage: options.stage, adapters: options.adapters });
  const right = duplicates.length === 0 && check.problems.length === 0 && check.formation !== undefined;
  const handlers = right && options.entriesCheckedByBuild ? [] : (await handlerProblems(check.processes)).filter((p) => p !== undefined);
  const problems = [...duplicates, ...check.problems, ...handlers];
  if (problems.length || !check.formation) throw configError(configFile, problems);
  return { formation: check.formation, dependencies };
}

async function bundleConfig(configFile: string, root: string): Promise<{ code: string; dependencies: string[]; duplicates: Problem[] }> {
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
  return { code: output.text, dependencies, duplicates };
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

/** Imports the bundled config from a file beside the project, so its packages resolve. */
async function importBundled(code: string, configFile: string, root: string): Promise<unknown> {
  const dir = path.join(root, ".twelve");
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `config.${randomUUID()}.mjs`);
  await fs.writeFile(file, code);
  try {
    const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
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
  } finally {
    await fs.rm(file, { force: true });
  }
}
