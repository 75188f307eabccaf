import fs from "node:fs";
import type { ManifestProcess } from "../../../src/build/manifest.ts";
import { fieldRules, type Change } from "../../../src/deploy/plan.ts";
import { deadLetterQueueName, queueBinding } from "../../../src/formation/names.ts";
import type { Process } from "../../../src/formation/types.ts";
import type { AwsClients } from "../client.ts";
import { exists, functionOwner, gone, mustBeOurs, notFound, retrying, sleep, type AwsContext, type DesiredInput, type Tags } from "./common.ts";

/** A Lambda function, with its reserved concurrency and (web) its public Function URL. */
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
  /** How the Function URL reads the handler's answer (web: as its build says); null: no URL. */
  invokeMode: InvokeMode | null;
  /**
   * Lambda's recursive loop detection: "Terminate" (its default) stops a function that keeps
   * invoking itself through a queue after about 16 rounds. Read back as undefined where the
   * endpoint cannot tell (a stand-in without the API), so that plan does not compare it.
   */
  recursiveLoop: "Allow" | "Terminate" | undefined;
  /**
   * How Lambda handles the function's asynchronous invocations (a clock's, from EventBridge
   * Scheduler): null is Lambda's default (2 retries, events kept up to 6 hours); undefined where
   * the endpoint cannot tell. See CLOCK_ASYNC_INVOKE.
   */
  asyncInvoke: AsyncInvoke | null | undefined;
  tags: Tags;
}

/** A function's event invoke config (PutFunctionEventInvokeConfig), as twelve sets it. */
export interface AsyncInvoke {
  maximumRetryAttempts: number;
  maximumEventAgeSeconds: number;
  /** Where Lambda sends the record of an event it gave up on (an SQS queue's ARN); null: nowhere. */
  onFailure: string | null;
}

/**
 * A clock runs one at a time (reserved concurrency 1), and its runs come asynchronously: a run
 * due while the previous one still goes is throttled, and Lambda's event queue would retry it
 * for up to 6 hours, starting it hours late. Kept at most 60 s (Lambda's minimum, the same
 * window twelve dev gives a late run, src/dev/clock.ts LATE_LIMIT_MS) and never retried, such a
 * run starts at most 60 s late (if the previous run ends by then) or is dropped, and its record (condition EventAgeExceeded, the run's scheduledTime in
 * requestPayload) goes to the clock's dead-letter queue: that record is the skip, logged with
 * its scheduled time, since the wrapper never ran. A run that failed goes there too, with its
 * error: a retry would start a minute or more late.
 */
export const CLOCK_ASYNC_INVOKE = { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 } as const;

export type InvokeMode = "BUFFERED" | "RESPONSE_STREAM";

export const functionRules = fieldRules<FunctionResource>({
  ignore: ["zipPath"],
  maps: ["environment", "tags"],
  names: { codeSha256: "code" },
  summaries: { codeSha256: "code" },
});

/** The statement ids of the two permissions a public Function URL needs. */
export const URL_PERMISSIONS = ["twelve-url", "twelve-url-invoke"];

export function processFunction(input: DesiredInput, process: Process, built: ManifestProcess): FunctionResource {
  const { app, stage, formation } = input;
  const name = input.name(process.name);
  const environment: Record<string, string> = {
    ...process.env,
    ...Object.fromEntries(formation.secrets.filter((n) => input.secrets[n] !== undefined).map((n) => [n, input.secrets[n] as string])),
    NODE_OPTIONS: "--enable-source-maps",
    // Whose function this is, readable wherever tags are not (see readFunctions).
    TWELVE_APP: app,
    TWELVE_STAGE: stage,
    TWELVE_PROCESS: process.name,
  };
  for (const worker of new Set([...built.sends, ...(process.type === "worker" ? [process.name] : [])])) environment[queueBinding(worker)] = input.queueUrl(input.name(worker));
  return {
    kind: "function",
    name,
    role: input.arn.role(name),
    runtime: "nodejs22.x",
    handler: "index.handler",
    architecture: formation.aws.architecture,
    memory: process.memory,
    timeout: process.timeout,
    environment,
    codeSha256: String(built.platform.codeSha256),
    zipPath: `${input.buildDir}/${built.artifacts.zip?.path ?? `${process.name}/function.zip`}`,
    reservedConcurrency: reservedConcurrency(process),
    url: process.type === "web",
    invokeMode: process.type === "web" ? invokeModeOf(built) : null,
    recursiveLoop: process.type === "worker" && process.aws?.recursiveLoop === "allow" ? "Allow" : "Terminate",
    asyncInvoke: process.type === "clock" ? { ...CLOCK_ASYNC_INVOKE, onFailure: input.arn.queue(deadLetterQueueName(app, stage, process.name)) } : null,
    tags: input.tags(process.name),
  };
}

