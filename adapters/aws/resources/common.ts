import type { Manifest } from "../../../src/build/manifest.ts";
import { resourceName } from "../../../src/formation/names.ts";
import type { Formation } from "../../../src/formation/types.ts";
import type { AwsClients } from "../client.ts";

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
  arn: {
    queue(name: string): string;
    fn(name: string): string;
    role(name: string): string;
    logs(functionName: string): string;
  };
}

export function desiredInput(formation: Formation, manifest: Manifest, buildDir: string, target: { account: string; region: string; stage: string; secrets: Record<string, string> }): DesiredInput {
  const { account, region, stage } = target;
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
    arn: {
      queue: (name) => `arn:aws:sqs:${region}:${account}:${name}`,
      fn: (name) => `arn:aws:lambda:${region}:${account}:function:${name}`,
      role: (name) => `arn:aws:iam::${account}:role/${name}`,
      logs: (fn) => `arn:aws:logs:${region}:${account}:log-group:/aws/lambda/${fn}:*`,
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

export function tagList(tags: Tags): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** For reads where "not found" is an answer, not an error. */
export function notFound<T>(value: T): (error: unknown) => T {
  return (error) => {
    const name = (error as Error).name;
    if (name === "ResourceNotFoundException" || name === "NoSuchEntityException" || name === "NoSuchEntity" || name === "QueueDoesNotExist") return value;
    throw error;
  };
}

/** Creating what a killed deploy already made is not an error: the next steps bring it in line. */
export function exists(): (error: unknown) => void {
  return (error) => {
    const name = (error as Error).name;
    if (name === "EntityAlreadyExistsException" || name === "ResourceConflictException" || name === "ConflictException") return;
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
