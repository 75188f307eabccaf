/**
 * The formation as users write it (`*Config`) and as twelve works with it after validation
 * (`Formation`, `Process`): defaults filled in, entries resolved to absolute paths.
 */

export type Target = "aws" | "cloudflare";
export const TARGETS: readonly Target[] = ["aws", "cloudflare"];

export type ProcessType = "web" | "worker" | "clock";
export const PROCESS_TYPES: readonly ProcessType[] = ["web", "worker", "clock"];

interface CommonProcessConfig {
  /** Source file of the process, relative to the config file. */
  entry: string;
  /** Memory in MB (AWS Lambda; Cloudflare Workers have a fixed 128 MB). */
  memory?: number;
  /** Seconds one invocation may run (AWS Lambda 1..900). */
  timeout?: number;
  /** Variables for this process only, over the formation's `env`. */
  env?: Record<string, string>;
}

export interface WebProcessConfig extends CommonProcessConfig {
  type: "web";
  /** The most instances that may serve at once (Lambda reserved concurrency). */
  concurrency: number;
}

export interface WorkerProcessConfig extends CommonProcessConfig {
  type: "worker";
  /** The most batches handled at once (SQS mapping MaximumConcurrency, Queues max_concurrency). */
  concurrency: number;
  /** Messages per batch, default 10. */
  batchSize?: number;
  /** Retries after the first attempt before a message goes to the dead-letter queue, default 3. */
  maxRetries?: number;
  /** AWS only. "allow": Lambda lets this worker send() to its own queue (or round a loop of workers) without stopping it after about 16 rounds. */
  aws?: { recursiveLoop?: RecursiveLoop };
}

/** Lambda's recursive loop detection for a worker: "terminate" (AWS's default) or "allow". */
export type RecursiveLoop = "allow" | "terminate";

export interface ClockProcessConfig extends CommonProcessConfig {
  type: "clock";
  /** A 5-field crontab line, e.g. "0 3 * * *". */
  schedule: string;
  /** IANA time zone of the schedule, default "UTC". */
  timezone?: string;
  /** Clocks run one at a time; only 1 is accepted. */
  concurrency?: 1;
}

export type ProcessConfig = WebProcessConfig | WorkerProcessConfig | ClockProcessConfig;

export interface TwelveConfig {
  /** Prefix of every cloud resource: [a-z][a-z0-9-]{1,30}. */
  app: string;
  /** Default target; `--target` overrides. */
  target?: Target;
  processes: Record<string, ProcessConfig>;
  /** Plain variables for every process. */
  env?: Record<string, string>;
  /** Names of secrets, read from the deploying environment, never bundled. */
  secrets?: string[];
  /** `logRetentionDays`: how long CloudWatch keeps the functions' logs, one of CloudWatch's values (default 30). */
  aws?: { region?: string; memory?: number; architecture?: "arm64" | "x86_64"; timeout?: number; logRetentionDays?: number };
  cloudflare?: { compatibilityDate?: string; compatibilityFlags?: string[]; accountId?: string };
}

// ---- after validation ----

interface ProcessBase {
  name: string;
  /** Absolute path of the entry file. */
  entry: string;
  /** Entry as written in the config, for messages. */
  entryAsWritten: string;
  memory: number;
  timeout: number;
  /** Formation env merged with the process's own. */
  env: Record<string, string>;
}

export interface WebProcess extends ProcessBase {
  type: "web";
  concurrency: number;
}

export interface WorkerProcess extends ProcessBase {
  type: "worker";
  concurrency: number;
  batchSize: number;
  maxRetries: number;
  /** Always set by validation; optional so that a Process written by hand (tests, the API) still type-checks. */
  aws?: { recursiveLoop: RecursiveLoop };
}

export interface ClockProcess extends ProcessBase {
  type: "clock";
  concurrency: 1;
  schedule: string;
  timezone: string;
}

export type Process = WebProcess | WorkerProcess | ClockProcess;

export interface Formation {
  app: string;
  target: Target;
  processes: Process[];
  secrets: string[];
  aws: { region: string | undefined; memory: number; architecture: "arm64" | "x86_64"; timeout: number; logRetentionDays: number };
  cloudflare: { compatibilityDate: string; compatibilityFlags: string[]; accountId: string | undefined };
  /** Absolute path of the config file and its directory (entries resolve from there). */
  configFile: string;
  root: string;
}

export const DEFAULTS = {
  memory: 512,
  timeout: 30,
  architecture: "arm64",
  batchSize: 10,
  maxRetries: 3,
  // A month of logs: enough to look back on an incident, without keeping them (and paying) forever.
  logRetentionDays: 30,
  recursiveLoop: "terminate",
  timezone: "UTC",
  compatibilityDate: "2026-08-01",
  compatibilityFlags: ["nodejs_compat"],
  stage: "dev",
} as const;
