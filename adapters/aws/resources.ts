import type { Manifest, ManifestProcess } from "../../src/build/manifest.ts";
import { deadLetterQueueName, queueBinding, queueName, resourceName } from "../../src/formation/names.ts";
import type { Formation, Process } from "../../src/formation/types.ts";

/**
 * Everything twelve creates on AWS for one app and stage, as plain data: what `plan` compares
 * with what is deployed (read back from AWS, same shape) and what `deploy` applies. Pure: a
 * function of the formation, its build and the account, so it is tested without a cloud.
 */

export type Tags = Record<string, string>;

export interface RoleResource {
  kind: "role";
  name: string;
  /** The service that assumes it: lambda.amazonaws.com or scheduler.amazonaws.com. */
  service: string;
  /** The one inline policy twelve writes, as a canonical JSON document. */
  policy: PolicyDocument;
  tags: Tags;
}

export interface QueueResource {
  kind: "queue";
  name: string;
  attributes: { VisibilityTimeout: string; MessageRetentionPeriod: string; RedrivePolicy?: string };
  tags: Tags;
}

export interface FunctionResource {
  kind: "function";
  name: string;
  role: string;
  runtime: "nodejs22.x";
  handler: "index.handler";
  architecture: "arm64" | "x86_64";
  memory: number;
  timeout: number;
  environment: Record<string, string>;
  /** base64 sha256 of the zip, as Lambda reports CodeSha256. */
  codeSha256: string;
  zipPath: string;
  /** Reserved concurrency: the web cap, or 1 for a clock (runs never overlap); null: none. */
  reservedConcurrency: number | null;
  /** A public Function URL (auth NONE) with both permissions AWS requires. */
  url: boolean;
  tags: Tags;
}

export interface MappingResource {
  kind: "mapping";
  /** The function it feeds; a function has at most one mapping in twelve. */
  name: string;
  queue: string;
  batchSize: number;
  maximumConcurrency: number;
  batchingWindowSeconds: number;
  reportBatchItemFailures: true;
}

export interface ScheduleGroupResource {
  kind: "schedule-group";
  name: string;
  tags: Tags;
}

export interface ScheduleResource {
  kind: "schedule";
  name: string;
  group: string;
  expression: string;
  timezone: string;
  function: string;
  role: string;
  deadLetterQueue: string;
  retryAttempts: number;
  input: string;
}

export type AwsResource = RoleResource | QueueResource | FunctionResource | MappingResource | ScheduleGroupResource | ScheduleResource;

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: { Effect: "Allow"; Action: string[]; Resource: string[] }[];
}

export interface AwsTarget {
  account: string;
  region: string;
  stage: string;
  /** Secrets' values, read from the deploying environment. */
  secrets: Record<string, string>;
}

/** How long SQS keeps a message: 4 days, its default, stated so that plan sees drift. */
const RETENTION_SECONDS = 4 * 24 * 3600;
/** The Scheduler's retries of a failed clock run before the dead-letter queue. */
const CLOCK_RETRIES = 2;

export const schedulerRoleName = (app: string, stage: string, process: string) => `${resourceName(app, stage, process)}-sched`;
export const scheduleGroupName = (app: string, stage: string) => `${app}-${stage}`;

export function twelveTags(app: string, stage: string, process?: string): Tags {
  return { "twelve:app": app, "twelve:stage": stage, ...(process ? { "twelve:process": process } : {}) };
}

