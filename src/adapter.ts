/**
 * The one contract between twelve and a platform, for the whole lifecycle: checking and
 * packaging a formation (build), running it locally (dev), and the deployed stage (plan,
 * apply, ps, scale, logs, run). adapters/aws and adapters/cloudflare implement it with the
 * same file names for the same jobs; the registry of adapters is handed in by the entry points
 * (src/cli/main.ts, src/api.ts), so nothing else in src/ knows a platform by name.
 */
import type * as esbuild from "esbuild";
import type { Bundle } from "./build/bundle.ts";
import type { Artifact, Manifest, ManifestProcess } from "./build/manifest.ts";
import type { Plan } from "./deploy/plan.ts";
import type { BrokerMessage, Outcome } from "./dev/broker.ts";
import type { Range } from "./formation/limits.ts";
import type { TwelveError } from "./errors.ts";
import type { Problem } from "./formation/problems.ts";
import type { ClockProcess, Formation, Process, Target, WebProcess, WorkerProcess } from "./formation/types.ts";

export interface Adapter {
  target: Target;
  /** The platform's name, for people: "AWS", "Cloudflare". */
  platform: string;
  /** What a web process's public address is called there: "Function URL", "workers.dev URL". */
  webUrlName: string;
  /** Packages an app for this platform installs beside twelve (its optional peer dependencies). */
  packages: readonly string[];
  /** The ranges the platform holds; validation checks every formation against them. */
  limits: Limits;

  // ---- build ----
  /** Problems only this platform has with a formation (beyond `limits`). */
  check(formation: Formation): Problem[];
  bundleOptions(process: Process): BundleOptions;
  package(input: PackageInput): Promise<PackagedProcess>;
  /** A built clock's schedule as the platform runs it, for the build's table. */
  scheduleOf(process: ManifestProcess): string;

  // ---- twelve dev ----
  /** Runs the built processes on this machine; loaded only when needed. */
  dev(): Promise<DevEngine>;

  // ---- the deployed stage ----
  /**
   * Reaches one stage of the app on the platform: credentials, account and region checked
   * here, before any change. Loads the platform's SDK only now.
   */
  connect(formation: Formation, stage: string, options: ConnectOptions): Promise<DeployedStage>;
  /** An error of the platform's own SDK as a user-facing failure (its words, what to do); undefined: not its. */
  explainError?(error: unknown): TwelveError | undefined;
  /**
   * `twelve policy`: what the deploying credentials need for a stage of this formation (an IAM
   * policy document on AWS, an API token's permissions on Cloudflare). Needs no credentials.
   */
  policy?(formation: Formation, stage: string, options: PolicyOptions): DeployPolicy;
}

export interface PolicyOptions {
  /** The deploying environment (a region, where the platform has them). */
  env: NodeJS.ProcessEnv;
  /** --account, where the platform's policy names one. */
  account: string | undefined;
}

export interface DeployPolicy {
  /** Printed as JSON on stdout, as it is: ready to hand to the platform. */
  document: unknown;
  /** For people, on stderr: what it is and how to use it. */
  notes: string[];
}

export type AdapterRegistry = Readonly<Record<Target, Adapter>>;

export interface Limits {
  /** The range of a web process's cap, or why the platform has none to set. */
  webConcurrency: Range | NoCap;
  workerConcurrency: Range;
  batchSize: Range;
  maxRetries: Range;
  /** undefined: not a setting of this platform. */
  memory: Range | undefined;
  timeout: Range | undefined;
  /** Variable names the platform sets itself and refuses in a configuration. */
  reservedVariables: { names: readonly string[]; by: string };
  /** The largest message body a worker's queue takes, in bytes of its JSON, and the platform's name for it. */
  message: { bytes: number; setting: string };
}

export interface NoCap {
  none: true;
  /** "Cloudflare Workers have no cap on concurrent requests to set" */
  why: string;
  hint: string;
}

export function isRange(limit: Range | NoCap | undefined): limit is Range {
  return limit !== undefined && !("none" in limit);
}

// ---- build ----

export interface BundleOptions {
  /**
   * twelve's wrapper module (as ownModule() names it) and the function it exports; `exports`:
   * names of the wrapper the bundle exports too (a Durable Object class the platform loads by name).
   */
  wrapper: { module: string; factory: string; exports?: readonly string[] };
  exportAs: "handler" | "default";
  fileName: string;
  options: esbuild.BuildOptions;
}

export interface PackageInput {
  formation: Formation;
  process: Process;
  stage: string;
  bundle: Bundle;
  /** The workers this process may send to. */
  sends: string[];
  /** The folder the build is being written to (swapped in for .twelve/build/<target> at the end). */
  outDir: string;
}

