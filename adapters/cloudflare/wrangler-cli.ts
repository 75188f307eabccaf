import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { withCompileCache } from "../../src/compile-cache.ts";
import { packageDir, requirePackages } from "../../src/peers.ts";

/** wrangler's CLI, from the app's install (an optional peer dependency of twelve). */
export function wranglerBin(neededFor = "deploying to Cloudflare"): string {
  requirePackages(["wrangler"], neededFor);
  return path.join(packageDir("wrangler") as string, "bin", "wrangler.js");
}

export interface WranglerRun {
  code: number;
  /** stdout and stderr as wrangler printed them, interleaved. */
  output: string;
}

/**
 * Runs wrangler with Node 22 (the Node running twelve), never interactively: stdin is closed,
 * so wrangler neither prompts nor opens a browser to log in.
 */
export function runWrangler(args: string[], options: { env: NodeJS.ProcessEnv; cwd: string; onLine?: (line: string) => void }): Promise<WranglerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wranglerBin(), ...args], { cwd: options.cwd, env: withCompileCache(options.env), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let pending = "";
    const take = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      output += text;
      if (!options.onLine) return;
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) options.onLine(line);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", reject);
    child.on("close", (code) => {
      if (pending && options.onLine) options.onLine(pending);
      resolve({ code: code ?? 1, output });
    });
  });
}

/**
 * `wrangler deploy` of one built Worker. Secrets travel with the upload: wrangler reads a
 * --secrets-file in .env form whose entries the process environment overrides, so the file
 * holds only the names (`NAME=`), the values come from the environment twelve runs in, and
 * the file is removed when wrangler is done.
 */
export async function wranglerDeploy(configPath: string, secretNames: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void): Promise<WranglerRun> {
  let dir: string | undefined;
  const args = ["deploy", "--config", configPath];
  if (secretNames.length) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-secrets-"));
    const file = path.join(dir, "secrets.env");
    fs.writeFileSync(file, secretNames.map((name) => `${name}=\n`).join(""), { mode: 0o600 });
    args.push("--secrets-file", file);
  }
  try {
    return await runWrangler(args, { env, cwd: path.dirname(configPath), ...(onLine ? { onLine } : {}) });
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The lines of wrangler's output that say what went wrong, for an error message. */
export function wranglerError(output: string): string {
  // eslint-disable-next-line no-control-regex
  const lines = output.replace(/\u001b\[[0-9;]*m/g, "").split("\n").map((l) => l.trimEnd());
  const start = lines.findIndex((l) => /^✘|\[ERROR\]|^Error/.test(l.trim()));
  const relevant = (start >= 0 ? lines.slice(start) : lines.slice(-12)).filter((l) => l.trim() && !/^🪵|Logs were written|^If you think this is a bug/.test(l.trim()));
  return relevant.slice(0, 12).join("\n");
}