export function desiredResources(formation: Formation, manifest: Manifest, buildDir: string, target: AwsTarget): AwsResource[] {
  const { app } = formation;
  const { stage, region, account } = target;
  const arn = {
    queue: (name: string) => `arn:aws:sqs:${region}:${account}:${name}`,
    fn: (name: string) => `arn:aws:lambda:${region}:${account}:function:${name}`,
    role: (name: string) => `arn:aws:iam::${account}:role/${name}`,
    logs: (fn: string) => `arn:aws:logs:${region}:${account}:log-group:/aws/lambda/${fn}:*`,
  };
  const queueUrl = (worker: string) => `https://sqs.${region}.amazonaws.com/${account}/${queueName(app, stage, worker)}`;
  const resources: AwsResource[] = [];
  const clocks = formation.processes.filter((p) => p.type === "clock");
  if (clocks.length) resources.push({ kind: "schedule-group", name: scheduleGroupName(app, stage), tags: twelveTags(app, stage) });

  for (const process of formation.processes) {
    const built = builtProcess(manifest, process.name);
    const name = resourceName(app, stage, process.name);
    const tags = twelveTags(app, stage, process.name);
    const ownQueue = queueName(app, stage, process.name);
    const dlq = deadLetterQueueName(app, stage, process.name);

    // Least privilege: its own logs; a worker its own queue; send() only to the queues it names.
    const statements: PolicyDocument["Statement"] = [
      { Effect: "Allow", Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], Resource: [arn.logs(name)] },
    ];
    if (process.type === "worker") {
      statements.push({
        Effect: "Allow",
        Action: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
        Resource: [arn.queue(ownQueue)],
      });
    }
    if (built.sends.length) {
      statements.push({ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: built.sends.map((w) => arn.queue(queueName(app, stage, w))) });
    }
    resources.push({ kind: "role", name, service: "lambda.amazonaws.com", policy: { Version: "2012-10-17", Statement: statements }, tags });

    // A worker's queue, and a dead-letter queue for workers (redrive) and clocks (the Scheduler's).
    if (process.type !== "web") {
      resources.push({ kind: "queue", name: dlq, attributes: { VisibilityTimeout: "30", MessageRetentionPeriod: String(14 * 24 * 3600) }, tags });
    }
    if (process.type === "worker") {
      resources.push({
        kind: "queue",
        name: ownQueue,
        attributes: {
          // AWS asks for at least 6x the function timeout, so a batch is not redelivered while it runs.
          VisibilityTimeout: String(6 * process.timeout),
          MessageRetentionPeriod: String(RETENTION_SECONDS),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn.queue(dlq), maxReceiveCount: process.maxRetries + 1 }),
        },
        tags,
      });
    }

    const environment: Record<string, string> = {
      ...process.env,
      ...pick(target.secrets, formation.secrets),
      NODE_OPTIONS: "--enable-source-maps",
      // Whose function this is, readable wherever tags are not (see state.ts).
      TWELVE_APP: app,
      TWELVE_STAGE: stage,
      TWELVE_PROCESS: process.name,
    };
    for (const worker of new Set([...built.sends, ...(process.type === "worker" ? [process.name] : [])])) environment[queueBinding(worker)] = queueUrl(worker);
    resources.push({
      kind: "function",
      name,
      role: arn.role(name),
      runtime: "nodejs22.x",
      handler: "index.handler",
      architecture: formation.aws.architecture,
      memory: process.memory,
      timeout: process.timeout,
      environment,
      codeSha256: String(built.platform.codeSha256),
      zipPath: `${buildDir}/${built.artifacts.zip?.path ?? `${process.name}/function.zip`}`,
      reservedConcurrency: reservedConcurrency(process),
      url: process.type === "web",
      tags,
    });

    if (process.type === "worker") {
      resources.push({
        kind: "mapping",
        name,
        queue: arn.queue(ownQueue),
        batchSize: process.batchSize,
        maximumConcurrency: process.concurrency,
        // SQS mappings take more than 10 messages a batch only with a batching window.
        batchingWindowSeconds: process.batchSize > 10 ? 1 : 0,
        reportBatchItemFailures: true,
      });
    }
    if (process.type === "clock") {
      const role = schedulerRoleName(app, stage, process.name);
      resources.push({
        kind: "role",
        name: role,
        service: "scheduler.amazonaws.com",
        policy: {
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [arn.fn(name)] },
            { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [arn.queue(dlq)] },
          ],
        },
        tags,
      });
      resources.push({
        kind: "schedule",
        name,
        group: scheduleGroupName(app, stage),
        expression: String(built.platform.scheduleExpression),
        timezone: process.timezone,
        function: arn.fn(name),
        role: arn.role(role),
        deadLetterQueue: arn.queue(dlq),
        retryAttempts: CLOCK_RETRIES,
        input: JSON.stringify({ twelve: "scheduled", scheduledTime: "<aws.scheduler.scheduled-time>" }),
      });
    }
  }
  return resources;
}

function reservedConcurrency(process: Process): number | null {
  if (process.type === "web") return process.concurrency;
  if (process.type === "clock") return 1;
  // A worker's cap is the mapping's MaximumConcurrency; reserving as much would also be
  // right, but would take that much from the account's pool even when idle.
  return null;
}

function builtProcess(manifest: Manifest, name: string): ManifestProcess {
  const built = manifest.processes.find((p) => p.name === name);
  if (!built) throw new Error(`the build has no process ${name}; run twelve build`);
  return built;
}

function pick(values: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(names.filter((n) => values[n] !== undefined).map((n) => [n, values[n] as string]));
}