/** What the build chose for the web wrapper (a streaming one needs RESPONSE_STREAM); buffered by default. */
function invokeModeOf(built: ManifestProcess): InvokeMode {
  const mode = built.platform.invokeMode ?? "BUFFERED";
  if (mode !== "BUFFERED" && mode !== "RESPONSE_STREAM") throw new Error(`the build of ${built.name} has invokeMode ${JSON.stringify(mode)}; run twelve build again`);
  return mode;
}

function reservedConcurrency(process: Process): number | null {
  if (process.type === "web") return process.concurrency;
  if (process.type === "clock") return 1;
  // A worker's cap is the mapping's MaximumConcurrency; reserving as much would also be
  // right, but would take that much from the account's pool even when idle.
  return null;
}

/**
 * The names of the stage's functions: named `<app>-<stage>-*` and carrying its TWELVE_APP and
 * TWELVE_STAGE variables (moto's tagging API misses simple-mode functions, so tags cannot tell).
 */
export async function functionNames(ctx: AwsContext): Promise<string[]> {
  const { lambda, sdk } = ctx.clients;
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const page = await lambda.send(new sdk.lambda.ListFunctionsCommand({ Marker: marker }));
    for (const f of page.Functions ?? []) {
      const env = f.Environment?.Variables ?? {};
      if (f.FunctionName?.startsWith(ctx.prefix) && env.TWELVE_APP === ctx.app && env.TWELVE_STAGE === ctx.stage) names.push(f.FunctionName);
    }
    marker = page.NextMarker;
  } while (marker);
  return names;
}

export async function readFunctions(ctx: AwsContext, names: string[]): Promise<FunctionResource[]> {
  const { lambda, sdk } = ctx.clients;
  return Promise.all(
    names.map(async (name): Promise<FunctionResource> => {
      const [fn, url, recursiveLoop, asyncInvoke] = await Promise.all([
        lambda.send(new sdk.lambda.GetFunctionCommand({ FunctionName: name })),
        publicUrl(ctx, name),
        lambda.send(new sdk.lambda.GetFunctionRecursionConfigCommand({ FunctionName: name })).then(
          (r) => (r.RecursiveLoop ?? "Terminate") as "Allow" | "Terminate",
          (error: unknown) => {
            if (ctx.clients.lacks(error)) return undefined;
            throw error;
          },
        ),
        readAsyncInvoke(ctx, name),
      ]);
      const c = fn.Configuration ?? {};
      return {
        kind: "function",
        name,
        role: c.Role ?? "",
        runtime: c.Runtime as "nodejs22.x",
        handler: c.Handler as "index.handler",
        architecture: (c.Architectures?.[0] ?? "x86_64") as "arm64" | "x86_64",
        memory: c.MemorySize ?? 0,
        timeout: c.Timeout ?? 0,
        environment: c.Environment?.Variables ?? {},
        codeSha256: c.CodeSha256 ?? "",
        zipPath: "",
        reservedConcurrency: fn.Concurrency?.ReservedConcurrentExecutions ?? null,
        url: url.public,
        invokeMode: url.invokeMode,
        recursiveLoop,
        asyncInvoke,
        tags: fn.Tags ?? {},
      };
    }),
  );
}

