import type { ManifestProcess } from "../../../src/build/manifest.ts";
import { fieldRules, type Change } from "../../../src/deploy/plan.ts";
import type { Process } from "../../../src/formation/types.ts";
import { queueName } from "../../../src/formation/names.ts";
import { exists, gone, notFound, tagList, type AwsContext, type DesiredInput, type Tags } from "./common.ts";

/** An IAM role with the one inline policy twelve writes ("twelve"). */
export interface RoleResource {
  kind: "role";
  name: string;
  /** The service that assumes it: lambda.amazonaws.com or scheduler.amazonaws.com. */
  service: string;
  policy: PolicyDocument;
  tags: Tags;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: { Effect: "Allow"; Action: string[]; Resource: string[] }[];
}

export const roleRules = fieldRules<RoleResource>({ maps: ["tags"], summaries: { policy: "policy" } });

/** The name of a clock's role for EventBridge Scheduler. */
export const schedulerRoleName = (functionName: string) => `${functionName}-sched`;

/** Least privilege: its own logs; a worker its own queue; send() only to the queues its code names. */
export function functionRole(input: DesiredInput, process: Process, built: ManifestProcess): RoleResource {
  const { arn, app, stage } = input;
  const name = input.name(process.name);
  const statements: PolicyDocument["Statement"] = [
    { Effect: "Allow", Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], Resource: [arn.logs(name)] },
  ];
  if (process.type === "worker") {
    statements.push({
      Effect: "Allow",
      Action: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
      Resource: [arn.queue(queueName(app, stage, process.name))],
    });
  }
  if (built.sends.length) {
    statements.push({ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: built.sends.map((w) => arn.queue(queueName(app, stage, w))) });
  }
  return { kind: "role", name, service: "lambda.amazonaws.com", policy: { Version: "2012-10-17", Statement: statements }, tags: input.tags(process.name) };
}

/** A clock's Scheduler role: it may invoke only that function, and write to its dead-letter queue. */
export function schedulerRole(input: DesiredInput, process: Process, deadLetterQueue: string): RoleResource {
  const name = input.name(process.name);
  return {
    kind: "role",
    name: schedulerRoleName(name),
    service: "scheduler.amazonaws.com",
    policy: {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [input.arn.fn(name)] },
        { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [input.arn.queue(deadLetterQueue)] },
      ],
    },
    tags: input.tags(process.name),
  };
}

/** The roles named `<app>-<stage>-*` and tagged as the app's. */
export async function readRoles(ctx: AwsContext): Promise<RoleResource[]> {
  const { iam, sdk } = ctx.clients;
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(new sdk.iam.ListRolesCommand({ Marker: marker }));
    for (const role of page.Roles ?? []) if (role.RoleName?.startsWith(ctx.prefix)) names.push(role.RoleName);
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);

  const roles = await Promise.all(
    names.map(async (name): Promise<RoleResource> => {
      const [role, policy] = await Promise.all([
        iam.send(new sdk.iam.GetRoleCommand({ RoleName: name })),
        iam.send(new sdk.iam.GetRolePolicyCommand({ RoleName: name, PolicyName: "twelve" })).then((p) => p.PolicyDocument, notFound(undefined)),
      ]);
      const tags = Object.fromEntries((role.Role?.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
      const trust = decodePolicy(role.Role?.AssumeRolePolicyDocument) as { Statement?: { Principal?: { Service?: string } }[] } | undefined;
      return {
        kind: "role",
        name,
        service: trust?.Statement?.[0]?.Principal?.Service ?? "",
        policy: (decodePolicy(policy) ?? { Version: "2012-10-17", Statement: [] }) as PolicyDocument,
        tags,
      };
    }),
  );
  return roles.filter((r) => ctx.ours(r.tags));
}

/** IAM returns policy documents URL-encoded from some calls and as plain JSON from others. */
function decodePolicy(text: string | undefined): unknown {
  if (!text) return undefined;
  return JSON.parse(text.trimStart().startsWith("{") ? text : decodeURIComponent(text));
}

export async function applyRole(ctx: AwsContext, change: Change<RoleResource>): Promise<void> {
  const { iam, sdk } = ctx.clients;
  const role = change.resource;
  if (change.action === "delete") {
    await iam.send(new sdk.iam.DeleteRolePolicyCommand({ RoleName: role.name, PolicyName: "twelve" })).catch(gone());
    await iam.send(new sdk.iam.DeleteRoleCommand({ RoleName: role.name })).catch(gone());
    return;
  }
  const trust = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: role.service }, Action: "sts:AssumeRole" }],
  });
  const fields = change.action === "update" ? new Set(change.fields.map((f) => f.field.split(".")[0])) : undefined;
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
