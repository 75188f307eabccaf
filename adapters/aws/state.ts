import type { AwsClients } from "./clients.ts";
import type { AwsResource, FunctionResource, MappingResource, PolicyDocument, QueueResource, RoleResource, ScheduleResource, Tags } from "./resources.ts";
import { scheduleGroupName } from "./resources.ts";

/** A mapping as deployed, with the id AWS needs to change or delete it. */
export type DeployedMapping = MappingResource & { uuid: string };

export interface DeployedState {
  resources: AwsResource[];
  /** Messages waiting (visible, in flight or delayed) in each queue, by name. */
  queueDepth: Record<string, number>;
  /** Queue URLs by name, for changes and deletes. */
  queueUrls: Record<string, string>;
}

/**
 * What is deployed for an app and stage, read back from AWS in the shape of resources.ts.
 * No local state: names (`<app>-<stage>-`) find the candidates and the twelve:app and
 * twelve:stage tags (or, for functions, the TWELVE_APP/TWELVE_STAGE variables) prove they are
 * this app's. Independent reads run in parallel.
 */
export async function readDeployed(clients: AwsClients, app: string, stage: string): Promise<DeployedState> {
  const prefix = `${app}-${stage}-`;
  const ours = (tags: Tags | undefined) => tags?.["twelve:app"] === app && tags?.["twelve:stage"] === stage;
  const [functions, queues, roles, schedules] = await Promise.all([
    readFunctions(clients, prefix, app, stage),
    readQueues(clients, prefix, ours),
    readRoles(clients, prefix, ours),
    readSchedules(clients, scheduleGroupName(app, stage), ours),
  ]);
  return {
    resources: [...schedules, ...roles, ...queues.resources, ...functions],
    queueDepth: queues.depth,
    queueUrls: queues.urls,
  };
}

async function readFunctions(clients: AwsClients, prefix: string, app: string, stage: string): Promise<AwsResource[]> {
  const { lambda, sdk } = clients;
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const page = await lambda.send(new sdk.lambda.ListFunctionsCommand({ Marker: marker }));
    for (const f of page.Functions ?? []) {
      const env = f.Environment?.Variables ?? {};
      if (f.FunctionName?.startsWith(prefix) && env.TWELVE_APP === app && env.TWELVE_STAGE === stage) names.push(f.FunctionName);
    }
    marker = page.NextMarker;
  } while (marker);

  const perFunction = await Promise.all(
    names.map(async (name): Promise<AwsResource[]> => {
      const [fn, url, mappings] = await Promise.all([
        lambda.send(new sdk.lambda.GetFunctionCommand({ FunctionName: name })),
        hasPublicUrl(clients, name),
        // By name: moto finds nothing by ARN.
        lambda.send(new sdk.lambda.ListEventSourceMappingsCommand({ FunctionName: name })),
      ]);
      const c = fn.Configuration ?? {};
      const resource: FunctionResource = {
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
        url,
        tags: fn.Tags ?? {},
      };
      const mapping = mappings.EventSourceMappings?.find((m) => m.EventSourceArn?.startsWith("arn:aws:sqs:"));
      const deployedMapping: DeployedMapping[] = mapping
        ? [{
            kind: "mapping",
            name,
            uuid: mapping.UUID ?? "",
            queue: mapping.EventSourceArn ?? "",
            batchSize: mapping.BatchSize ?? 0,
            maximumConcurrency: mapping.ScalingConfig?.MaximumConcurrency ?? 0,
            batchingWindowSeconds: mapping.MaximumBatchingWindowInSeconds ?? 0,
            reportBatchItemFailures: (mapping.FunctionResponseTypes ?? []).includes("ReportBatchItemFailures") as true,
          }]
        : [];
      return [resource, ...deployedMapping];
    }),
  );
  return perFunction.flat();
}

export const URL_PERMISSIONS = ["twelve-url", "twelve-url-invoke"];

/** A public URL is there only with its config and both permissions (a killed deploy may leave one). */
export async function hasPublicUrl(clients: AwsClients, name: string): Promise<boolean> {
  const { lambda, sdk } = clients;
  const [config, sids] = await Promise.all([
    lambda.send(new sdk.lambda.GetFunctionUrlConfigCommand({ FunctionName: name })).then(() => true, notFound(false)),
    permissionIds(clients, name),
  ]);
  return config && URL_PERMISSIONS.every((sid) => sids.includes(sid));
}

export async function permissionIds(clients: AwsClients, name: string): Promise<string[]> {
  const policy = await clients.lambda.send(new clients.sdk.lambda.GetPolicyCommand({ FunctionName: name })).then((p) => p.Policy, notFound(undefined));
  if (!policy) return [];
  return ((JSON.parse(policy) as { Statement?: { Sid?: string }[] }).Statement ?? []).map((s) => s.Sid ?? "");
}

