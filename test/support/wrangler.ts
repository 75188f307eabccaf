import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO } from "./cli.ts";
import { runProcess, type ProcessResult } from "./process.ts";

/**
 * What wrangler needs to run offline: no telemetry, no banner (whose update check would reach
 * the npm registry), its config and logs in `home`.
 */
export function offlineWranglerEnv(home: string): NodeJS.ProcessEnv {
  return { HOME: home, XDG_CONFIG_HOME: path.join(home, ".config"), CI: "true", WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" };
}

/** Every host but 127.0.0.1 sent to a dead local port (wrangler then warns that it uses a proxy). */
export const DEAD_PROXY: NodeJS.ProcessEnv = { HTTPS_PROXY: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9", NO_PROXY: "127.0.0.1" };

/** The environment in which twelve (and the wrangler it runs) deploys to a Cloudflare API stand-in. */
export function cloudflareTestEnv(api: { url: string; accountId: string }, home: string): NodeJS.ProcessEnv {
  return {
    ...offlineWranglerEnv(home),
    ...DEAD_PROXY,
    CLOUDFLARE_API_BASE_URL: api.url,
    CLOUDFLARE_API_TOKEN: "test-token",
    CLOUDFLARE_ACCOUNT_ID: api.accountId,
    // A clock's run and last run go to its Worker (workers.dev): nothing listens here, and nothing leaves 127.0.0.1.
    TWELVE_CLOUDFLARE_WORKER_URL: "http://127.0.0.1:9",
  };
}

/** Runs the project's pinned wrangler offline, with a throwaway home. */
export function runWrangler(args: string[], env: NodeJS.ProcessEnv = {}, options: { cwd?: string; input?: string } = {}): Promise<ProcessResult> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-wrangler-"));
  return runProcess(process.execPath, [path.join(REPO, "node_modules", "wrangler", "bin", "wrangler.js"), ...args], {
    ...options,
    env: { PATH: process.env.PATH, TMPDIR: home, NO_COLOR: "1", NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE, ...offlineWranglerEnv(home), ...env },
  }).finally(() => fs.rmSync(home, { recursive: true, force: true }));
}
