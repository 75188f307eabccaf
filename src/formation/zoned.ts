// When a zoned crontab runs: portable (Intl only), used by the Cloudflare clock gate inside
// Workers and by twelve dev's clock.
//
// Daylight-saving rules (the ones EventBridge Scheduler applies, so a clock behaves alike
// everywhere):
// - A local time that does not exist (the spring-forward gap, e.g. 02:30 in Berlin on the
//   last Sunday of March) is skipped, not moved.
// - A local time that happens twice (autumn fall-back, e.g. 02:30 in Berlin on the last
//   Sunday of October) runs once, at its first occurrence (the earlier UTC instant).
import { matches } from "./crontab.ts";
import type { Crontab } from "./crontab.ts";
import { zonedParts } from "./timezone.ts";
import type { ZonedParts } from "./timezone.ts";

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** True when the schedule runs at this instant (floored to the minute) in its time zone. */
export function runsAt(tab: Crontab, timeZone: string, scheduledTime: number): boolean {
  const t = Math.floor(scheduledTime / MINUTE_MS) * MINUTE_MS;
  const local = zonedParts(t, timeZone);
  // Gap times never come out of zonedParts, so they can never match: skipped.
  if (!matches(tab, local)) return false;
  return !occurredEarlier(local, t, timeZone);
}

/**
 * True when this local wall-clock minute already happened at an earlier UTC
 * instant, i.e. we are in the second pass of a fall-back overlap. If the
 * offset a day ago was larger by d minutes, the clock was turned back by d
 * within the last day, and the same wall time's first pass was d earlier.
 */
function occurredEarlier(local: ZonedParts, t: number, timeZone: string): boolean {
  const offsetNow = offsetOf(local, t);
  const offsetBefore = offsetOf(zonedParts(t - DAY_MS, timeZone), t - DAY_MS);
  const turnedBack = offsetBefore - offsetNow;
  if (turnedBack <= 0) return false;
  const earlier = zonedParts(t - turnedBack * MINUTE_MS, timeZone);
  return sameWallClock(earlier, local);
}

function offsetOf(p: ZonedParts, t: number): number {
  return Math.round((Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - t) / MINUTE_MS);
}

function sameWallClock(a: ZonedParts, b: ZonedParts): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute;
}
