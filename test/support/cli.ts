import path from "node:path";
import { fileURLToPath } from "node:url";
import { runProcess, type ProcessResult } from "./process.ts";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = path.join(REPO, "bin", "twelve.mjs");

export type CliResult = ProcessResult;

/** Runs the twelve command as a user would, with this Node (22). */
export function runTwelve(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return runProcess(process.execPath, [BIN, ...args], { cwd: options.cwd ?? REPO, env: { ...process.env, NO_COLOR: "1", ...options.env } });
}
