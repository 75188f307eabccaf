import fs from "node:fs";
import { failure } from "../../src/errors.ts";
import type { AwsClients } from "./clients.ts";
import { toApply, type Change, type Plan } from "../../src/deploy/plan.ts";
import type { AwsResource, FunctionResource, MappingResource, QueueResource, RoleResource, ScheduleGroupResource, ScheduleResource, Tags } from "./resources.ts";
import { notFound, permissionIds, URL_PERMISSIONS, type DeployedMapping, type DeployedState } from "./state.ts";

export interface ApplyOptions {
  /** One line per resource as it is done. */
  progress(line: string): void;
}

/**
 * Applies a plan: creates and updates in dependency order (roles, dead-letter queues and the
 * schedule group; queues; functions; mappings and schedules), independent steps in parallel,
 * then deletes in the reverse order. Every step is idempotent against what it finds, so a
 * deploy killed half-way converges when run again.
 */
export async function applyPlan(clients: AwsClients, plan: Plan<AwsResource>, deployed: DeployedState, options: ApplyOptions): Promise<void> {
  const upserts = plan.changes.filter((c) => c.action !== "delete");
  const deletes = toApply(plan).filter((c) => c.action === "delete");
  const phase = async (changes: Change<AwsResource>[], run: (change: Change<AwsResource>) => Promise<void>) => {
    await Promise.all(
      changes.map(async (change) => {
        try {
          await run(change);
        } catch (error) {
          throw failure(`${change.action} ${change.kind} ${change.name} failed: ${(error as Error).name}: ${(error as Error).message}`, hintFor(error), error);
        }
        options.progress(`${symbol(change)} ${change.kind} ${change.name}${change.action === "update" ? ` (${change.fields.map((f) => f.field).join(", ")})` : ""}`);
      }),
    );
  };
  const isDlq = (c: Change<AwsResource>) => c.kind === "queue" && c.name.endsWith("-dlq");

  await phase(upserts.filter((c) => c.kind === "role" || c.kind === "schedule-group" || isDlq(c)), (c) => upsert(clients, c, deployed));
  await phase(upserts.filter((c) => c.kind === "queue" && !isDlq(c)), (c) => upsert(clients, c, deployed));
  await phase(upserts.filter((c) => c.kind === "function"), (c) => upsert(clients, c, deployed));
  await phase(upserts.filter((c) => c.kind === "mapping" || c.kind === "schedule"), (c) => upsert(clients, c, deployed));

  await phase(deletes.filter((c) => c.kind === "schedule" || c.kind === "mapping"), (c) => remove(clients, c, deployed));
  await phase(deletes.filter((c) => c.kind === "function"), (c) => remove(clients, c, deployed));
  await phase(deletes.filter((c) => c.kind === "queue" && !isDlq(c)), (c) => remove(clients, c, deployed));
  await phase(deletes.filter((c) => isDlq(c) || c.kind === "role" || c.kind === "schedule-group"), (c) => remove(clients, c, deployed));
}

const symbol = (c: Change<AwsResource>) => ({ create: "+", update: "~", delete: "-" })[c.action];

async function upsert(clients: AwsClients, change: Change<AwsResource>, deployed: DeployedState): Promise<void> {
  const fields = change.action === "update" ? new Set(change.fields.map((f) => f.field.split(".")[0])) : undefined;
  const r = change.resource;
  if (r.kind === "role") return upsertRole(clients, r, fields);
  if (r.kind === "queue") return upsertQueue(clients, r, deployed, fields);
  if (r.kind === "function") return upsertFunction(clients, r, fields);
  if (r.kind === "mapping") return upsertMapping(clients, r, deployed);
  if (r.kind === "schedule-group") return upsertScheduleGroup(clients, r);
  return upsertSchedule(clients, r, change.action === "create");
}

