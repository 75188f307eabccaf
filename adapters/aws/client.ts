import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inCI } from "../../src/ci.ts";
import { patience, reportingWait } from "../../src/deploy/patience.ts";
import { failure, usageError } from "../../src/errors.ts";
import { requirePackages } from "../../src/peers.ts";
import { partitionOf } from "./partition.ts";

/** The AWS SDK clients twelve calls: optional peer dependencies, installed by AWS apps only. */
export const AWS_PACKAGES = [
  "@aws-sdk/client-cloudwatch-logs",
  "@aws-sdk/client-iam",
  "@aws-sdk/client-lambda",
  "@aws-sdk/client-scheduler",
  "@aws-sdk/client-sqs",
  "@aws-sdk/client-sts",
] as const;

/**
 * The AWS SDK v3 clients deploy uses, loaded only when a command needs AWS (a static import
 * would load the SDK for every command). Credentials and endpoint come the SDK's standard way:
 * its default chain, AWS_REGION, AWS_ENDPOINT_URL. Every call is counted, read or mutating, so
 * deploy can show (and tests and benches can check) what it did.
 */
export interface CallCount {
  reads: number;
  writes: number;
  byOperation: Record<string, number>;
}

const READ = /^(Get|List|Describe|Filter)/;

export async function awsClients(region: string, env: NodeJS.ProcessEnv = process.env, waiting?: (line: string) => void) {
  requirePackages(AWS_PACKAGES, "deploying to AWS");
  const missing = missingCredentials(env);
  if (missing) throw missing;
  const [lambda, sqs, scheduler, iam, logs, sts] = await Promise.all([
    import("@aws-sdk/client-lambda"),
    import("@aws-sdk/client-sqs"),
    import("@aws-sdk/client-scheduler"),
    import("@aws-sdk/client-iam"),
    import("@aws-sdk/client-cloudwatch-logs"),
    import("@aws-sdk/client-sts"),
  ]);
  const count: CallCount = { reads: 0, writes: 0, byOperation: {} };
  const standIn = Boolean(env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_LAMBDA);
  // Every attempt is bounded (an endpoint that accepts and never answers must not hold a deploy
  // for ever); the SDK retries a timed-out attempt with backoff, up to maxAttempts.
  const { callMs, noticeMs } = patience(env);
  const requestHandler = { connectionTimeout: Math.min(5000, callMs), requestTimeout: callMs, throwOnRequestTimeout: true };
  const config = { region, maxAttempts: 5, requestHandler, ...fromEnvironment(env) };
  const counted = <C extends { middlewareStack: { add: (...args: never[]) => void } }>(client: C): C => {
    (client.middlewareStack as unknown as { add(mw: unknown, options: unknown): void }).add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string; clientName?: string }) => async (args: unknown) => {
        const name = (context.commandName ?? "Unknown").replace(/Command$/, "");
        count.byOperation[name] = (count.byOperation[name] ?? 0) + 1;
        if (READ.test(name)) count.reads++;
        else count.writes++;
        const service = (context.clientName ?? "").replace(/Client$/, "");
        return reportingWait(`AWS ${service} ${name}`, () => next(args), noticeMs, waiting);
      },
      { step: "initialize", name: "twelveCallCount" },
    );
    return client;
  };
  return {
    sdk: { lambda, sqs, scheduler, iam, logs, sts },
    lambda: counted(new lambda.LambdaClient(config)),
    /**
     * For `twelve run` of a clock: one attempt. A throttled invoke is the previous run still
     * going (the run is skipped, at once), and an attempt that timed out may still be running:
     * another would be a second run.
     */
    lambdaOnce: counted(new lambda.LambdaClient({ ...config, maxAttempts: 1 })),
    sqs: counted(new sqs.SQSClient(config)),
    scheduler: counted(new scheduler.SchedulerClient(config)),
    iam: counted(new iam.IAMClient(config)),
    logs: counted(new logs.CloudWatchLogsClient(config)),
    sts: counted(new sts.STSClient(config)),
    count,
    lacks: (error: unknown) => standIn && unknownOperation(error),
  };
}

/**
 * Whether an error says the endpoint has no such operation: a 404 that is not one of AWS's own
 * errors (moto answers an HTML page for what it does not implement). Only ever true against a
 * stand-in (AWS_ENDPOINT_URL): on AWS itself, every call twelve makes exists, and its errors count.
 */
function unknownOperation(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.$metadata?.httpStatusCode === 404 && !/NotFound|NoSuch/.test(e.name ?? "");
}

export type AwsClients = Awaited<ReturnType<typeof awsClients>>;

/**
 * The deploying environment's endpoint and keys, when it is not this process's own (twelve/api
 * may be handed another): the SDK's default chain reads only process.env and the profile files.
 */
function fromEnvironment(env: NodeJS.ProcessEnv) {
  if (env === process.env) return {};
  const endpoint = env.AWS_ENDPOINT_URL;
  const keys = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
    ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } }
    : {};
  return { ...(endpoint ? { endpoint } : {}), ...keys };
}

const CREDENTIAL_VARIABLES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_PROFILE",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];

/**
 * In CI, a job with no credential in sight fails at once, naming what to set, instead of the
 * SDK probing the instance metadata service (hosted runners have no instance role). A
 * self-hosted runner on EC2 says it wants its instance role with AWS_EC2_METADATA_DISABLED=false.
 */
function missingCredentials(env: NodeJS.ProcessEnv) {
  if (!inCI(env) || env.AWS_EC2_METADATA_DISABLED === "false") return undefined;
  if (CREDENTIAL_VARIABLES.some((name) => env[name])) return undefined;
  const home = env.HOME ?? os.homedir();
  const files = [env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(home, ".aws", "credentials"), env.AWS_CONFIG_FILE ?? path.join(home, ".aws", "config")];
  if (files.some((file) => fs.existsSync(file))) return undefined;
  return usageError(
    "no AWS credentials in this CI job: none of AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE is set",
    "On GitHub Actions, add aws-actions/configure-aws-credentials (OIDC, with permissions id-token: write) before twelve. Elsewhere, set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.",
  );
}

/** The region to deploy to: aws.region in the config, else the SDK's AWS_REGION. */
export function deployRegion(configRegion: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const region = configRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw usageError("no AWS region: set aws.region in twelve.config.ts, or AWS_REGION", "For example: export AWS_REGION=eu-west-1");
  partitionOf(region); // refuses the partitions twelve cannot address
  return region;
}

/** The account of the credentials in use; a missing or bad credential fails here, before any change. */
export async function accountOf(clients: AwsClients): Promise<string> {
  try {
    const identity = await clients.sts.send(new clients.sdk.sts.GetCallerIdentityCommand({}));
    if (!identity.Account) throw new Error("GetCallerIdentity returned no account");
    return identity.Account;
  } catch (error) {
    const name = (error as Error).name;
    if (name === "CredentialsProviderError" || /credential/i.test((error as Error).message)) {
      throw usageError(`no AWS credentials: ${(error as Error).message}`, "Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run in an environment with a role (GitHub OIDC, an instance profile).");
    }
    throw failure(`could not reach AWS STS to identify the account: ${(error as Error).message}`, "Check the network, AWS_ENDPOINT_URL and the credentials.", error);
  }
}
