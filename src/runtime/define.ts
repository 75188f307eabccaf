import type { ClockModule, Env, ExecutionContext, Message, ScheduledController, WorkerModule } from "./types.ts";

/**
 * A worker that handles one message at a time: a throw retries that message only, and every
 * message that returns is acknowledged. Messages of a batch run in order.
 */
export function defineWorker<Body = unknown, E = Env>(
  handle: (body: Body, message: Message<Body>, env: E, ctx: ExecutionContext) => unknown,
): WorkerModule<Body, E> {
  return {
    async queue(batch, env, ctx) {
      for (const message of batch.messages) {
        try {
          await handle(message.body, message, env, ctx);
          message.ack();
        } catch (error) {
          console.error(`message ${message.id} failed (attempt ${message.attempts}), will retry:`, error);
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
