import { matchesDay, parseCrontab, type Crontab } from "../formation/crontab.ts";
import { zonedParts, type ZonedParts } from "../formation/timezone.ts";
import { runsAt } from "../formation/zoned.ts";
import type { ClockRun } from "../adapter.ts";
import { systemClock, type Clock } from "./time.ts";
import { LATE_LIMIT_MS, skippedRun } from "../runtime/late.ts";

const MINUTE = 60_000;
const DAY = 86_400_000;
const MINUTES_A_DAY = 1440;
/**
 * How far nextRun looks. The longest wait of a schedule parseCrontab accepts is 29 February on
 * one weekday (`0 0 29 2 *\/7`, the day fields AND-ed): up to 40 years, as 2100 is no leap year.
 */
const HORIZON = 41 * 366 * DAY;
/**
 * A jump over dates the schedule skips stops this many minutes short of the next date it may
 * run on: more than two offsets of one zone ever differ (-12:00 to +14:00), so whatever the
 * offsets do on the way, the jump cannot land past a local time that runs.
 */
const JUMP_MARGIN = 2 * MINUTES_A_DAY;
/** setTimeout's longest delay; a timer for a later minute fires early and re-arms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A UTC minute seen in the zone: its local parts, and its wall-clock time as if that were UTC. */
interface Local {
  parts: ZonedParts;
  wall: number;
  /** Minutes the wall clock is ahead of UTC. */
  offset: number;
}

function localAt(t: number, timeZone: string): Local {
  const parts = zonedParts(t, timeZone);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute);
  return { parts, wall, offset: Math.round((wall - t) / MINUTE) };
}

/**
 * The next minute (ms since the epoch, on a minute boundary) after `after` at which the
 * schedule runs in its time zone (daylight-saving rules in formation/zoned.ts).
 *
 * It walks in steps to the next local time that could run, and asks runsAt only there: over
 * the dates the schedule skips in one long jump (to JUMP_MARGIN before the next date it allows),
 * then in short steps to the next midnight, or hour and minute the schedule lists. A short step
 * assumes the offset stays put; when it did not (daylight saving or a new standard offset, by
 * an hour or 30 or 45 minutes), the walk goes back to the minute it changed, so it never steps
 * over a local time that runs. Like zoned.ts, this expects at most one change a day.
 */
export function nextRun(tab: Crontab, timeZone: string, after: number): number | undefined {
  let t = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  const end = t + HORIZON;
  let here = localAt(t, timeZone);
  while (t < end) {
    let step: number;
    let longJump = false;
    const minuteOfDay = here.parts.hour * 60 + here.parts.minute;
    if (!matchesDay(tab, here.parts)) {
      const day = nextDateOfRun(tab, here.wall, end + JUMP_MARGIN * MINUTE);
      if (day === undefined) return undefined;
      const toDay = (day - here.wall) / MINUTE;
      longJump = toDay > JUMP_MARGIN;
      step = longJump ? toDay - JUMP_MARGIN : MINUTES_A_DAY - minuteOfDay;
    } else {
      step = minutesToNextTime(tab, minuteOfDay);
      if (step === 0) {
        if (runsAt(tab, timeZone, t)) return t;
        step = 1;
      }
    }
    let next = t + step * MINUTE;
    let there = localAt(next, timeZone);
    if (!longJump && there.offset !== here.offset) {
      next = firstMinuteOfNewOffset(t, next, here.offset, timeZone);
      there = localAt(next, timeZone);
    }
    t = next;
    here = there;
  }
  return undefined;
}

/** Minutes from this minute of a date the schedule runs on to its next hour and minute that day (0: this one), or to midnight. */
function minutesToNextTime(tab: Crontab, minuteOfDay: number): number {
  for (const hour of tab.hours) {
    if (hour * 60 + 59 < minuteOfDay) continue;
    for (const minute of tab.minutes) {
      const at = hour * 60 + minute;
      if (at >= minuteOfDay) return at - minuteOfDay;
    }
  }
  return MINUTES_A_DAY - minuteOfDay;
}

/** The wall-clock midnight (as if UTC) of the first date after `wall`'s that the schedule's days allow, up to `until`. */
function nextDateOfRun(tab: Crontab, wall: number, until: number): number | undefined {
  for (let day = Math.floor(wall / DAY) * DAY + DAY; day <= until; day += DAY) {
    const date = new Date(day);
    if (matchesDay(tab, { day: date.getUTCDate(), month: date.getUTCMonth() + 1, weekday: date.getUTCDay() })) return day;
  }
  return undefined;
}

/** The first minute in (from, to] whose offset is not `offset`, given that `to`'s is not: a binary search. */
function firstMinuteOfNewOffset(from: number, to: number, offset: number, timeZone: string): number {
  let before = from;
  let after = to;
  while (after - before > MINUTE) {
    const middle = before + Math.floor((after - before) / 2 / MINUTE) * MINUTE;
    if (localAt(middle, timeZone).offset === offset) before = middle;
    else after = middle;
  }
  return after;
}

/** How many missed runs are counted for the message after a long sleep. */
const MISSED_COUNT_LIMIT = 10_000;

