import { parseCrontab } from "../../../src/formation/crontab.ts";
import { requireHandler } from "../../../src/runtime/module.ts";
import type { ProcessMeta, ScheduledController } from "../../../src/runtime/types.ts";
import { shouldRun } from "./clock-gate.ts";
import { describeError } from "../../../src/runtime/failure.ts";
import { DEV_BROKER_BINDING, installQueueTransport } from "./send.ts";

/** The key under which a clock's failed run reports its error to twelve dev (runtime/worker.ts's failure report). */
export const CLOCK_RUN_ID = "twelve:clock-run";

/**
 * The cron a run fired by twelve dev names (its own clock, or `twelve run`): twelve dev already
 * keeps the schedule's time zone, so such a run is not gated again. Cloudflare never fires a
 * cron of this text; a run it fires is always gated, even when its UTC cron reads like the
 * schedule (`0 * * * *` in Europe/Berlin is deployed as `0 * * * *` UTC).
 */
export const MANUAL_RUN_CRON = "twelve:run";

/**
 * A clock on Workers. Cron Triggers are UTC-only, so a clock in another time zone is deployed
 * with UTC crons that cover every instant its local schedule can fall on (see ../schedule.ts),
 * and this wrapper runs the process only when the local time matches.
 */
export function scheduledWorker(mod: unknown, meta: ProcessMeta) {
  const clock = requireHandler(mod, "scheduled", meta) as unknown as {
    scheduled(controller: ScheduledController, env: Record<string, unknown>, ctx: unknown): unknown;
  };
  const bind = installQueueTransport(meta);
  const schedule = meta.schedule ?? "";
  const timeZone = meta.timezone ?? "UTC";
  const tab = parseCrontab(schedule);

  return {
    async scheduled(event: ScheduledController, env: Record<string, unknown>, ctx: unknown) {
      bind(env);
      // Cloudflare fires the UTC crons of ../schedule.ts, a superset of the schedule (even in UTC:
      // its cron dialect differs), so its runs pass the gate; twelve dev's runs are run as asked.
      if (event.cron !== MANUAL_RUN_CRON && !shouldRun(tab, timeZone, event.scheduledTime)) return;
      // The process sees its own crontab line, not the UTC translation.
      const controller: ScheduledController = {
        cron: schedule,
        scheduledTime: event.scheduledTime,
        noRetry: () => event.noRetry(),
      };
      try {
        await clock.scheduled(controller, env, ctx);
      } catch (error) {
        // Under twelve dev the run's error goes to twelve dev too, which reports the run with it.
        const devBroker = env[DEV_BROKER_BINDING] as { fetch(url: string, init: RequestInit): Promise<Response> } | undefined;
        await devBroker?.fetch("http://twelve-dev/failures", { method: "POST", body: JSON.stringify({ failures: { [CLOCK_RUN_ID]: { error: describeError(error), final: false } } }) }).catch(() => {});
        throw error;
      }
    },
  };
}
