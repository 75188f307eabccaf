import type { ManifestProcess } from "../../../src/build/manifest.ts";
import { fieldRules, type Change } from "../../../src/deploy/plan.ts";
import { deadLetterQueueName } from "../../../src/formation/names.ts";
import type { ClockProcess } from "../../../src/formation/types.ts";
import { gone, mustBeOurs, notFound, tagList, takenUnlessOurs, type AwsContext, type DesiredInput, type Tags } from "./common.ts";
import { schedulerRoleName } from "./role.ts";

/** The app's stage's EventBridge Scheduler group, `<app>-<stage>`: it holds the clocks' schedules. */
export interface ScheduleGroupResource {
  kind: "schedule-group";
  name: string;
  tags: Tags;
}

/** A clock's schedule: its cron(...) in its time zone, invoking its function. */
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
  /** How long the Scheduler keeps trying to deliver a run (RetryPolicy.MaximumEventAgeInSeconds). */
  maximumEventAgeSeconds: number;
  input: string;
}

export const scheduleGroupRules = fieldRules<ScheduleGroupResource>({ maps: ["tags"] });
export const scheduleRules = fieldRules<ScheduleResource>({});

export const scheduleGroupName = (app: string, stage: string) => `${app}-${stage}`;
/**
 * The Scheduler's retries of an invocation Lambda refused (its Invoke API throttled or failing),
 * before the dead-letter queue. The Scheduler invokes asynchronously, so it only sees whether
 * Lambda took the event: a run that fails or is throttled after that is the function's event
 * invoke config's (resources/function.ts CLOCK_ASYNC_INVOKE). Both give up after 60 s (the
 * least each allows, the window twelve dev gives a late run): no run starts later than that.
 */
export const CLOCK_SCHEDULER_RETRY = { retryAttempts: 2, maximumEventAgeSeconds: 60 } as const;
/** What the Scheduler keeps when a target has no RetryPolicy: 185 retries over 24 hours. */
const SCHEDULER_DEFAULT_RETRY = { retryAttempts: 185, maximumEventAgeSeconds: 86_400 } as const;

export function scheduleGroup(input: DesiredInput): ScheduleGroupResource {
  return { kind: "schedule-group", name: scheduleGroupName(input.app, input.stage), tags: input.tags() };
}

export function clockSchedule(input: DesiredInput, process: ClockProcess, built: ManifestProcess): ScheduleResource {
  const name = input.name(process.name);
  return {
    kind: "schedule",
    name,
    group: scheduleGroupName(input.app, input.stage),
    expression: String(built.platform.scheduleExpression),
    timezone: process.timezone,
    function: input.arn.fn(name),
    role: input.arn.role(schedulerRoleName(name)),
    deadLetterQueue: input.arn.queue(deadLetterQueueName(input.app, input.stage, process.name)),
    ...CLOCK_SCHEDULER_RETRY,
    input: JSON.stringify({ twelve: "scheduled", scheduledTime: "<aws.scheduler.scheduled-time>" }),
  };
}

/** The stage's schedule group, when it is tagged as the app's, and the schedules in it. */
export async function readSchedules(ctx: AwsContext): Promise<(ScheduleGroupResource | ScheduleResource)[]> {
  const { scheduler, sdk } = ctx.clients;
  const group = scheduleGroupName(ctx.app, ctx.stage);
  const found = await scheduler.send(new sdk.scheduler.GetScheduleGroupCommand({ Name: group })).catch(notFound(undefined));
  if (!found?.Arn) return [];
  const tags = await groupTags(ctx, found.Arn);
  if (!ctx.ours(tags)) return [];

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
        retryAttempts: s.Target?.RetryPolicy?.MaximumRetryAttempts ?? SCHEDULER_DEFAULT_RETRY.retryAttempts,
        maximumEventAgeSeconds: s.Target?.RetryPolicy?.MaximumEventAgeInSeconds ?? SCHEDULER_DEFAULT_RETRY.maximumEventAgeSeconds,
        input: s.Target?.Input ?? "",
      };
    }),
  );
  return [{ kind: "schedule-group", name: group, tags }, ...schedules];
}

export async function applyScheduleGroup(ctx: AwsContext, change: Change<ScheduleGroupResource>): Promise<void> {
  const { scheduler, sdk } = ctx.clients;
  const group = change.resource;
  if (change.action === "delete") await scheduler.send(new sdk.scheduler.DeleteScheduleGroupCommand({ Name: group.name })).catch(gone());
  else if (change.action === "create") {
    // moto's CreateScheduleGroup replaces a group of that name (its schedules and tags) where
    // AWS answers ConflictException: whose it is is asked first.
    const tagsOf = async () => {
      const found = await scheduler.send(new sdk.scheduler.GetScheduleGroupCommand({ Name: group.name })).catch(notFound(undefined));
      return found?.Arn ? groupTags(ctx, found.Arn) : undefined;
    };
    const taken = await tagsOf();
    if (taken) mustBeOurs(ctx, "EventBridge Scheduler schedule group", group.name, taken);
    else await scheduler.send(new sdk.scheduler.CreateScheduleGroupCommand({ Name: group.name, Tags: tagList(group.tags) })).catch(takenUnlessOurs(ctx, "EventBridge Scheduler schedule group", group.name, tagsOf));
  } else await scheduler.send(new sdk.scheduler.TagResourceCommand({ ResourceArn: await groupArn(ctx, group.name), Tags: tagList(group.tags) }));
}

async function groupTags(ctx: AwsContext, arn: string): Promise<Tags> {
  const found = await ctx.clients.scheduler.send(new ctx.clients.sdk.scheduler.ListTagsForResourceCommand({ ResourceArn: arn }));
  return Object.fromEntries((found.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
}

async function groupArn(ctx: AwsContext, name: string): Promise<string> {
  const found = await ctx.clients.scheduler.send(new ctx.clients.sdk.scheduler.GetScheduleGroupCommand({ Name: name }));
  return found.Arn ?? name;
}

export async function applySchedule(ctx: AwsContext, change: Change<ScheduleResource>): Promise<void> {
  const { scheduler, sdk } = ctx.clients;
  const schedule = change.resource;
  if (change.action === "delete") {
    await scheduler.send(new sdk.scheduler.DeleteScheduleCommand({ Name: schedule.name, GroupName: schedule.group })).catch(gone());
    return;
  }
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
      RetryPolicy: { MaximumRetryAttempts: schedule.retryAttempts, MaximumEventAgeInSeconds: schedule.maximumEventAgeSeconds },
      DeadLetterConfig: { Arn: schedule.deadLetterQueue },
    },
  };
  if (change.action === "create") await scheduler.send(new sdk.scheduler.CreateScheduleCommand(input));
  else await scheduler.send(new sdk.scheduler.UpdateScheduleCommand(input));
}
