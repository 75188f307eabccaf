import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests start moto_server, miniflare and the twelve CLI: give them room on a 2-core machine.
    testTimeout: 30_000,
    // Most files wait on child processes (moto, workerd, wrangler, twelve itself) more than
    // they compute: three files at a time keep both cores busy (vitest's default here is one).
    maxWorkers: 3,
    hookTimeout: 60_000,
  },
});
