import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { usageError } from "../errors.ts";
import { stageProblem } from "../formation/names.ts";
import { DEFAULTS } from "../formation/types.ts";

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

/** --stage, or the default stage; an unusable name is a usage error. */
export function stageFlag(value: string | undefined): string {
  const stage = value ?? DEFAULTS.stage;
  const problem = stageProblem(stage);
  if (problem) throw usageError(`--stage: ${problem}`);
  return stage;
}
