import type { ProcessMeta, ScheduledController } from "../../../src/runtime/types.ts";
import { requireHandler } from "../../../src/runtime/module.ts";
import { lambdaExecutionContext, processEnv } from "./context.ts";
import type { ClockEvent, ClockRunLine, LambdaContext } from "./events.ts";
import { installSqsTransport } from "./send.ts";

/**
 * The Lambda handler of a clock process, invoked by EventBridge Scheduler with the Input
 * twelve gives the schedule, or by `twelve run` with no scheduled time (meaning now).
 *
 * One run at a time: the function's reserved concurrency is 1. A run due while the previous
 * one still goes is throttled by Lambda before this handler is reached, so it cannot log its
 * own skip: Lambda tries it again until it is 60 s old (the event invoke config,
 * resources/function.ts), so it starts at most 60 s late if the previous run ends by then, and
 * is otherwise dropped, its record (with the run's scheduledTime) sent to the clock's dead-letter queue, which
 * `twelve dlq CLOCK` lists as "skipped". Every run that does start ends with one CLOCK_RUN_LINE
 * in the log, which `twelve ps` reads as the clock's last run.
 */
export function clockHandler(mod: unknown, meta: ProcessMeta) {
  const clock = requireHandler(mod, "scheduled", meta) as unknown as {
    scheduled(controller: ScheduledController, env: unknown, ctx: unknown): unknown;
  };
  const env = processEnv(meta);
  installSqsTransport(meta);

  return async function handler(event: ClockEvent | undefined, _context?: LambdaContext): Promise<{ ok: true; scheduledTime: string }> {
    const startedAt = Date.now();
    const parsed = event?.scheduledTime ? Date.parse(event.scheduledTime) : Number.NaN;
    const scheduledTime = Number.isNaN(parsed) ? startedAt : parsed;
    let retry = true;
    const controller: ScheduledController = {
      cron: meta.schedule ?? "",
      scheduledTime,
      noRetry: () => void (retry = false),
    };
    const { ctx, settle } = lambdaExecutionContext();
    const ran = (outcome: "ok" | "failed", detail: string | null) => logRun({ twelve: "clock-run", process: meta.process, scheduledTime: new Date(scheduledTime).toISOString(), startedAt: new Date(startedAt).toISOString(), outcome, durationMs: Date.now() - startedAt, detail });
    try {
      await clock.scheduled(controller, env, ctx);
      await settle();
    } catch (error) {
      ran("failed", error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      // The Scheduler invokes asynchronously and sees only that Lambda took the event: a throw
      // fails the invocation, and Lambda (never retrying a clock's run: a retry would start a
      // minute or more late) sends its record with the error to the dead-letter queue. A run
      // whose code asked for no retry is not counted as a dead letter.
      if (retry) throw error;
      console.error(`clock "${meta.process}" failed and asked for no retry:`, error);
      return { ok: true, scheduledTime: new Date(scheduledTime).toISOString() };
    }
    ran("ok", null);
    return { ok: true, scheduledTime: new Date(scheduledTime).toISOString() };
  };
}

/** One JSON line, found again by its `"clock-run"` term (adapters/aws/stage.ts, lastRun). */
function logRun(line: ClockRunLine): void {
  console.log(JSON.stringify(line));
}
