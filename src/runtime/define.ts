import { noteFailure } from "./failure.ts";
import { isStandardSchema, validate, type SchemaInput, type SchemaOutput, type StandardSchemaV1 } from "./schema.ts";
import type { ClockModule, Env, ExecutionContext, Message, ScheduledController, SchemaWorkerModule, WorkerModule } from "./types.ts";

type Handler<Body, Sent, E> = (body: Body, message: Message<Sent>, env: E, ctx: ExecutionContext) => unknown;

/**
 * A worker that handles one message at a time: a throw retries that message only, and every
 * message that returns is acknowledged. Messages of a batch run in order.
 *
 * With `{ schema }` (any Standard Schema: zod, valibot, arktype...), each body is validated
 * first and the handler gets the schema's output. A body the schema refuses is dead at once,
 * with the schema's issues as its reason: retrying would refuse it again.
 */
export function defineWorker<Body = unknown, E = Env>(handle: Handler<Body, Body, E>): WorkerModule<Body, E>;
export function defineWorker<S extends StandardSchemaV1, E = Env>(
  options: { schema: S },
  handle: Handler<SchemaOutput<S>, SchemaInput<S>, E>,
): SchemaWorkerModule<S, E>;
export function defineWorker(
  first: Handler<unknown, unknown, Env> | { schema: StandardSchemaV1 },
  second?: Handler<unknown, unknown, Env>,
): WorkerModule<unknown, Env> & { schema?: StandardSchemaV1 } {
  const handle = typeof first === "function" ? first : second;
  const schema = typeof first === "function" ? undefined : first?.schema;
  if (typeof handle !== "function") throw new TypeError("defineWorker({ schema }, handler): the handler is missing; pass the function that handles one body");
  if (typeof first !== "function" && !isStandardSchema(schema)) {
    throw new TypeError("defineWorker({ schema }): schema is not a Standard Schema (it has no \"~standard\".validate); pass a zod, valibot or arktype schema, or one that implements https://standardschema.dev");
  }
  return {
    ...(schema ? { schema } : {}),
    async queue(batch, env, ctx) {
      for (const message of batch.messages) {
        try {
          let body: unknown = message.body;
          if (schema) {
            // A schema that throws (a refinement's bug) is an error like the handler's: retried.
            const checked = await validate(schema, message.body);
            if ("issues" in checked) {
              const reason = `the body does not match the worker's schema: ${checked.issues}`;
              console.error(`message ${message.id} refused, not retried: ${reason}`);
              noteFailure(message, reason, true);
              message.retry();
              continue;
            }
            body = checked.value;
          }
          await handle(body, message, env, ctx);
          message.ack();
        } catch (error) {
          console.error(`message ${message.id} failed (attempt ${message.attempts}), will retry:`, error);
          noteFailure(message, error);
          message.retry();
        }
      }
    },
  };
}

/** A clock: the function runs each time the schedule fires. */
export function defineClock<E = Env>(
  run: (controller: ScheduledController, env: E, ctx: ExecutionContext) => unknown,
): ClockModule<E> {
  return {
    async scheduled(controller, env, ctx) {
      await run(controller, env, ctx);
    },
  };
}