export interface PackagedProcess {
  artifacts: Record<string, Artifact>;
  /** Platform facts a deploy needs (runtime, handler, crons, code hash...). */
  platform: Record<string, unknown>;
  /** Choices the platform forced, said out loud (a cap it cannot hold, a UTC-only cron...). */
  notes: string[];
}

/** A formation built for its target: what a deployment is planned from. */
export interface BuiltFormation {
  manifest: Manifest;
  /** .twelve/build/<target> */
  outDir: string;
}

// ---- twelve dev ----

/** What twelve dev gives an engine to start one process of the formation. */
export interface DevStartInput {
  formation: Formation;
  process: Process;
  stage: string;
  /** The process as the build made it (artifacts, sends). */
  built: ManifestProcess;
  /** .twelve/build/<target> */
  outDir: string;
  /** The process's variables and the formation's secrets. */
  variables: Record<string, string>;
  /** web processes: the port to serve. */
  port: number | undefined;
  /** twelve dev's own server on 127.0.0.1 (the broker, `twelve run`, the SQS API on AWS). */
  serverUrl: string;
  /** Puts a message on a worker's queue in the durable broker. */
  send(worker: string, body: unknown, delaySeconds: number | undefined): Promise<{ id: string }>;
  /** Where the process's own output goes, line by line. */
  log(line: string): void;
}

/** One running process under twelve dev. */
export interface DevProcess {
  url?: string;
  /** workers: hands over a batch; resolves with one outcome per message, rejects on a crash or timeout. */
  deliver?(queue: string, batch: BrokerMessage[]): Promise<Outcome[]>;
  /** clocks: one run for this scheduled time. */
  fire?(scheduledTime: number): Promise<void>;
  /** web: requests being served now, where the engine counts them (null: it cannot tell). */
  inFlight?(): Promise<number | null>;
  /** Resolves with a reason when the process ends by itself (stop() leaves it pending). */
  ended: Promise<string>;
  /** Lets it finish what it serves for at most `graceMs` (default 5 s), then kills it. */
  stop(graceMs?: number): Promise<void>;
}

/** How a platform runs a formation locally. */
export interface DevEngine {
  start(input: DevStartInput): Promise<DevProcess>;
  /** Requests from the processes to twelve dev's server that this platform's API shapes (SQS on AWS). */
  handle?(request: { target: string | undefined; body: string }, broker: DevBrokerApi): Promise<{ status: number; body: string; contentType: string } | undefined>;
}

export interface DevBrokerApi {
  send(worker: string, body: unknown, delaySeconds: number | undefined): Promise<{ id: string }>;
  /** The worker process that a queue name (`<app>-<stage>-<process>`) belongs to. */
  workerOfQueue(queueName: string): string | undefined;
}

// ---- the deployed stage ----

export interface ConnectOptions {
  /** The deploying environment: credentials, endpoints. */
  env: NodeJS.ProcessEnv;
  /** Lines for --verbose (a tool's own output). */
  debug(line: string): void;
  /** Lines for people, always shown: a call that keeps us waiting, a retry. */
  note?(line: string): void;
}

/** One app's stage on a platform. */
export interface DeployedStage {
  /** Where it is, for people: "AWS eu-west-1 (account 1234)". */
  where: string;
  /** The same facts for --json: { region, account }. */
  place: Record<string, string>;
  /** What deploying this build would change, and doing it. `secrets`: their values, already checked. */
  deployment(build: BuiltFormation, secrets: Record<string, string>): Promise<Deployment>;
  ps(): Promise<{ processes: ProcessStatus[]; notes: string[] }>;
  /** Changes caps in place; every request is already checked against `limits`. Reports each as it is made. */
  scale(requests: ScaleRequest[], report: (change: CapChange) => void): Promise<CapChange[]>;
  /** Prints the processes' logs; resolves with the exit status (Ctrl-C ends --follow). */
  logs(processes: string[], options: LogOptions, output: LogOutput): Promise<number>;
  /** Fires a clock (under the one-run-at-a-time rule), or sends one message to a worker's queue. */
  run(process: ClockProcess | WorkerProcess, body: unknown): Promise<RunResult>;
  /** `twelve dlq --stage`: the dead letters of the stage's workers and clocks. */
  deadLetters: DeadLetters;
}

// ---- dead letters: `twelve dlq` (the same interface serves twelve dev and deployed stages) ----

/** Per worker (its dead-letter queue) and per clock (its failed runs, where the platform keeps them). */
export interface DeadLetterSummary {
  process: string;
  type: "worker" | "clock";
  /** How many; null where the platform cannot count them (then `note` says why). */
  count: number | null;
  /** When the oldest one was first sent (ms since the epoch); null when there are none or it is unknown. */
  oldestSentAt: number | null;
  /** Where they are kept, for people: "SQS queue shop-prod-mailer-dlq", ".twelve/dev/broker/dead-letter/mailer.jsonl". */
  where: string;
  note?: string;
}

