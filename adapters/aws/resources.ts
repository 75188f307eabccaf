import type { Manifest, ManifestProcess } from "../../src/build/manifest.ts";
import type { Step } from "../../src/deploy/apply.ts";
import { whyKept, type Change, type PlanOptions } from "../../src/deploy/plan.ts";
import { deadLetterQueueName } from "../../src/formation/names.ts";
import type { Formation } from "../../src/formation/types.ts";
import type { AwsClients } from "./client.ts";
import { awsContext, desiredInput, type AwsContext } from "./resources/common.ts";
import { applyFunction, functionNames, functionRules, processFunction, readFunctions, type FunctionResource } from "./resources/function.ts";
import { applyLogGroup, logGroupRules, processLogGroup, readLogGroups, type LogGroupResource } from "./resources/log-group.ts";
import { applyMapping, mappingRules, readMappings, workerMapping, type MappingResource } from "./resources/mapping.ts";
import { applyQueue, isDeadLetterQueue, processQueues, queueRules, readQueues, type QueueResource } from "./resources/queue.ts";
import { applyRole, functionRole, readRoles, roleRules, schedulerRole, type RoleResource } from "./resources/role.ts";
import { applySchedule, applyScheduleGroup, clockSchedule, readSchedules, scheduleGroup, scheduleGroupRules, scheduleRules, type ScheduleGroupResource, type ScheduleResource } from "./resources/schedule.ts";

/**
 * Everything twelve creates on AWS for one app and stage, one module per kind of resource
 * (resources/*.ts: what the formation asks for, reading it back, changing it, how it compares).
 * This file puts them together: the order of the desired resources, the order of the phases a
 * deploy applies them in, and one read of the whole stage.
 */
export type AwsResource = RoleResource | LogGroupResource | QueueResource | FunctionResource | MappingResource | ScheduleGroupResource | ScheduleResource;
export type { FunctionResource, LogGroupResource, MappingResource, QueueResource, RoleResource, ScheduleGroupResource, ScheduleResource };

export interface AwsTarget {
  account: string;
  region: string;
  stage: string;
  /** Secrets' values, read from the deploying environment. */
  secrets: Record<string, string>;
}

/** What the formation asks for: a pure function of the formation, its build and the account. */
export function desiredResources(formation: Formation, manifest: Manifest, buildDir: string, target: AwsTarget): AwsResource[] {
  const input = desiredInput(formation, manifest, buildDir, target);
  const resources: AwsResource[] = [];
  if (formation.processes.some((p) => p.type === "clock")) resources.push(scheduleGroup(input));
  for (const process of formation.processes) {
    const built = builtProcess(manifest, process.name);
    resources.push(functionRole(input, process, built), processLogGroup(input, process), ...processQueues(input, process), processFunction(input, process, built));
    if (process.type === "worker") resources.push(workerMapping(input, process));
    if (process.type === "clock") {
      resources.push(schedulerRole(input, process, deadLetterQueueName(formation.app, target.stage, process.name)), clockSchedule(input, process, built));
    }
  }
  return resources;
}

function builtProcess(manifest: Manifest, name: string): ManifestProcess {
  const built = manifest.processes.find((p) => p.name === name);
  if (!built) throw new Error(`the build has no process ${name}; run twelve build`);
  return built;
}

/**
 * What is deployed for an app and stage, read back from AWS in the same shape. No local state:
 * names (`<app>-<stage>-`) find the candidates and the twelve:app and twelve:stage tags (for
 * functions, the TWELVE_APP/TWELVE_STAGE variables) prove they are this app's. Reads run in parallel.
 */
export async function readDeployed(clients: AwsClients, app: string, stage: string): Promise<AwsResource[]> {
  const ctx = awsContext(clients, app, stage);
  const names = functionNames(ctx);
  const functions = async () => {
    const [fns, mappings] = await Promise.all([readFunctions(ctx, await names), readMappings(ctx, await names)]);
    return [...fns, ...mappings];
  };
  const [schedules, roles, logGroups, queues, fns] = await Promise.all([readSchedules(ctx), readRoles(ctx), readLogGroups(ctx, names), readQueues(ctx), functions()]);
  return [...schedules, ...roles, ...logGroups, ...queues, ...fns];
}

/** How each kind compares, and which deployed resources stay when they would go. */
export const awsPlanRules: Pick<PlanOptions<AwsResource>, "rules" | "keep"> = {
  rules: { role: roleRules, "log-group": logGroupRules, queue: queueRules, function: functionRules, mapping: mappingRules, "schedule-group": scheduleGroupRules, schedule: scheduleRules },
  // A queue still holding messages is kept until --force.
  keep: (deployed) => (deployed.kind === "queue" ? whyKept(deployed.messages) : undefined),
};

/**
 * The order of a deploy, as phases: roles, dead-letter queues and the schedule group; queues and
 * log groups (before the function, whose first log line would make one without a retention);
 * functions; mappings and schedules. Deletes run the other way round (a log group goes after
 * its function, which could otherwise make it again).
 */
export function awsStep(clients: AwsClients, app: string, stage: string): (change: Change<AwsResource>) => Step {
  const ctx: AwsContext = awsContext(clients, app, stage);
  return (change) => {
    switch (change.kind) {
      case "role":
        return { phase: 0, run: () => applyRole(ctx, change) };
      case "schedule-group":
        return { phase: 0, run: () => applyScheduleGroup(ctx, change) };
      case "log-group":
        return { phase: 1, run: () => applyLogGroup(ctx, change) };
      case "queue":
        return { phase: isDeadLetterQueue(change.resource) ? 0 : 1, run: () => applyQueue(ctx, change) };
      case "function":
        return { phase: 2, run: () => applyFunction(ctx, change) };
      case "mapping":
        return { phase: 3, run: () => applyMapping(ctx, change) };
      case "schedule":
        return { phase: 3, run: () => applySchedule(ctx, change) };
    }
  };
}