async function upsertRole(clients: AwsClients, role: RoleResource, fields: Set<string | undefined> | undefined): Promise<void> {
  const { iam, sdk } = clients;
  const trust = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: role.service }, Action: "sts:AssumeRole" }],
  });
  if (!fields) {
    await iam.send(new sdk.iam.CreateRoleCommand({ RoleName: role.name, AssumeRolePolicyDocument: trust, Tags: tagList(role.tags) })).catch(exists());
  } else {
    if (fields.has("service")) await iam.send(new sdk.iam.UpdateAssumeRolePolicyCommand({ RoleName: role.name, PolicyDocument: trust }));
    if (fields.has("tags")) await iam.send(new sdk.iam.TagRoleCommand({ RoleName: role.name, Tags: tagList(role.tags) }));
  }
  if (!fields || fields.has("policy")) {
    await iam.send(new sdk.iam.PutRolePolicyCommand({ RoleName: role.name, PolicyName: "twelve", PolicyDocument: JSON.stringify(role.policy) }));
  }
}

async function upsertQueue(clients: AwsClients, queue: QueueResource, deployed: DeployedState, fields: Set<string | undefined> | undefined): Promise<void> {
  const { sqs, sdk } = clients;
  if (!fields) {
    await sqs.send(new sdk.sqs.CreateQueueCommand({ QueueName: queue.name, Attributes: { ...queue.attributes }, tags: queue.tags }));
    return;
  }
  const url = deployed.queueUrls[queue.name] ?? "";
  if (fields.has("attributes")) await sqs.send(new sdk.sqs.SetQueueAttributesCommand({ QueueUrl: url, Attributes: { ...queue.attributes } }));
  if (fields.has("tags")) await sqs.send(new sdk.sqs.TagQueueCommand({ QueueUrl: url, Tags: queue.tags }));
}

async function upsertFunction(clients: AwsClients, fn: FunctionResource, fields: Set<string | undefined> | undefined): Promise<void> {
  const { lambda, sdk } = clients;
  const configuration = {
    FunctionName: fn.name,
    Role: fn.role,
    Runtime: fn.runtime,
    Handler: fn.handler,
    MemorySize: fn.memory,
    Timeout: fn.timeout,
    Environment: { Variables: fn.environment },
  };
  if (!fields) {
    const zip = fs.readFileSync(fn.zipPath);
    // A role made a moment ago may not be assumable yet (IAM propagates in seconds).
    await retrying(
      () => lambda.send(new sdk.lambda.CreateFunctionCommand({ ...configuration, Code: { ZipFile: zip }, Architectures: [fn.architecture], Tags: fn.tags })),
      (error) => (error as Error).name === "InvalidParameterValueException" && /cannot be assumed/.test((error as Error).message),
    );
    await waitUntilReady(clients, fn.name);
  } else {
    // Lambda refuses a change while another is in progress: wait, and retry the conflict.
    if (fields.has("code") || fields.has("architecture")) {
      await retrying(() => lambda.send(new sdk.lambda.UpdateFunctionCodeCommand({ FunctionName: fn.name, ZipFile: fs.readFileSync(fn.zipPath), Architectures: [fn.architecture] })), isConflict);
      await waitUntilReady(clients, fn.name);
    }
    if (["role", "runtime", "handler", "memory", "timeout", "environment"].some((f) => fields.has(f))) {
      await retrying(() => lambda.send(new sdk.lambda.UpdateFunctionConfigurationCommand(configuration)), isConflict);
      await waitUntilReady(clients, fn.name);
    }
    if (fields.has("tags")) await lambda.send(new sdk.lambda.TagResourceCommand({ Resource: await functionArn(clients, fn.name), Tags: fn.tags }));
  }
  if (!fields ? fn.reservedConcurrency !== null : fields.has("reservedConcurrency")) {
    if (fn.reservedConcurrency === null) await lambda.send(new sdk.lambda.DeleteFunctionConcurrencyCommand({ FunctionName: fn.name }));
    else await lambda.send(new sdk.lambda.PutFunctionConcurrencyCommand({ FunctionName: fn.name, ReservedConcurrentExecutions: fn.reservedConcurrency }));
  }
  if (!fields ? fn.url : fields.has("url")) {
    if (fn.url) await createUrl(clients, fn.name);
    else await deleteUrl(clients, fn.name);
  }
}

