import type { ProcessMeta, ScheduledController } from "../../../src/runtime/types.ts";
import { requireHandler } from "../../../src/runtime/module.ts";
import { lambdaExecutionContext, processEnv } from "./context.ts";
import type { ClockEvent, LambdaContext } from "./events.ts";
import { installSqsTransport } from "./send.ts";

/**
 * The Lambda handler of a clock process, invoked by EventBridge Scheduler with the Input
 * twelve gives the schedule, or by `twelve run` with no scheduled time (meaning now).
 */
export function clockHandler(mod: unknown, meta: ProcessMeta) {
  const clock = requireHandler(mod, "scheduled", meta) as unknown as {
    scheduled(controller: ScheduledController, env: unknown, ctx: unknown): unknown;
  };
  const env = processEnv(meta);
  installSqsTransport(meta);

  return async function handler(event: ClockEvent | undefined, _context?: LambdaContext): Promise<{ ok: true; scheduledTime: string }> {
    const parsed = event?.scheduledTime ? Date.parse(event.scheduledTime) : Number.NaN;
    const scheduledTime = Number.isNaN(parsed) ? Date.now() : parsed;
    let retry = true;
    const controller: ScheduledController = {
      cron: meta.schedule ?? "",
      scheduledTime,
      noRetry: () => void (retry = false),
    };
    const { ctx, settle } = lambdaExecutionContext();
    try {
      await clock.scheduled(controller, env, ctx);
      await settle();
    } catch (error) {
      // The Scheduler retries a failed invocation by its retry policy, unless the code said not to.
      if (retry) throw error;
      console.error(`clock "${meta.process}" failed and asked for no retry:`, error);
    }
    return { ok: true, scheduledTime: new Date(scheduledTime).toISOString() };
  };
}
