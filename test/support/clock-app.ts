import type { MiniflareWorkerConfig, WorkerOptions } from "miniflare";
import type { WranglerConfig } from "../../adapters/cloudflare/wrangler.ts";

// A formation of two clocks for the Cloudflare lease tests (test/adapters/cloudflare-clock-*.test.ts),
// and a miniflare Worker made from the wrangler.json twelve builds for a clock.

/** `slow` runs for 3 s; `broken` fails after 50 ms. Both are due every minute. */
export const CLOCK_APP = {
  "twelve.config.ts": `export default {
  app: "leases",
  target: "cloudflare",
  processes: {
    slow: { type: "clock", entry: "src/clock.ts", schedule: "* * * * *", env: { RUN_MS: "3000" } },
    broken: { type: "clock", entry: "src/clock.ts", schedule: "* * * * *", env: { RUN_MS: "50", FAIL: "1" } },
  },
  cloudflare: { compatibilityDate: "2026-08-01" },
};
`,
  "src/clock.ts": `export default {
  async scheduled(controller, env) {
    console.log("run starts for " + new Date(controller.scheduledTime).toISOString());
    await new Promise((resolve) => setTimeout(resolve, Number(env.RUN_MS)));
    if (env.FAIL === "1") throw new Error("the clock broke");
  },
};
`,
};

/** A miniflare Worker from twelve's wrangler.json: vars, the secret, the lease's Durable Object. */
export function clockWorker(config: WranglerConfig, code: string, secrets: Record<string, string>): WorkerOptions {
  const env: NonNullable<MiniflareWorkerConfig["env"]> = {};
  for (const [name, value] of Object.entries({ ...config.vars, ...secrets })) env[name] = { type: "text", value };
  for (const b of config.durable_objects?.bindings ?? []) env[b.name] = { type: "durable-object", worker: config.name, exportName: b.class_name };
  const exports: NonNullable<MiniflareWorkerConfig["exports"]> = {};
  for (const m of config.migrations ?? []) for (const c of m.new_sqlite_classes) exports[c] = { type: "durable-object", storage: "sqlite" };
  return {
    config: {
      name: config.name,
      compatibilityDate: config.compatibility_date,
      compatibilityFlags: config.compatibility_flags,
      manifest: { mainModule: config.main, modules: { [config.main]: { type: "esm", contents: code } } },
      env,
      exports,
      triggers: config.triggers.crons.map((schedule) => ({ type: "scheduled" as const, schedule })),
    },
  };
}
