import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { usageError } from "../errors.ts";
import type { AdapterRegistry } from "../adapter.ts";
import type { StageOptions } from "../deploy/stage.ts";

/** Options every command takes. */
export const GLOBAL_OPTIONS = {
  config: { type: "string" },
  cwd: { type: "string" },
  json: { type: "boolean" },
  verbose: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsOptionsConfig;

export interface GlobalFlags {
  config: string | undefined;
  cwd: string;
  json: boolean;
  verbose: boolean;
  help: boolean;
}

/** parseArgs with twelve's usage errors (exit status 2, naming the command's help). */
export function parse<O extends ParseArgsOptionsConfig>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(`twelve ${command}: ${(error as Error).message.replace(/\. To specify a positional.*$/s, "")}`, `See \`twelve ${command} --help\`.`);
  }
}

export function globalFlags(values: Record<string, unknown>): GlobalFlags {
  return {
    config: values.config as string | undefined,
    cwd: (values.cwd as string | undefined) ?? process.cwd(),
    json: Boolean(values.json),
    verbose: Boolean(values.verbose),
    help: Boolean(values.help),
  };
}

/** Where a cloud command finds its app and stage: the flags, the platforms and the environment. */
export function stageOptions(flags: GlobalFlags, values: { stage?: string | undefined; target?: string | undefined }, adapters: AdapterRegistry, out?: { debug(line: string): void; note(line: string): void }): StageOptions {
  return { cwd: flags.cwd, config: flags.config, target: values.target, stage: values.stage, adapters, env: process.env, ...(out ? { debug: (line: string) => out.debug(line), note: (line: string) => out.note(line) } : {}) };
}