/** The function's event invoke config: null when it has none (Lambda's defaults), undefined where the endpoint has no such API. */
export async function readAsyncInvoke(ctx: AwsContext, name: string): Promise<AsyncInvoke | null | undefined> {
  const { lambda, sdk } = ctx.clients;
  const config = await lambda.send(new sdk.lambda.GetFunctionEventInvokeConfigCommand({ FunctionName: name })).catch((error: unknown) => {
    if (ctx.clients.lacks(error)) return undefined;
    return notFound(null)(error);
  });
  if (!config) return config;
  return {
    // Left out, they are Lambda's defaults.
    maximumRetryAttempts: config.MaximumRetryAttempts ?? 2,
    maximumEventAgeSeconds: config.MaximumEventAgeInSeconds ?? 21_600,
    onFailure: config.DestinationConfig?.OnFailure?.Destination || null,
  };
}

/** A web function's Function URL, as deployed now. */
export async function functionUrl(clients: AwsClients, name: string): Promise<string | undefined> {
  const config = await clients.lambda.send(new clients.sdk.lambda.GetFunctionUrlConfigCommand({ FunctionName: name })).catch(() => undefined);
  return config?.FunctionUrl;
}

/** A public URL is there only with its config and both permissions (a killed deploy may leave one). */
async function publicUrl(ctx: AwsContext, name: string): Promise<{ public: boolean; invokeMode: InvokeMode | null }> {
  const { lambda, sdk } = ctx.clients;
  const [config, sids] = await Promise.all([
    lambda.send(new sdk.lambda.GetFunctionUrlConfigCommand({ FunctionName: name })).catch(notFound(undefined)),
    permissionIds(ctx, name),
  ]);
  return { public: config !== undefined && URL_PERMISSIONS.every((sid) => sids.includes(sid)), invokeMode: config ? urlInvokeMode(config.InvokeMode) : null };
}

/** A URL made without a mode is BUFFERED (moto answers "Buffered"). */
const urlInvokeMode = (mode: string | undefined): InvokeMode => ((mode ?? "BUFFERED").toUpperCase() === "RESPONSE_STREAM" ? "RESPONSE_STREAM" : "BUFFERED");

async function permissionIds(ctx: AwsContext, name: string): Promise<string[]> {
  const { lambda, sdk } = ctx.clients;
  const policy = await lambda.send(new sdk.lambda.GetPolicyCommand({ FunctionName: name })).then((p) => p.Policy, notFound(undefined));
  if (!policy) return [];
  return ((JSON.parse(policy) as { Statement?: { Sid?: string }[] }).Statement ?? []).map((s) => s.Sid ?? "");
}