/** A public URL needs both permissions AWS now asks for: the URL's own and InvokeFunction via the URL. */
async function createUrl(clients: AwsClients, name: string): Promise<void> {
  const { lambda, sdk } = clients;
  // Only what is missing: an interrupted deploy may have made part of it.
  const [config, sids] = await Promise.all([
    lambda.send(new sdk.lambda.GetFunctionUrlConfigCommand({ FunctionName: name })).then(() => true, notFound(false)),
    permissionIds(clients, name),
  ]);
  if (!config) await lambda.send(new sdk.lambda.CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: "NONE" })).catch(exists());
  if (!sids.includes("twelve-url")) {
    await lambda.send(new sdk.lambda.AddPermissionCommand({ FunctionName: name, StatementId: "twelve-url", Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionUrlAuthType: "NONE" })).catch(exists());
  }
  if (!sids.includes("twelve-url-invoke")) {
    await lambda.send(new sdk.lambda.AddPermissionCommand({ FunctionName: name, StatementId: "twelve-url-invoke", Action: "lambda:InvokeFunction", Principal: "*", InvokedViaFunctionUrl: true })).catch(exists());
  }
}

async function deleteUrl(clients: AwsClients, name: string): Promise<void> {
  const { lambda, sdk } = clients;
  await lambda.send(new sdk.lambda.DeleteFunctionUrlConfigCommand({ FunctionName: name })).catch(gone());
  for (const sid of URL_PERMISSIONS) await lambda.send(new sdk.lambda.RemovePermissionCommand({ FunctionName: name, StatementId: sid })).catch(gone());
}

async function upsertMapping(clients: AwsClients, mapping: MappingResource, deployed: DeployedState): Promise<void> {
  const { lambda, sdk } = clients;
  const settings = {
    BatchSize: mapping.batchSize,
    MaximumBatchingWindowInSeconds: mapping.batchingWindowSeconds,
    ScalingConfig: { MaximumConcurrency: mapping.maximumConcurrency },
    FunctionResponseTypes: ["ReportBatchItemFailures" as const],
  };
  const existing = deployed.resources.find((r): r is DeployedMapping => r.kind === "mapping" && r.name === mapping.name);
  if (existing) await lambda.send(new sdk.lambda.UpdateEventSourceMappingCommand({ UUID: existing.uuid, FunctionName: mapping.name, ...settings }));
  else await lambda.send(new sdk.lambda.CreateEventSourceMappingCommand({ FunctionName: mapping.name, EventSourceArn: mapping.queue, ...settings }));
}

async function upsertScheduleGroup(clients: AwsClients, group: ScheduleGroupResource): Promise<void> {
  const { scheduler, sdk } = clients;
  await scheduler.send(new sdk.scheduler.CreateScheduleGroupCommand({ Name: group.name, Tags: tagList(group.tags) })).catch(exists());
}

async function upsertSchedule(clients: AwsClients, schedule: ScheduleResource, create: boolean): Promise<void> {
  const { scheduler, sdk } = clients;
  // UpdateSchedule replaces every field (left-out ones become defaults), so both send all of them.
  const input = {
    Name: schedule.name,
    GroupName: schedule.group,
    ScheduleExpression: schedule.expression,
    ScheduleExpressionTimezone: schedule.timezone,
    FlexibleTimeWindow: { Mode: "OFF" as const },
    State: "ENABLED" as const,
    Target: {
      Arn: schedule.function,
      RoleArn: schedule.role,
      Input: schedule.input,
      RetryPolicy: { MaximumRetryAttempts: schedule.retryAttempts, MaximumEventAgeInSeconds: 3600 },
      DeadLetterConfig: { Arn: schedule.deadLetterQueue },
    },
  };
  if (create) await scheduler.send(new sdk.scheduler.CreateScheduleCommand(input));
  else await scheduler.send(new sdk.scheduler.UpdateScheduleCommand(input));
}

