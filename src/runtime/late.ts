import type { ClockRun } from "../adapter.ts";

/**
 * How late a clock's run may start and still run, the same rule under twelve dev and on each
 * platform: one due while the previous run is going waits for it this long past its time, and
 * one that could not start by then (a laptop asleep through 03:00) is skipped. Lambda drops an
 * asynchronous invoke older than the clock's MaximumEventAgeInSeconds (60 s, its minimum, which
 * twelve sets), and Cloudflare never replays a Cron Trigger it could not fire.
 */
export const LATE_LIMIT_MS = 60_000;

/**
 * The run due at `scheduledTime`, not run because `going` still was; `waited`: after waiting
 * LATE_LIMIT_MS past its time.
 */
export function skippedRun(scheduledTime: number, going: { scheduledTime: number; startedAt: number }, now: number, waited = false): ClockRun {
  return {
    scheduledTime,
    startedAt: null,
    outcome: "skipped",
    durationMs: null,
    detail: `the run for ${new Date(going.scheduledTime).toISOString()} (started ${Math.round((now - going.startedAt) / 1000)} s ago) was still going${waited ? ` ${LATE_LIMIT_MS / 1000} s after this one's time` : ""}; one run at a time`,
  };
}