export async function applyFunction(ctx: AwsContext, change: Change<FunctionResource>): Promise<void> {
  const { lambda, sdk } = ctx.clients;
  const fn = change.resource;
  if (change.action === "delete") {
    // DeleteFunction takes the URL and its permissions with it; a public URL goes first, so it
    // stops answering before the function does.
    if (fn.url) await deleteUrl(ctx, fn.name);
    await lambda.send(new sdk.lambda.DeleteFunctionCommand({ FunctionName: fn.name })).catch(gone());
    return;
  }
  const configuration = {
    FunctionName: fn.name,
    Role: fn.role,
    Runtime: fn.runtime,
    Handler: fn.handler,
    MemorySize: fn.memory,
    Timeout: fn.timeout,
    Environment: { Variables: fn.environment },
  };
  const fields = change.action === "update" ? new Set(change.fields.map((f) => f.field.split(".")[0])) : undefined;
  if (!fields) {
    // Another stage's function of this name is refused before anything of it is touched.
    const taken = await functionVariables(ctx, fn.name);
    if (taken) mustBeOurs(ctx, "Lambda function", fn.name, functionOwner(taken));
    const zip = fs.readFileSync(fn.zipPath);
    // A role made a moment ago may not be assumable yet (IAM propagates in seconds).
    await retrying(
      () => lambda.send(new sdk.lambda.CreateFunctionCommand({ ...configuration, Code: { ZipFile: zip }, Architectures: [fn.architecture], Tags: fn.tags })),
      (error) => (error as Error).name === "InvalidParameterValueException" && /cannot be assumed/.test((error as Error).message),
    );
    await waitUntilReady(ctx, fn.name);
  } else {
    // Lambda refuses a change while another is in progress: wait, and retry the conflict.
    if (fields.has("code") || fields.has("architecture")) {
      await retrying(() => lambda.send(new sdk.lambda.UpdateFunctionCodeCommand({ FunctionName: fn.name, ZipFile: fs.readFileSync(fn.zipPath), Architectures: [fn.architecture] })), isConflict);
      await waitUntilReady(ctx, fn.name);
    }
    if (["role", "runtime", "handler", "memory", "timeout", "environment"].some((f) => fields.has(f))) {
      await retrying(() => lambda.send(new sdk.lambda.UpdateFunctionConfigurationCommand(configuration)), isConflict);
      await waitUntilReady(ctx, fn.name);
    }
    if (fields.has("tags")) await lambda.send(new sdk.lambda.TagResourceCommand({ Resource: await functionArn(ctx, fn.name), Tags: fn.tags }));
  }
  if (!fields ? fn.reservedConcurrency !== null : fields.has("reservedConcurrency")) {
    if (fn.reservedConcurrency === null) await lambda.send(new sdk.lambda.DeleteFunctionConcurrencyCommand({ FunctionName: fn.name }));
    else await lambda.send(new sdk.lambda.PutFunctionConcurrencyCommand({ FunctionName: fn.name, ReservedConcurrentExecutions: fn.reservedConcurrency }));
  }
  if (!fields ? fn.url : fields.has("url")) {
    if (fn.url) await createUrl(ctx, fn.name, fn.invokeMode ?? "BUFFERED");
    else await deleteUrl(ctx, fn.name);
  } else if (fields?.has("invokeMode") && fn.url && fn.invokeMode) {
    // In place: the URL (its address) stays.
    await lambda.send(new sdk.lambda.UpdateFunctionUrlConfigCommand({ FunctionName: fn.name, InvokeMode: fn.invokeMode }));
  }
  if (!fields ? fn.recursiveLoop === "Allow" : fields.has("recursiveLoop")) {
    await lambda.send(new sdk.lambda.PutFunctionRecursionConfigCommand({ FunctionName: fn.name, RecursiveLoop: fn.recursiveLoop ?? "Terminate" }));
  }
  if (!fields ? Boolean(fn.asyncInvoke) : fields.has("asyncInvoke")) await applyAsyncInvoke(ctx, fn.name, fn.asyncInvoke ?? null);
}

/**
 * Sets the event invoke config (null: removes it, back to Lambda's defaults). AWS's Put
 * replaces the whole config at once; moto's keeps the first one put and appends the rest, so
 * what it answers is checked, and a stale config cleared before it is put again.
 */
async function applyAsyncInvoke(ctx: AwsContext, name: string, wanted: AsyncInvoke | null): Promise<void> {
  const { lambda, sdk } = ctx.clients;
  if (!wanted) {
    await lambda.send(new sdk.lambda.DeleteFunctionEventInvokeConfigCommand({ FunctionName: name })).catch(gone());
    return;
  }
  const put = () =>
    // Lambda checks that the function's role may send to the destination: a policy written a
    // moment ago may not be in effect yet (IAM propagates in seconds).
    retrying(
      () =>
        lambda.send(new sdk.lambda.PutFunctionEventInvokeConfigCommand({
          FunctionName: name,
          MaximumRetryAttempts: wanted.maximumRetryAttempts,
          MaximumEventAgeInSeconds: wanted.maximumEventAgeSeconds,
          ...(wanted.onFailure ? { DestinationConfig: { OnFailure: { Destination: wanted.onFailure } } } : {}),
        })),
      (error) => (error as Error).name === "InvalidParameterValueException" && /permission/i.test((error as Error).message),
    );
  await put();
  const same = (got: AsyncInvoke | null | undefined) => got === undefined || (got !== null && got.maximumRetryAttempts === wanted.maximumRetryAttempts && got.maximumEventAgeSeconds === wanted.maximumEventAgeSeconds && got.onFailure === wanted.onFailure);
  if (same(await readAsyncInvoke(ctx, name))) return;
  await lambda.send(new sdk.lambda.DeleteFunctionEventInvokeConfigCommand({ FunctionName: name })).catch(gone());
  await put();
}

