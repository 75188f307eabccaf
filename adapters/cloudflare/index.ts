import type { Adapter } from "../../src/adapter.ts";
import { requirePackages } from "../../src/peers.ts";
import { cloudflareBuild } from "./build.ts";
import { cloudflareLimits } from "./limits.ts";
import { cloudflarePolicy } from "./policy.ts";

/** Cloudflare Workers, Queues and Cron Triggers: wrangler uploads, twelve does the rest through the API. */
export const cloudflareAdapter: Adapter = {
  target: "cloudflare",
  platform: "Cloudflare",
  webUrlName: "workers.dev URL",
  // What an app deploying to Cloudflare installs beside twelve (optional peer dependencies).
  packages: ["wrangler", "miniflare"],
  limits: cloudflareLimits,
  ...cloudflareBuild,
  // The dev hosts (and miniflare's workerd) load only for twelve dev, never for a build.
  dev: async () => {
    requirePackages(["miniflare"], "twelve dev --target cloudflare");
    return (await import("./dev.ts")).cloudflareDevEngine();
  },
  connect: async (formation, stage, options) => (await import("./stage.ts")).cloudflareStage(formation, stage, options),
  policy: cloudflarePolicy,
};