async function readQueues(clients: AwsClients, prefix: string, ours: (tags: Tags | undefined) => boolean) {
  const { sqs, sdk } = clients;
  const urls: string[] = [];
  let token: string | undefined;
  do {
    const page = await sqs.send(new sdk.sqs.ListQueuesCommand({ QueueNamePrefix: prefix, NextToken: token, MaxResults: 1000 }));
    urls.push(...(page.QueueUrls ?? []));
    token = page.NextToken;
  } while (token);

  const read = await Promise.all(
    urls.map(async (url) => {
      const [attributes, tags] = await Promise.all([
        sqs.send(new sdk.sqs.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] })),
        sqs.send(new sdk.sqs.ListQueueTagsCommand({ QueueUrl: url })),
      ]);
      return { url, attributes: attributes.Attributes ?? {}, tags: tags.Tags ?? {} };
    }),
  );
  const resources: QueueResource[] = [];
  const depth: Record<string, number> = {};
  const byName: Record<string, string> = {};
  for (const q of read) {
    if (!ours(q.tags)) continue;
    const name = q.url.split("/").at(-1) ?? "";
    const a = q.attributes;
    resources.push({
      kind: "queue",
      name,
      attributes: {
        VisibilityTimeout: a.VisibilityTimeout ?? "",
        MessageRetentionPeriod: a.MessageRetentionPeriod ?? "",
        ...(a.RedrivePolicy ? { RedrivePolicy: canonicalRedrive(a.RedrivePolicy) } : {}),
      },
      tags: q.tags,
    });
    depth[name] = Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
    byName[name] = q.url;
  }
  return { resources, depth, urls: byName };
}

/** RedrivePolicy as twelve writes it: AWS may return it re-serialised, with a string count. */
export function canonicalRedrive(text: string): string {
  const parsed = JSON.parse(text) as { deadLetterTargetArn: string; maxReceiveCount: number | string };
  return JSON.stringify({ deadLetterTargetArn: parsed.deadLetterTargetArn, maxReceiveCount: Number(parsed.maxReceiveCount) });
}

async function readRoles(clients: AwsClients, prefix: string, ours: (tags: Tags | undefined) => boolean): Promise<RoleResource[]> {
  const { iam, sdk } = clients;
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(new sdk.iam.ListRolesCommand({ Marker: marker }));
    for (const role of page.Roles ?? []) if (role.RoleName?.startsWith(prefix)) names.push(role.RoleName);
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);

  const roles = await Promise.all(
    names.map(async (name) => {
      const [role, policy] = await Promise.all([
        iam.send(new sdk.iam.GetRoleCommand({ RoleName: name })),
        iam.send(new sdk.iam.GetRolePolicyCommand({ RoleName: name, PolicyName: "twelve" })).then((p) => p.PolicyDocument, notFound(undefined)),
      ]);
      const tags = Object.fromEntries((role.Role?.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
      const trust = decodePolicy(role.Role?.AssumeRolePolicyDocument) as { Statement?: { Principal?: { Service?: string } }[] } | undefined;
      const resource: RoleResource = {
        kind: "role",
        name,
        service: trust?.Statement?.[0]?.Principal?.Service ?? "",
        policy: (decodePolicy(policy) ?? { Version: "2012-10-17", Statement: [] }) as PolicyDocument,
        tags,
      };
      return resource;
    }),
  );
  return roles.filter((r) => ours(r.tags));
}

/** IAM returns policy documents URL-encoded from some calls and as plain JSON from others. */
function decodePolicy(text: string | undefined): unknown {
  if (!text) return undefined;
  return JSON.parse(text.trimStart().startsWith("{") ? text : decodeURIComponent(text));
}

async function readSchedules(clients: AwsClients, group: string, ours: (tags: Tags | undefined) => boolean): Promise<AwsResource[]> {
  const { scheduler, sdk } = clients;
  const found = await scheduler.send(new sdk.scheduler.GetScheduleGroupCommand({ Name: group })).catch(notFound(undefined));
  if (!found?.Arn) return [];
  const tagList = await scheduler.send(new sdk.scheduler.ListTagsForResourceCommand({ ResourceArn: found.Arn }));
  const tags = Object.fromEntries((tagList.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
  if (!ours(tags)) return [];

  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await scheduler.send(new sdk.scheduler.ListSchedulesCommand({ GroupName: group, NextToken: token }));
    names.push(...(page.Schedules ?? []).map((s) => s.Name ?? ""));
    token = page.NextToken;
  } while (token);
  const schedules = await Promise.all(
    names.map(async (name): Promise<ScheduleResource> => {
      const s = await scheduler.send(new sdk.scheduler.GetScheduleCommand({ Name: name, GroupName: group }));
      return {
        kind: "schedule",
        name,
        group,
        expression: s.ScheduleExpression ?? "",
        timezone: s.ScheduleExpressionTimezone ?? "UTC",
        function: s.Target?.Arn ?? "",
        role: s.Target?.RoleArn ?? "",
        deadLetterQueue: s.Target?.DeadLetterConfig?.Arn ?? "",
        retryAttempts: s.Target?.RetryPolicy?.MaximumRetryAttempts ?? 185,
        input: s.Target?.Input ?? "",
      };
    }),
  );
  return [{ kind: "schedule-group", name: group, tags }, ...schedules];
}

/** For reads where "not found" is an answer, not an error. */
export function notFound<T>(value: T): (error: unknown) => T {
  return (error) => {
    const name = (error as Error).name;
    if (name === "ResourceNotFoundException" || name === "NoSuchEntityException" || name === "NoSuchEntity" || name === "QueueDoesNotExist") return value;
    throw error;
  };
}
