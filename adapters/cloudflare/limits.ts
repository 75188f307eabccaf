import type { Limits } from "../../src/adapter.ts";

/** What Cloudflare can hold (checked by twelve before any upload). */
export const cloudflareLimits: Limits = {
  // Cloudflare has no cap on concurrent fetch invocations: the number is reported, not enforced.
  webConcurrency: {
    none: true,
    why: "Cloudflare Workers have no cap on concurrent requests to set",
    hint: "Cloudflare scales web Workers by itself; only worker caps (queue consumers' max_concurrency) can be scaled there.",
  },
  workerConcurrency: { min: 1, max: 250, setting: "Queues consumer max_concurrency" },
  batchSize: { min: 1, max: 100, setting: "Queues consumer max_batch_size" },
  maxRetries: { min: 0, max: 100, setting: "Queues consumer max_retries" },
  memory: undefined,
  timeout: undefined,
  reservedVariables: { by: "Cloudflare", names: [] },
};
