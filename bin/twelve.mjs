#!/usr/bin/env node
// The `twelve` command. The installed package runs the JavaScript its prepack step compiled
// into dist/; a checkout of twelve (src/ present) runs its TypeScript source with Node's type
// stripping. On a Node too old for twelve it re-runs itself with a Node 22 from node_modules/.bin
// (the `node` package), or says what to install. Only this file calls process.exit.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import module from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const checkout = existsSync(path.join(root, "src", "cli", "main.ts"));
// What package.json's engines say (wrangler and miniflare need 22.12); a checkout's TypeScript
// runs unflagged from 22.18.
const engines = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).engines.node;
const needed = checkout ? [22, 18] : /(\d+)\.(\d+)/.exec(engines).slice(1, 3).map(Number);
// A new app can be made on any Node: init also gives it Node 22 when this one is older.
const anyNode = !checkout && ["init", "help", "--help", "-h", "--version", "-v", undefined].includes(process.argv[2]);

const [major, minor] = process.versions.node.split(".").map(Number);
if (!anyNode && (major < needed[0] || (major === needed[0] && minor < needed[1]))) {
  const wanted = `${needed[0]}.${needed[1]}`;
  const candidates = [process.cwd(), root].flatMap((start) => {
    const found = [];
    for (let dir = start; ; dir = path.dirname(dir)) {
      found.push(path.join(dir, "node_modules", ".bin", "node"));
      if (path.dirname(dir) === dir) return found;
    }
  });
  const node = candidates.find((file) => existsSync(file) && file !== process.execPath);
  if (!node || process.env.TWELVE_REEXEC) {
    console.error(`error twelve needs Node ${wanted} or newer; this is Node ${process.versions.node} (${process.execPath}).`);
    console.error("Install Node 22 (https://nodejs.org, or `nvm install 22`), or give this app its own: npm install --save-dev node@22, then run npx twelve again.");
    process.exit(2);
  }
  // Not spawnSync: this process must stay alive to hand every signal on (a SIGTERM sent to it
  // alone would otherwise leave the real twelve and its children running) and to pass back the
  // real exit status. A Ctrl-C reaches both processes; twelve dev counts the two as one.
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, TWELVE_REEXEC: "1" },
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  const [code, signal] = await new Promise((resolve) => child.on("exit", (...exit) => resolve(exit)));
  process.exit(code ?? 128 + (os.constants.signals[signal] ?? 0));
}

// V8 keeps compiled code between runs (in the OS's temp folder): later commands start faster.
module.enableCompileCache?.();
// The package runs its command as one bundled module (scripts/pack.ts).
const { main } = await import(checkout ? "../src/cli/main.ts" : "../dist/src/cli/main.bundle.js");
process.exit(await main(process.argv.slice(2)));
