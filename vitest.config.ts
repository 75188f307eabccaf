import os from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests start moto_server, miniflare and the twelve CLI: give them room on a 2-core machine.
    testTimeout: 30_000,
    // Most files wait on child processes (moto, workerd, wrangler, twelve itself) more than
    // they compute: three files at a time keep both cores busy (vitest's default here is one).
    maxWorkers: 3,
    // Every Node the tests start (twelve, its dev hosts, wrangler) keeps V8's compiled code
    // between runs, as twelve's own bin does: wrangler alone loads ~10 MB of JavaScript a run.
    env: { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? path.join(os.tmpdir(), "node-compile-cache") },
    hookTimeout: 60_000,
  },
});