async function remove(clients: AwsClients, change: Change<AwsResource>, deployed: DeployedState): Promise<void> {
  const { lambda, sqs, iam, scheduler, sdk } = clients;
  const r = change.resource;
  if (r.kind === "schedule") await scheduler.send(new sdk.scheduler.DeleteScheduleCommand({ Name: r.name, GroupName: r.group })).catch(gone());
  if (r.kind === "mapping") await lambda.send(new sdk.lambda.DeleteEventSourceMappingCommand({ UUID: (r as DeployedMapping).uuid })).catch(gone());
  if (r.kind === "function") {
    await deleteUrl(clients, r.name);
    await lambda.send(new sdk.lambda.DeleteFunctionCommand({ FunctionName: r.name })).catch(gone());
  }
  if (r.kind === "queue") {
    const url = deployed.queueUrls[r.name];
    if (url) await sqs.send(new sdk.sqs.DeleteQueueCommand({ QueueUrl: url })).catch(gone());
  }
  if (r.kind === "role") {
    await iam.send(new sdk.iam.DeleteRolePolicyCommand({ RoleName: r.name, PolicyName: "twelve" })).catch(gone());
    await iam.send(new sdk.iam.DeleteRoleCommand({ RoleName: r.name })).catch(gone());
  }
  if (r.kind === "schedule-group") await scheduler.send(new sdk.scheduler.DeleteScheduleGroupCommand({ Name: r.name })).catch(gone());
}

/** Lambda takes one change at a time: wait until the last one is done before the next. */
async function waitUntilReady(clients: AwsClients, name: string): Promise<void> {
  const { lambda, sdk } = clients;
  for (let attempt = 0; attempt < 120; attempt++) {
    const c = await lambda.send(new sdk.lambda.GetFunctionConfigurationCommand({ FunctionName: name }));
    if (c.State === "Failed" || c.LastUpdateStatus === "Failed") throw new Error(`${name}: ${c.StateReason ?? c.LastUpdateStatusReason ?? "failed"}`);
    if ((c.State ?? "Active") === "Active" && (c.LastUpdateStatus ?? "Successful") === "Successful") return;
    await sleep(Math.min(250 * 2 ** attempt, 2000));
  }
  throw new Error(`${name} did not become ready in time`);
}

async function functionArn(clients: AwsClients, name: string): Promise<string> {
  const c = await clients.lambda.send(new clients.sdk.lambda.GetFunctionConfigurationCommand({ FunctionName: name }));
  return c.FunctionArn ?? name;
}

async function retrying<T>(call: () => Promise<T>, retryable: (error: unknown) => boolean, attempts = 8): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await call();
    } catch (error) {
      if (i >= attempts - 1 || !retryable(error)) throw error;
      await sleep(Math.min(500 * 2 ** i, 8000));
    }
  }
}

const isConflict = (error: unknown) => (error as Error).name === "ResourceConflictException";

function tagList(tags: Tags): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** Creating what a killed deploy already made is not an error: the next steps bring it in line. */
function exists(): (error: unknown) => void {
  return (error) => {
    const name = (error as Error).name;
    if (name === "EntityAlreadyExistsException" || name === "ResourceConflictException" || name === "ConflictException") return;
    throw error;
  };
}

/** Deleting what is already gone is done. */
function gone(): (error: unknown) => void {
  return (error) => {
    const name = (error as Error).name;
    if (name === "ResourceNotFoundException" || name === "NoSuchEntityException" || name === "QueueDoesNotExist" || name === "AWS.SimpleQueueService.NonExistentQueue") return;
    throw error;
  };
}

function hintFor(error: unknown): string {
  const name = (error as Error).name;
  if (name === "AccessDeniedException" || name === "AccessDenied") return "The credentials in use lack a permission for this call: see the README's list of what deploy needs.";
  if (name === "TooManyRequestsException" || name === "ThrottlingException") return "AWS throttled the calls; run deploy again (it picks up where it stopped).";
  return "Fix the cause and run deploy again: it picks up where it stopped.";
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
