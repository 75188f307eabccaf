import { fieldRules, type Change } from "../../../src/deploy/plan.ts";
import type { Process } from "../../../src/formation/types.ts";
import { functionOwner, gone, mustBeOurs, type AwsContext, type DesiredInput, type Tags } from "./common.ts";
import { functionVariables } from "./function.ts";

/**
 * A function's CloudWatch log group, /aws/lambda/<function>. Lambda makes one on a function's
 * first log line, with no retention (logs kept, and billed, forever) and no tags, and leaves it
 * when the function is deleted; twelve makes it first, with a retention, and deletes it with the
 * function.
 */
export interface LogGroupResource {
  kind: "log-group";
  name: string;
  /** Days CloudWatch keeps the events; null: forever (a group Lambda made). */
  retentionDays: number | null;
  tags: Tags;
  /** Read back: its ARN (without the `:*`), which tagging needs. */
  arn?: string;
}

export const logGroupRules = fieldRules<LogGroupResource>({ ignore: ["arn"], maps: ["tags"] });

export const logGroupName = (functionName: string) => `/aws/lambda/${functionName}`;

export function processLogGroup(input: DesiredInput, process: Process): LogGroupResource {
  return { kind: "log-group", name: logGroupName(input.name(process.name)), retentionDays: input.formation.aws.logRetentionDays, tags: input.tags(process.name) };
}

/**
 * The stage's log groups: those under /aws/lambda/<app>-<stage>- tagged as its own, and those
 * of its functions that Lambda made itself (untagged): the next deploy adopts them (retention,
 * tags), and destroy removes them with the rest.
 */
export async function readLogGroups(ctx: AwsContext, functionNames: Promise<string[]>): Promise<LogGroupResource[]> {
  const { logs, sdk } = ctx.clients;
  const groups: { name: string; arn: string; retentionDays: number | null }[] = [];
  let token: string | undefined;
  do {
    const page = await logs.send(new sdk.logs.DescribeLogGroupsCommand({ logGroupNamePrefix: logGroupName(ctx.prefix), nextToken: token }));
    for (const g of page.logGroups ?? []) {
      groups.push({ name: g.logGroupName ?? "", arn: g.logGroupArn ?? (g.arn ?? "").replace(/:\*$/, ""), retentionDays: g.retentionInDays ?? null });
    }
    token = page.nextToken;
  } while (token);
  const [functions, tagged] = await Promise.all([
    functionNames,
    Promise.all(groups.map(async (g) => ({ ...g, tags: (await logs.send(new sdk.logs.ListTagsForResourceCommand({ resourceArn: g.arn }))).tags ?? {} }))),
  ]);
  const ofOurFunctions = new Set(functions.map(logGroupName));
  return tagged
    .filter((g) => ctx.ours(g.tags) || (!g.tags["twelve:app"] && ofOurFunctions.has(g.name)))
    .map((g): LogGroupResource => ({ kind: "log-group", name: g.name, retentionDays: g.retentionDays, tags: g.tags, arn: g.arn }));
}

export async function applyLogGroup(ctx: AwsContext, change: Change<LogGroupResource>): Promise<void> {
  const { logs, sdk } = ctx.clients;
  const group = change.resource;
  if (change.action === "delete") {
    await logs.send(new sdk.logs.DeleteLogGroupCommand({ logGroupName: group.name })).catch(gone());
    return;
  }
  let fields = change.action === "update" ? new Set(change.fields.map((f) => f.field.split(".")[0])) : new Set(["retentionDays"]);
  let arn = change.action === "update" ? change.current.arn : undefined;
  if (change.action === "create") {
    const created = await logs.send(new sdk.logs.CreateLogGroupCommand({ logGroupName: group.name, tags: group.tags })).then(
      () => true,
      (error: Error) => {
        // Lambda made it on the function's first log line (or an earlier deploy died after
        // making it): adopt it, with this deploy's tags.
        if (error.name === "ResourceAlreadyExistsException") return false;
        throw error;
      },
    );
    if (!created) {
      arn = await logGroupArn(ctx, group.name);
      await mayAdopt(ctx, group.name, arn);
      fields = new Set(["retentionDays", "tags"]);
    }
  }
  // Only a group read back lacks a retention; the formation always asks for one.
  if (fields.has("retentionDays") && group.retentionDays !== null) {
    await logs.send(new sdk.logs.PutRetentionPolicyCommand({ logGroupName: group.name, retentionInDays: group.retentionDays }));
  }
  if (fields.has("tags")) await logs.send(new sdk.logs.TagResourceCommand({ resourceArn: arn ?? (await logGroupArn(ctx, group.name)), tags: group.tags }));
}

/**
 * A log group found where this stage wants one is adopted only when it is this stage's, or
 * untagged (Lambda's own) and not of another stage's function of that name: otherwise it is
 * refused, before its retention or tags change.
 */
async function mayAdopt(ctx: AwsContext, name: string, arn: string): Promise<void> {
  const { logs, sdk } = ctx.clients;
  const tags = (await logs.send(new sdk.logs.ListTagsForResourceCommand({ resourceArn: arn }))).tags ?? {};
  if (tags["twelve:app"] || tags["twelve:stage"]) return mustBeOurs(ctx, "CloudWatch log group", name, tags);
  const variables = await functionVariables(ctx, name.slice(logGroupName("").length));
  if (variables) mustBeOurs(ctx, "CloudWatch log group", `${name} (of the Lambda function of that name)`, functionOwner(variables));
}

async function logGroupArn(ctx: AwsContext, name: string): Promise<string> {
  const page = await ctx.clients.logs.send(new ctx.clients.sdk.logs.DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
  const group = page.logGroups?.find((g) => g.logGroupName === name);
  const arn = group?.logGroupArn ?? group?.arn?.replace(/:\*$/, "");
  if (!arn) throw new Error(`log group ${name} is gone while being adopted; run deploy again`);
  return arn;
}
