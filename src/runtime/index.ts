// What process code imports. It ships inside every function: nothing here may pull in
// build code or `node:` modules.
export { defineWorker, defineClock } from "./define.ts";
export { send, sendBatch, SendBatchError, type BatchFailure } from "./send.ts";
export type { SchemaInput, SchemaOutput, StandardSchemaV1 } from "./schema.ts";
export type {
  ClockModule,
  Env,
  ExecutionContext,
  Message,
  MessageBatch,
  RetryOptions,
  ScheduledController,
  BodyOf,
  SchemaWorkerModule,
  SendOptions,
  TwelveWorkers,
  WorkerBody,
  WorkerName,
  WebModule,
  WorkerModule,
} from "./types.ts";
