import type { Manifest } from "../../../src/build/manifest.ts";
import { resourceName } from "../../../src/formation/names.ts";
import type { Formation } from "../../../src/formation/types.ts";
import { failure, type TwelveError } from "../../../src/errors.ts";
import type { AwsClients } from "../client.ts";
import { partitionOf } from "../partition.ts";

// What every kind of AWS resource shares: how desired resources are named and addressed, the
// context of a read or a change, and how AWS's "already there" and "already gone" read.

export type Tags = Record<string, string>;

/** What the desired resources are made from: a pure function of these. */
export interface DesiredInput {
  formation: Formation;
  manifest: Manifest;
  buildDir: string;
  app: string;
  stage: string;
  account: string;
  region: string;
  /** Secrets' values, read from the deploying environment. */
  secrets: Record<string, string>;
  /** `<app>-<stage>-<process>` */
  name(process: string): string;
  tags(process?: string): Tags;
  /** The queue URL send() posts to: https://sqs.<region>.<the partition's DNS suffix>/... */
  queueUrl(name: string): string;
  arn: {
    queue(name: string): string;
    fn(name: string): string;
    role(name: string): string;
    logs(functionName: string): string;
  };
}

export function desiredInput(formation: Formation, manifest: Manifest, buildDir: string, target: { account: string; region: string; stage: string; secrets: Record<string, string> }): DesiredInput {
  const { account, region, stage } = target;
  const partition = partitionOf(region);
  const arn = (service: string, rest: string, where = region) => `arn:${partition.name}:${service}:${where}:${account}:${rest}`;
  return {
    formation,
    manifest,
    buildDir,
    app: formation.app,
    stage,
    account,
    region,
    secrets: target.secrets,
    name: (process) => resourceName(formation.app, stage, process),
    tags: (process) => twelveTags(formation.app, stage, process),
    queueUrl: (name) => `https://sqs.${region}.${partition.dnsSuffix}/${account}/${name}`,
    arn: {
      queue: (name) => arn("sqs", name),
      fn: (name) => arn("lambda", `function:${name}`),
      // IAM is global within a partition: no region in its ARNs.
      role: (name) => arn("iam", `role/${name}`, ""),
      logs: (fn) => arn("logs", `log-group:/aws/lambda/${fn}:*`),
    },
  };
}

export function twelveTags(app: string, stage: string, process?: string): Tags {
  return { "twelve:app": app, "twelve:stage": stage, ...(process ? { "twelve:process": process } : {}) };
}

/** One app's stage on AWS, for reading what is deployed and changing it. */
export interface AwsContext {
  clients: AwsClients;
  app: string;
  stage: string;
  /** `<app>-<stage>-`: what every name of the stage starts with. */
  prefix: string;
  /** Whether tags say the resource is this app's and stage's. */
  ours(tags: Tags | undefined): boolean;
}

export function awsContext(clients: AwsClients, app: string, stage: string): AwsContext {
  return {
    clients,
    app,
    stage,
    prefix: `${app}-${stage}-`,
    ours: (tags) => tags?.["twelve:app"] === app && tags?.["twelve:stage"] === stage,
  };
}

/**
 * Names are `<app>-<stage>-<process>`, and two apps can still meet on one (app "a" stage "b"
 * with process "c-web", app "a-b" stage "c" with process "web"): whose a resource is comes
 * from its tags (a function's, from its TWELVE_APP and TWELVE_STAGE variables), never from its
 * name. A create that finds the name taken goes on only when the resource is this stage's own
 * (a killed deploy made it); otherwise it stops before touching it.
 */
export function ownerOf(tags: Tags | undefined): string {
  const app = tags?.["twelve:app"];
  const stage = tags?.["twelve:stage"];
  if (app && stage) return `app "${app}" stage "${stage}"'s`;
  const lock = tags?.["twelve:lock"];
  if (lock) return `the deploy lock of ${lock.replace("/", " stage ")}`;
  return "not twelve's (it has no twelve:app and twelve:stage tags)";
}

export function takenError(ctx: Pick<AwsContext, "app" | "stage">, what: string, name: string, tags: Tags | undefined): TwelveError {
  return failure(
    `the ${what} ${name} already exists and is ${ownerOf(tags)}, not app "${ctx.app}" stage "${ctx.stage}"'s: twelve leaves it as it is`,
    "It has the name this stage would give one of its own (<app>-<stage>-<process>). Rename the process, the app or the stage so that the names differ.",
  );
}

/** Refuses, naming the owner, unless the tags say the resource is this stage's. */
export function mustBeOurs(ctx: AwsContext, what: string, name: string, tags: Tags | undefined): void {
  if (!ctx.ours(tags)) throw takenError(ctx, what, name, tags);
}

/**
 * For a create's catch: a taken name (exists()'s errors) is fine when the resource is this
 * stage's own; anything else, or someone else's, is an error.
 */
export function takenUnlessOurs(ctx: AwsContext, what: string, name: string, tagsOf: () => Promise<Tags | undefined>): (error: unknown) => Promise<void> {
  return async (error) => {
    exists()(error);
    mustBeOurs(ctx, what, name, await tagsOf());
  };
}

/** A function's owner, as tags: its TWELVE_APP and TWELVE_STAGE variables (moto's tagging API misses simple-mode functions). */
export function functionOwner(variables: Record<string, string> | undefined): Tags {
  return {
    ...(variables?.TWELVE_APP ? { "twelve:app": variables.TWELVE_APP } : {}),
    ...(variables?.TWELVE_STAGE ? { "twelve:stage": variables.TWELVE_STAGE } : {}),
  };
}

export function tagList(tags: Tags): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** For reads where "not found" is an answer, not an error. */
export function notFound<T>(value: T): (error: unknown) => T {
  return (error) => {
    const name = (error as Error).name;
    if (name === "ResourceNotFoundException" || name === "NoSuchEntityException" || name === "NoSuchEntity" || name === "QueueDoesNotExist" || name === "AWS.SimpleQueueService.NonExistentQueue") return value;
    throw error;
  };
}

/** Creating what a killed deploy already made is not an error: the next steps bring it in line. */
export function exists(): (error: unknown) => void {
  return (error) => {
    const name = (error as Error).name;
    if (name === "EntityAlreadyExistsException" || name === "ResourceConflictException" || name === "ConflictException" || name === "QueueAlreadyExists" || name === "QueueNameExists") return;
    throw error;
  };
}

/** Deleting what is already gone is done. */
export function gone(): (error: unknown) => void {
  return (error) => {
    const name = (error as Error).name;
    if (name === "ResourceNotFoundException" || name === "NoSuchEntityException" || name === "QueueDoesNotExist" || name === "AWS.SimpleQueueService.NonExistentQueue") return;
    throw error;
  };
}

export async function retrying<T>(call: () => Promise<T>, retryable: (error: unknown) => boolean, attempts = 8): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await call();
    } catch (error) {
      if (i >= attempts - 1 || !retryable(error)) throw error;
      await sleep(Math.min(500 * 2 ** i, 8000));
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
