import { fieldRules, type Change } from "../../../src/deploy/plan.ts";
import { queueName } from "../../../src/formation/names.ts";
import type { WorkerProcess } from "../../../src/formation/types.ts";
import { SQS_ARN } from "../partition.ts";
import { gone, type AwsContext, type DesiredInput } from "./common.ts";

/** The event source mapping that feeds a worker's function from its queue. */
export interface MappingResource {
  kind: "mapping";
  /** The function it feeds; a function has at most one mapping in twelve. */
  name: string;
  queue: string;
  batchSize: number;
  maximumConcurrency: number;
  batchingWindowSeconds: number;
  reportBatchItemFailures: true;
  /** Read back: the id AWS needs to change or delete it. */
  uuid?: string;
}

export const mappingRules = fieldRules<MappingResource>({ ignore: ["uuid"] });

export function workerMapping(input: DesiredInput, process: WorkerProcess): MappingResource {
  return {
    kind: "mapping",
    name: input.name(process.name),
    queue: input.arn.queue(queueName(input.app, input.stage, process.name)),
    batchSize: process.batchSize,
    maximumConcurrency: process.concurrency,
    // SQS mappings take more than 10 messages a batch only with a batching window.
    batchingWindowSeconds: process.batchSize > 10 ? 1 : 0,
    reportBatchItemFailures: true,
  };
}

/** The SQS mappings of the stage's functions, found by function name (moto finds nothing by ARN). */
export async function readMappings(ctx: AwsContext, functionNames: string[]): Promise<MappingResource[]> {
  const { lambda, sdk } = ctx.clients;
  const found = await Promise.all(
    functionNames.map(async (name): Promise<MappingResource[]> => {
      const mappings = await lambda.send(new sdk.lambda.ListEventSourceMappingsCommand({ FunctionName: name }));
      const mapping = mappings.EventSourceMappings?.find((m) => SQS_ARN.test(m.EventSourceArn ?? ""));
      if (!mapping) return [];
      return [{
        kind: "mapping",
        name,
        uuid: mapping.UUID ?? "",
        queue: mapping.EventSourceArn ?? "",
        batchSize: mapping.BatchSize ?? 0,
        maximumConcurrency: mapping.ScalingConfig?.MaximumConcurrency ?? 0,
        batchingWindowSeconds: mapping.MaximumBatchingWindowInSeconds ?? 0,
        reportBatchItemFailures: (mapping.FunctionResponseTypes ?? []).includes("ReportBatchItemFailures") as true,
      }];
    }),
  );
  return found.flat();
}

export async function applyMapping(ctx: AwsContext, change: Change<MappingResource>): Promise<void> {
  const { lambda, sdk } = ctx.clients;
  const mapping = change.resource;
  if (change.action === "delete") {
    await lambda.send(new sdk.lambda.DeleteEventSourceMappingCommand({ UUID: mapping.uuid })).catch(gone());
    return;
  }
  const settings = {
    BatchSize: mapping.batchSize,
    MaximumBatchingWindowInSeconds: mapping.batchingWindowSeconds,
    ScalingConfig: { MaximumConcurrency: mapping.maximumConcurrency },
    FunctionResponseTypes: ["ReportBatchItemFailures" as const],
  };
  if (change.action === "update") await lambda.send(new sdk.lambda.UpdateEventSourceMappingCommand({ UUID: change.current.uuid, FunctionName: mapping.name, ...settings }));
  else await lambda.send(new sdk.lambda.CreateEventSourceMappingCommand({ FunctionName: mapping.name, EventSourceArn: mapping.queue, ...settings }));
}
