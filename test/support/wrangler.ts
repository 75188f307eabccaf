import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO } from "./cli.ts";
import { runProcess, type ProcessResult } from "./process.ts";

/**
 * Runs the project's pinned wrangler offline: no telemetry, no banner (whose update check
 * would reach the npm registry), a throwaway home for its config and logs.
 */
export function runWrangler(args: string[], env: NodeJS.ProcessEnv = {}, options: { cwd?: string; input?: string } = {}): Promise<ProcessResult> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-wrangler-"));
  return runProcess(process.execPath, [path.join(REPO, "node_modules", "wrangler", "bin", "wrangler.js"), ...args], {
    ...options,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, ".config"),
      TMPDIR: home,
      CI: "true",
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_HIDE_BANNER: "true",
      NO_COLOR: "1",
      ...env,
    },
  }).finally(() => fs.rmSync(home, { recursive: true, force: true }));
}
