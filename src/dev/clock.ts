import { parseCrontab, type Crontab } from "../formation/crontab.ts";
import { runsAt } from "../formation/zoned.ts";

const MINUTE = 60_000;

/**
 * The next minute (ms since the epoch, on a minute boundary) after `after` at which the
 * schedule runs in its time zone (daylight-saving rules in formation/zoned.ts).
 */
export function nextRun(tab: Crontab, timeZone: string, after: number): number | undefined {
  let t = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  // Four years of minutes covers every valid crontab (29 February included).
  for (let i = 0; i < 4 * 366 * 1440; i++, t += MINUTE) if (runsAt(tab, timeZone, t)) return t;
  return undefined;
}

/** Fires `run` at every scheduled minute until stopped; one run at a time, like a Lambda clock. */
export function scheduleClock(schedule: string, timeZone: string, run: (scheduledTime: number) => Promise<void>, now: () => number = Date.now) {
  const tab = parseCrontab(schedule);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;

  const arm = () => {
    if (stopped) return;
    const at = nextRun(tab, timeZone, now());
    if (at === undefined) return;
    // Timers drift and sleep through suspends: aim at the minute, then re-check the clock.
    timer = setTimeout(() => {
      if (now() < at) return arm();
      if (!running) running = run(at).finally(() => (running = undefined));
      arm();
    }, Math.min(at - now(), 2 ** 31 - 1));
  };
  arm();
  return {
    next: () => nextRun(tab, timeZone, now()),
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
