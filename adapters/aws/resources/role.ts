import type { ManifestProcess } from "../../../src/build/manifest.ts";
import { fieldRules, type Change } from "../../../src/deploy/plan.ts";
import type { Process } from "../../../src/formation/types.ts";
import { deadLetterQueueName, queueName } from "../../../src/formation/names.ts";
import { usageError } from "../../../src/errors.ts";
import { SCHEDULER_ROLE_SUFFIX } from "../names.ts";
import { gone, notFound, tagList, takenUnlessOurs, type AwsContext, type DesiredInput, type Tags } from "./common.ts";

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

/** The name of a clock's role for EventBridge Scheduler (reserved: adapters/aws/names.ts). */
export const schedulerRoleName = (functionName: string) => `${functionName}${SCHEDULER_ROLE_SUFFIX}`;

/** IAM's limit on the size of all of one role's inline policies, in characters (whitespace not counted). */
export const INLINE_POLICY_LIMIT = 10_240;

/** Who may assume a role twelve makes: the one service it is for. */
export function trustPolicy(service: string) {
  return { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] } as const;
}

/** Least privilege: its own logs; a worker its own queue; a worker and a clock their dead-letter queue; send() only to the queues its code names. */
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
    // A message that fails for good is moved to the dead-letter queue by the worker, with its error.
    statements.push({ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [arn.queue(deadLetterQueueName(app, stage, process.name))] });
  }
  if (process.type === "clock") {
    // Lambda sends the record of a dropped or failed run (the OnFailure destination of its
    // event invoke config) to the clock's dead-letter queue as the function's role.
    statements.push({ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [arn.queue(deadLetterQueueName(app, stage, process.name))] });
  }
  if (built.sends.length) {
    statements.push({ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: built.sends.map((w) => arn.queue(queueName(app, stage, w))) });
  }
  const policy: PolicyDocument = { Version: "2012-10-17", Statement: statements };
  // One ARN per worker it sends to: enough of them and IAM refuses the policy, half-way through a deploy.
  const size = JSON.stringify(policy).length;
  if (size > INLINE_POLICY_LIMIT) {
    throw usageError(
      `processes.${process.name}: its IAM role's inline policy would be ${size} characters, over IAM's limit of ${INLINE_POLICY_LIMIT} for a role (it may send() to ${built.sends.length} workers)`,
      "send() to fewer workers from this process (split it in two, or let one worker fan the messages out), or shorten the app, stage or worker names.",
    );
  }
  return { kind: "role", name, service: "lambda.amazonaws.com", policy, tags: input.tags(process.name) };
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
      const tags = tagsOf(role.Role?.Tags);
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

const tagsOf = (list: { Key?: string; Value?: string }[] | undefined): Tags => Object.fromEntries((list ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));

export async function roleTags(ctx: AwsContext, name: string): Promise<Tags | undefined> {
  const { iam, sdk } = ctx.clients;
  const role = await iam.send(new sdk.iam.GetRoleCommand({ RoleName: name })).catch(notFound(undefined));
  return role && tagsOf(role.Role?.Tags);
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
  const trust = JSON.stringify(trustPolicy(role.service));
  const fields = change.action === "update" ? new Set(change.fields.map((f) => f.field.split(".")[0])) : undefined;
  if (!fields) {
    // A taken name that is not this stage's own stops here, before its policy is written.
    await iam.send(new sdk.iam.CreateRoleCommand({ RoleName: role.name, AssumeRolePolicyDocument: trust, Tags: tagList(role.tags) })).catch(takenUnlessOurs(ctx, "IAM role", role.name, () => roleTags(ctx, role.name)));
  } else {
    if (fields.has("service")) await iam.send(new sdk.iam.UpdateAssumeRolePolicyCommand({ RoleName: role.name, PolicyDocument: trust }));
    if (fields.has("tags")) await iam.send(new sdk.iam.TagRoleCommand({ RoleName: role.name, Tags: tagList(role.tags) }));
  }
  if (!fields || fields.has("policy")) {
    await iam.send(new sdk.iam.PutRolePolicyCommand({ RoleName: role.name, PolicyName: "twelve", PolicyDocument: JSON.stringify(role.policy) }));
  }
}
