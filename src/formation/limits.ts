import type { Target } from "./types.ts";

/** A range a platform enforces, with the platform's own name for the setting. */
export interface Range {
  min: number;
  max: number;
  setting: string;
}

/**
 * What each target can hold. moto checks none of these, and Cloudflare only checks at upload
 * time, so twelve checks them before building anything.
 */
export const LIMITS: Record<Target, {
  webConcurrency: Range | undefined;
  workerConcurrency: Range;
  batchSize: Range;
  maxRetries: Range;
  memory: Range | undefined;
  timeout: Range | undefined;
}> = {
  aws: {
    webConcurrency: { min: 1, max: 1000, setting: "Lambda reserved concurrency (default account limit 1000)" },
    workerConcurrency: { min: 2, max: 1000, setting: "SQS event source mapping ScalingConfig.MaximumConcurrency" },
    batchSize: { min: 1, max: 10000, setting: "SQS event source mapping BatchSize" },
    // maxReceiveCount (1..1000) is maxRetries + 1.
    maxRetries: { min: 0, max: 999, setting: "SQS redrive maxReceiveCount - 1" },
    memory: { min: 128, max: 10240, setting: "Lambda MemorySize in MB" },
    // The queue's visibility timeout is 6x the function timeout and at most 12 hours; 900 s fits.
    timeout: { min: 1, max: 900, setting: "Lambda Timeout in seconds" },
  },
  cloudflare: {
    // Cloudflare has no cap on concurrent fetch invocations: the number is reported, not enforced.
    webConcurrency: undefined,
    workerConcurrency: { min: 1, max: 250, setting: "Queues consumer max_concurrency" },
    batchSize: { min: 1, max: 100, setting: "Queues consumer max_batch_size" },
    maxRetries: { min: 0, max: 100, setting: "Queues consumer max_retries" },
    memory: undefined,
    timeout: undefined,
  },
};

/** delaySeconds accepted by send() and retry(). */
export const MAX_DELAY_SECONDS: Record<Target, number> = { aws: 900, cloudflare: 43200 };
