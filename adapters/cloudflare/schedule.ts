// Build-time: Cloudflare Cron Triggers only know UTC. A clock in another
// zone is deployed as one UTC cron that fires at every UTC minute that could
// be a matching local time under any offset the zone uses; the Worker then
// runs the job only when shouldRun() (runtime/clock-gate.ts) agrees. The
// output must therefore always be paired with that gate: it is a superset.
//
// Cloudflare's cron dialect numbers day-of-week 1-7 with SUN=1 (it rejects 0
// and reads 7 as Saturday), so day-of-week is always written as names.
import { WEEKDAY_NAMES, renderField } from "../../src/formation/crontab.ts";
import type { Crontab } from "../../src/formation/crontab.ts";
import { offsetMinutes } from "../../src/formation/timezone.ts";

const DAY_MS = 86_400_000;
const HALF_DAY_MS = DAY_MS / 2;

export interface UtcCronOptions {
  /** Offsets are collected from 2 years before to 5 years after this instant (default: now); tests pin it. */
  now?: number;
}

export function utcCrons(tab: Crontab, timeZone: string, options: UtcCronOptions = {}): string[] {
  const offsets = zoneOffsets(timeZone, options.now ?? Date.now());
  if (offsets.length === 1 && offsets[0] === 0) return [utcExact(tab)];

  const utcMinutes = new Set<number>();
  const utcHours = new Set<number>();
  for (const h of tab.hours) {
    for (const m of tab.minutes) {
      for (const o of offsets) {
        const utc = (((h * 60 + m - o) % 1440) + 1440) % 1440;
        utcHours.add(Math.floor(utc / 60));
        utcMinutes.add(utc % 60);
      }
    }
  }
  // Day and month stay `*`: near midnight the local date (and month) is not
  // the UTC one, so any narrowing here could drop a real run.
  return [`${renderField([...utcMinutes], 0, 59, { step: "star" })} ${renderField([...utcHours], 0, 23, { step: "star" })} * * *`];
}

/**
 * Every UTC offset (minutes) the zone uses from 2 years before to 5 years
 * after `now`. Sampling twice a day catches every offset in force for at
 * least 12 hours, which is every real DST or standard offset.
 */
export function zoneOffsets(timeZone: string, now: number): number[] {
  // ~5000 Intl calls per zone; a build renders several clocks per zone.
  const key = `${timeZone}@${Math.floor(now / DAY_MS)}`;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return [...cached];
  const seen = new Set<number>();
  const start = now - 2 * 366 * DAY_MS;
  const end = now + 5 * 366 * DAY_MS;
  let prev: number | undefined;
  for (let t = start; t <= end; t += HALF_DAY_MS) {
    const o = offsetMinutes(t, timeZone);
    seen.add(o);
    // Around a transition also look at the hour on either side, in case a
    // short-lived offset sits between the two samples.
    if (prev !== undefined && prev !== o) {
      for (let u = t - HALF_DAY_MS; u < t; u += 3_600_000) seen.add(offsetMinutes(u, timeZone));
    }
    prev = o;
  }
  const offsets = [...seen].sort((a, b) => a - b);
  offsetCache.set(key, offsets);
  return [...offsets];
}

const offsetCache = new Map<string, number[]>();

// UTC zone: the crontab can be used nearly as is, but re-rendered from the
// parsed sets so macros are expanded and day-of-week uses names.
function utcExact(tab: Crontab): string {
  const minutes = renderField(tab.minutes, 0, 59, { step: "star" });
  const hours = renderField(tab.hours, 0, 23, { step: "star" });
  const months = renderField(tab.months, 1, 12, { step: "star" });
  const allDom = tab.daysOfMonth.length === 31;
  const allDow = tab.daysOfWeek.length === 7;
  const dom = renderField(tab.daysOfMonth, 1, 31, { step: "star" });
  const dow = renderField(tab.daysOfWeek, 0, 6, { step: false, names: WEEKDAY_NAMES });
  let days: [string, string];
  if (tab.domRestricted && tab.dowRestricted) {
    // Cron OR: Cloudflare also OR-s two non-`*` day fields; a full set on
    // either side already means every day.
    days = allDom || allDow ? ["*", "*"] : [dom, dow];
  } else if (!allDom && !allDow) {
    // Vixie AND via a `*/n` field ("* * */2 * MON"): Cloudflare would OR two
    // narrowed fields; day-of-month alone is a tighter superset of the AND,
    // and the gate checks the weekday.
    days = [dom, "*"];
  } else {
    days = [allDom ? "*" : dom, allDow ? "*" : dow];
  }
  return `${minutes} ${hours} ${days[0]} ${months} ${days[1]}`;
}
