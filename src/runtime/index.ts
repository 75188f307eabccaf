// What process code imports. It ships inside every function: nothing here may pull in
// build code or `node:` modules.
export { defineWorker, defineClock } from "./define.ts";
export { send } from "./send.ts";
export type {
  ClockModule,
  Env,
  ExecutionContext,
  Message,
  MessageBatch,
  RetryOptions,
  ScheduledController,
  SendOptions,
  WebModule,
  WorkerModule,
} from "./types.ts";
