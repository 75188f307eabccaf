#!/usr/bin/env node
// The `twelve` command. twelve runs its TypeScript source directly, which needs Node 22.18 or
// newer; on an older Node (machines with Node 20) it re-runs itself with the Node 22 that the
// project's `node` dependency puts in node_modules/.bin.
import { spawnSync } from "node:child_process";
import module from "node:module";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [process.cwd(), path.resolve(here, "..")].flatMap((start) => {
    const found = [];
    for (let dir = start; ; dir = path.dirname(dir)) {
      found.push(path.join(dir, "node_modules", ".bin", "node"));
      if (path.dirname(dir) === dir) return found;
    }
  });
  const node = candidates.find((file) => existsSync(file) && file !== process.execPath);
  if (!node || process.env.TWELVE_REEXEC) {
    console.error(`twelve needs Node 22.18 or newer; this is Node ${process.versions.node}.`);
    console.error("Install a newer Node, or `npm install --save-dev node@22` in your project and run twelve with npx.");
    process.exit(1);
  }
  const result = spawnSync(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, TWELVE_REEXEC: "1" },
  });
  process.exit(result.status ?? 1);
}

// V8 keeps compiled code between runs; each command starts faster after the first.
module.enableCompileCache?.();
const { loadMain } = await import("./prebuilt.mjs");
const main = await loadMain();
process.exit(await main(process.argv.slice(2)));
