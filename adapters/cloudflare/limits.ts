import type { Limits } from "../../src/adapter.ts";

/**
 * What Cloudflare can hold, checked by twelve before any upload (Cloudflare checks at upload
 * time; the stand-in in the tests applies the same ranges). Sources, as of December 2026:
 * - Queues limits: developers.cloudflare.com/queues/platform/limits/ (batch size at most 100
 *   messages, 100 retries, 250 concurrent push consumer invocations, messages of 128 KB,
 *   delaySeconds up to 24 hours on send and retry, batch wait time up to 60 s);
 * - consumer settings: developers.cloudflare.com/queues/configuration/ ("Refer to Limits to
 *   review the maximum values for each of these options": max_batch_size, max_retries,
 *   max_concurrency, dead_letter_queue).
 * twelve sets no batch wait time (max_batch_timeout) nor retry delay of its own: Cloudflare's
 * defaults hold, and retry({ delaySeconds }) is checked by the platform itself.
 */
/** "delaySeconds (when sending or retrying): 24 hours", in seconds. */
export const MAX_DELAY_SECONDS = 24 * 3600;
/** "Message size: 128 KB" (1 KB is 1000 bytes; about 100 bytes of it are Cloudflare's own metadata). */
export const MAX_MESSAGE_BYTES = 128 * 1000;

export const cloudflareLimits: Limits = {
  // Workers have no cap on concurrent fetch invocations (developers.cloudflare.com/workers/platform/limits/):
  // the number is reported, not enforced.
  webConcurrency: {
    none: true,
    why: "Cloudflare Workers have no cap on concurrent requests to set",
    hint: "Cloudflare scales web Workers by itself; only worker caps (queue consumers' max_concurrency) can be scaled there.",
  },
  // "Concurrent consumer invocations: 250, push-based only".
  workerConcurrency: { min: 1, max: 250, setting: "Queues consumer max_concurrency" },
  // "Maximum consumer batch size: 100 messages".
  batchSize: { min: 1, max: 100, setting: "Queues consumer max_batch_size" },
  // "Message retries: 100".
  maxRetries: { min: 0, max: 100, setting: "Queues consumer max_retries" },
  memory: undefined,
  timeout: undefined,
  reservedVariables: { by: "Cloudflare", names: [] },
  message: { bytes: MAX_MESSAGE_BYTES, setting: "a Cloudflare Queues message (128 KB)" },
};