/** A public URL needs both permissions AWS now asks for: the URL's own and InvokeFunction via the URL. */
async function createUrl(ctx: AwsContext, name: string, invokeMode: InvokeMode): Promise<void> {
  const { lambda, sdk } = ctx.clients;
  // Only what is missing: an interrupted deploy may have made part of it.
  const [config, sids] = await Promise.all([
    lambda.send(new sdk.lambda.GetFunctionUrlConfigCommand({ FunctionName: name })).catch(notFound(undefined)),
    permissionIds(ctx, name),
  ]);
  if (!config) await lambda.send(new sdk.lambda.CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: "NONE", InvokeMode: invokeMode })).catch(exists());
  else if (urlInvokeMode(config.InvokeMode) !== invokeMode) await lambda.send(new sdk.lambda.UpdateFunctionUrlConfigCommand({ FunctionName: name, InvokeMode: invokeMode }));
  if (!sids.includes("twelve-url")) {
    await lambda.send(new sdk.lambda.AddPermissionCommand({ FunctionName: name, StatementId: "twelve-url", Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionUrlAuthType: "NONE" })).catch(exists());
  }
  if (!sids.includes("twelve-url-invoke")) {
    await lambda.send(new sdk.lambda.AddPermissionCommand({ FunctionName: name, StatementId: "twelve-url-invoke", Action: "lambda:InvokeFunction", Principal: "*", InvokedViaFunctionUrl: true })).catch(exists());
  }
}

async function deleteUrl(ctx: AwsContext, name: string): Promise<void> {
  const { lambda, sdk } = ctx.clients;
  await lambda.send(new sdk.lambda.DeleteFunctionUrlConfigCommand({ FunctionName: name })).catch(gone());
  for (const sid of URL_PERMISSIONS) await lambda.send(new sdk.lambda.RemovePermissionCommand({ FunctionName: name, StatementId: sid })).catch(gone());
}

/** Lambda takes one change at a time: wait until the last one is done before the next. */
async function waitUntilReady(ctx: AwsContext, name: string): Promise<void> {
  const { lambda, sdk } = ctx.clients;
  for (let attempt = 0; attempt < 120; attempt++) {
    const c = await lambda.send(new sdk.lambda.GetFunctionConfigurationCommand({ FunctionName: name }));
    if (c.State === "Failed" || c.LastUpdateStatus === "Failed") throw new Error(`${name}: ${c.StateReason ?? c.LastUpdateStatusReason ?? "failed"}`);
    if ((c.State ?? "Active") === "Active" && (c.LastUpdateStatus ?? "Successful") === "Successful") return;
    await sleep(Math.min(250 * 2 ** attempt, 2000));
  }
  throw new Error(`${name} did not become ready in time`);
}

/** A function's variables, or undefined when there is no function of that name. */
export async function functionVariables(ctx: AwsContext, name: string): Promise<Record<string, string> | undefined> {
  const c = await ctx.clients.lambda.send(new ctx.clients.sdk.lambda.GetFunctionConfigurationCommand({ FunctionName: name })).catch(notFound(undefined));
  return c && (c.Environment?.Variables ?? {});
}

async function functionArn(ctx: AwsContext, name: string): Promise<string> {
  const c = await ctx.clients.lambda.send(new ctx.clients.sdk.lambda.GetFunctionConfigurationCommand({ FunctionName: name }));
  return c.FunctionArn ?? name;
}

const isConflict = (error: unknown) => (error as Error).name === "ResourceConflictException";