export interface ClockEvents {
  /** A run came due (or was asked for) while another was going: not run. */
  skipped?(run: ClockRun, going: { scheduledTime: number; startedAt: number }): void;
  /** Runs that could not start within LATE_LIMIT_MS of their time (the machine slept): `count` of them, the first at `first`. */
  missed?(first: number, count: number, last: ClockRun): void;
  finished?(run: ClockRun): void;
}

/**
 * A clock of twelve dev: fires `run` at every scheduled minute until stopped, and runs it when
 * asked (`twelve run`), under the rule of every runtime: one run at a time, and a run starts
 * within LATE_LIMIT_MS of its time or not at all. So a scheduled run due while the previous run
 * is still going waits for it, and starts (late) if it ends within 60 s of the run's time, else
 * it is skipped and reported with its scheduled time; never queued further behind it (AWS does
 * this: Lambda tries a throttled run again until it is 60 s old). A run asked for now is
 * skipped at once while one is going (as a direct invoke of the busy function is refused).
 */
export function scheduleClock(schedule: string, timeZone: string, run: (scheduledTime: number) => Promise<void>, clock: Clock = systemClock, events: ClockEvents = {}) {
  const tab = parseCrontab(schedule);
  let timer: unknown;
  let stopped = false;
  let going: { scheduledTime: number; startedAt: number; done: Promise<ClockRun> } | undefined;
  let last: ClockRun | undefined;

  const finish = (result: ClockRun): ClockRun => {
    last = result;
    events.finished?.(result);
    return result;
  };

  const fire = (scheduledTime: number, waited = false): Promise<ClockRun> => {
    if (going) {
      const skipped = skippedRun(scheduledTime, going, clock.now(), waited);
      events.skipped?.(skipped, going);
      last = skipped;
      return Promise.resolve(skipped);
    }
    const startedAt = clock.now();
    // A failed run is reported, not thrown: the clock keeps going, and a rejection left here
    // would be unhandled, and would make stop() throw.
    const done = run(scheduledTime).then(
      () => finish({ scheduledTime, startedAt, outcome: "ok", durationMs: clock.now() - startedAt, detail: null }),
      (error: unknown) => finish({ scheduledTime, startedAt, outcome: "failed", durationMs: clock.now() - startedAt, detail: ((error as Error)?.message ?? String(error)).split("\n")[0] ?? "" }),
    ).finally(() => (going = undefined));
    going = { scheduledTime, startedAt, done };
    return done;
  };

  /** Scheduled runs waiting for the run going, each with the timer of its last chance. */
  const waiting = new Set<unknown>();
  /** A scheduled run: now, or once the run going ends if that is within LATE_LIMIT_MS of its time. */
  const fireWhenFree = (at: number) => {
    if (!going) return void fire(at);
    let done = false;
    const lastChance = clock.setTimeout(() => {
      waiting.delete(lastChance);
      if (done || stopped) return;
      done = true;
      void fire(at, true);
    }, Math.max(0, at + LATE_LIMIT_MS - clock.now()));
    waiting.add(lastChance);
    const whenFree = () => {
      if (done || stopped) return;
      // Another waiting run may have started first: wait for that one too.
      if (going) return void going.done.then(whenFree);
      done = true;
      waiting.delete(lastChance);
      clock.clearTimeout(lastChance);
      void fire(at);
    };
    void going.done.then(whenFree);
  };

  const arm = () => {
    if (stopped) return;
    const at = nextRun(tab, timeZone, clock.now());
    if (at === undefined) return;
    // Timers drift and sleep through suspends: aim at the minute, then re-check the clock.
    timer = clock.setTimeout(() => {
      const now = clock.now();
      if (now < at) return arm();
      if (now - at > LATE_LIMIT_MS) missed(at, now);
      else fireWhenFree(at);
      arm();
    }, Math.min(at - clock.now(), MAX_TIMER_MS));
  };

  const missed = (first: number, now: number) => {
    let count = 0;
    let lastMissed = first;
    for (let t: number | undefined = first; t !== undefined && t <= now && count < MISSED_COUNT_LIMIT; t = nextRun(tab, timeZone, t)) {
      count++;
      lastMissed = t;
    }
    const record: ClockRun = {
      scheduledTime: lastMissed,
      startedAt: null,
      outcome: "skipped",
      durationMs: null,
      detail: `missed: twelve dev could not start it within ${LATE_LIMIT_MS / 1000} s of its time (${Math.round((now - lastMissed) / 60_000)} min late: the machine was asleep?)`,
    };
    last = record;
    events.missed?.(first, count, record);
  };

  arm();
  return {
    next: () => nextRun(tab, timeZone, clock.now()),
    /** One run now, for `scheduledTime`, under the one-run-at-a-time rule (skipped at once while one is going). */
    fire: (scheduledTime: number) => fire(scheduledTime),
    /** The run going now, if any. */
    going: () => (going ? { scheduledTime: going.scheduledTime, startedAt: going.startedAt } : undefined),
    last: () => last,
    stop: async () => {
      stopped = true;
      clock.clearTimeout(timer);
      for (const lastChance of waiting) clock.clearTimeout(lastChance);
      waiting.clear();
      await going?.done;
    },
  };
}