/** One dead letter, as `twelve dlq PROCESS` shows it and `--json` gives it (documented in the README). */
export interface DeadLetter {
  /** The id `--redrive --id` and `--purge --id` take: the message's id as it was sent (SQS MessageId, Cloudflare message id, dev's id). */
  id: string;
  /** When it was first sent, ms since the epoch; null where unknown. */
  sentAt: number | null;
  /** When it died (reached the dead-letter queue), where known. */
  diedAt: number | null;
  /** Deliveries it had before it died. */
  attempts: number | null;
  /** The body, as the worker got it (parsed JSON, else the raw text). */
  body: unknown;
  /** The last error, where twelve knows it; null otherwise (a crash or timeout the platform moved). */
  error: string | null;
}

export interface DeadLetterProgress {
  /** `done` of `total` (total where known): listing "seen", redrive "sent back", purge "deleted". */
  (done: number, total: number | null): void;
}

export interface DeadLetters {
  summary(): Promise<DeadLetterSummary[]>;
  /**
   * Every dead letter of one process, oldest first where the platform keeps an order, without
   * consuming them: none is deleted, moved, reordered or charged an attempt by a listing (the
   * adapter's own doc says what the platform forces, such as a lease that must run out).
   * Yields as it reads: the caller prints as it goes, so 10,000 of them list in bounded memory.
   */
  list(process: WorkerProcess | ClockProcess, progress: DeadLetterProgress): AsyncIterable<DeadLetter>;
  /**
   * Sends dead letters back to the worker's queue, bodies unchanged and a fresh attempt count:
   * all, or those of `ids`. Each is on the worker's queue before it leaves the dead-letter
   * queue (an interruption can duplicate one, never lose one). `missing`: ids not found.
   */
  redrive(process: WorkerProcess, ids: string[] | undefined, progress: DeadLetterProgress): Promise<{ redriven: number; missing: string[] }>;
  /** Deletes dead letters for good: all, or those of `ids`. */
  purge(process: WorkerProcess | ClockProcess, ids: string[] | undefined, progress: DeadLetterProgress): Promise<{ purged: number; missing: string[] }>;
}

// ---- clocks: last and next run ----

export interface ClockRun {
  /** When the run was scheduled for (ms). */
  scheduledTime: number;
  /** When it started, where known (ms). */
  startedAt: number | null;
  outcome: "ok" | "failed" | "skipped" | "running";
  durationMs: number | null;
  /** failed: the error; skipped: why ("the previous run was still going"). */
  detail: string | null;
}

export interface PlanOptions {
  force?: boolean;
  /** Plan the removal of everything of the app and stage. */
  destroy?: boolean;
}

export interface Deployment {
  plan(options?: PlanOptions): Plan;
  /** Under the stage's deploy lock: reads the deployed state again and applies the plan from it. */
  apply(options: PlanOptions, progress: (line: string) => void): Promise<Plan>;
  /** The public URL of each web process, as deployed now. */
  webUrls(): Promise<Record<string, string>>;
  /** Calls made so far, by kind ({ reads, writes, uploads? }), for --json. */
  calls(): Record<string, number>;
  /** The same for people: "17 reads, 24 changes". */
  callSummary(): string;
}

/**
 * One process as deployed, as the adapter reads it; `twelve ps` adds what is the same on every
 * platform (dead-letter counts from `deadLetters.summary()`, a clock's next run) and `--json`
 * gives all of it (documented in the README).
 */
export interface ProcessStatus {
  process: string;
  type: string;
  resource: string;
  deployed: boolean;
  cap: number | null;
  state: string;
  lastChange: string | null;
  url: string | null;
  queueDepth: number | null;
  /** Clocks: the last run where the platform lets twelve know it (else null, and ps's notes say why). */
  lastRun: { scheduledTime: string; outcome: ClockRun["outcome"]; durationMs: number | null; detail: string | null } | null;
}

export interface ScaleRequest {
  process: WebProcess | WorkerProcess;
  cap: number;
}

export interface CapChange {
  process: string;
  from: number | null;
  to: number;
}

export interface LogOptions {
  follow: boolean;
  /** Minutes back, when --since was given. */
  sinceMinutes: number | undefined;
}

export interface LogOutput {
  print(process: string, timestamp: number, message: string): void;
  note(text: string): void;
}

/** What `twelve run --stage` did; `detail` says where the message went, for people ("id 1234", "queue x"). */
export type RunResult = { fired: string } | { sent: string; id: string | null; detail: string };
