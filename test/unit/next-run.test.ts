import { afterEach, describe, expect, it, vi } from "vitest";
import { nextRun } from "../../src/dev/clock.ts";
import { matchesDay, parseCrontab, type Crontab } from "../../src/formation/crontab.ts";
import { offsetMinutes } from "../../src/formation/timezone.ts";
import { runsAt } from "../../src/formation/zoned.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** nextRun's horizon (src/dev/clock.ts), so both give up at the same minute. */
const HORIZON = 41 * 366 * DAY;

const dayAllowed = (tab: Crontab, utcMidnight: number): boolean => {
  const date = new Date(utcMidnight);
  return matchesDay(tab, { day: date.getUTCDate(), month: date.getUTCMonth() + 1, weekday: date.getUTCDay() });
};

/**
 * nextRun as it was: runsAt asked of every minute, in order. Two shortcuts keep these tests
 * quick, and skip only minutes runsAt would have said no to:
 * - a UTC day none of whose minutes can have a local date the schedule allows (offsets are
 *   within a day of UTC, so a local date is the UTC date or one next to it);
 * - a minute whose local minute of the hour cannot be one the schedule lists: every offset in
 *   use (since 1980 at least) is a multiple of 15 minutes, so the local minute of the hour is
 *   the UTC one give or take a multiple of 15.
 */
function minuteByMinute(tab: Crontab, timeZone: string, after: number): number | undefined {
  const first = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  const end = first + HORIZON;
  const listedModulo15 = new Set(tab.minutes.map((m) => m % 15));
  for (let t = first; t < end; t += MINUTE) {
    const utcDay = Math.floor(t / DAY) * DAY;
    if (![utcDay - DAY, utcDay, utcDay + DAY].some((day) => dayAllowed(tab, day))) {
      t = utcDay + DAY - MINUTE;
      continue;
    }
    if (!listedModulo15.has(new Date(t).getUTCMinutes() % 15)) continue;
    if (runsAt(tab, timeZone, t)) return t;
  }
  return undefined;
}

/** The old implementation word for word, four-year horizon included: only fast when the answer is near. */
function literalOld(tab: Crontab, timeZone: string, after: number): number | undefined {
  let t = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  for (let i = 0; i < 4 * 366 * 1440; i++, t += MINUTE) if (runsAt(tab, timeZone, t)) return t;
  return undefined;
}

/** The first minute of each new offset in [from, to]: where a zone's daylight saving starts and ends. */
function offsetChanges(zone: string, from: number, to: number): number[] {
  const changes: number[] = [];
  let before = offsetMinutes(from, zone);
  for (let t = from + 6 * HOUR; t <= to; t += 6 * HOUR) {
    const offset = offsetMinutes(t, zone);
    if (offset === before) continue;
    let lo = t - 6 * HOUR;
    let hi = t;
    while (hi - lo > MINUTE) {
      const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
      if (offsetMinutes(mid, zone) === before) lo = mid;
      else hi = mid;
    }
    changes.push(hi);
    before = offset;
  }
  return changes;
}

const iso = (t: number | undefined) => (t === undefined ? "never" : new Date(t).toISOString());
const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham"];

/** Schedules that run daily or weekly, or more often: compared around every daylight-saving change of 2026, two runs in a row. */
const OFTEN = [
  "*/7 */5 * * *",
  "30 2 * * *",
  "0 2 * * *",
  "45 2 * * *",
  "15,45 1-3 * * *",
  "* * * * *",
  "0 * * * *",
  "59 23 * * *",
  "0 9 * * MON-FRI",
  "30 2 15 * SUN",
  "*/20 1,2 * * sun",
  "0 0 * * MON",
];
/** Schedules that run rarely: compared from a few starts, near the dates they run on. */
const RARELY = ["@yearly", "0 0 29 2 *", "0 0 29 2 */2", "0 0 31 * *", "@monthly", "0 12 * FEB SAT"];
const RARE_STARTS = [Date.UTC(2025, 11, 31, 10, 0), Date.UTC(2026, 5, 30, 12, 0), Date.UTC(2027, 11, 31, 13, 30), Date.UTC(2028, 1, 28, 9, 0), Date.UTC(2028, 1, 29, 11, 15)];

/** Starts a little before, at and after each of the zone's offset changes in 2026, and two ordinary ones. */
function startsAround(zone: string): number[] {
  const changes = offsetChanges(zone, Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1));
  const plain = [Date.UTC(2026, 0, 14, 17, 3, 20), Date.UTC(2026, 6, 1, 23, 59)];
  return [...plain, ...changes.flatMap((c) => [-61 * MINUTE, -MINUTE, 0, 29 * MINUTE, 61 * MINUTE].map((d) => c + d))];
}

describe("nextRun", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("finds the zones' daylight-saving changes the comparisons start around", () => {
    expect(offsetChanges("Europe/Berlin", Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1)).map(iso)).toEqual(["2026-03-29T01:00:00.000Z", "2026-10-25T01:00:00.000Z"]);
    expect(offsetChanges("Australia/Lord_Howe", Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1))).toHaveLength(2);
    expect(offsetChanges("Pacific/Chatham", Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1))).toHaveLength(2);
    expect(offsetChanges("Asia/Kathmandu", Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1))).toEqual([]);
  });

  it("agrees with the minute-by-minute search around daylight-saving changes, run after run", () => {
    for (const zone of ZONES) {
      const starts = startsAround(zone);
      for (const schedule of OFTEN) {
        const tab = parseCrontab(schedule);
        for (const start of starts) {
          let after = start;
          for (let run = 0; run < 2; run++) {
            const expected = minuteByMinute(tab, zone, after);
            expect(iso(nextRun(tab, zone, after)), `${schedule} in ${zone} after ${iso(after)}`).toBe(iso(expected));
            if (expected === undefined) break;
            after = expected;
          }
        }
      }
    }
  });

  it("agrees with the minute-by-minute search for schedules that run a few times a year or less", () => {
    for (const zone of ZONES) {
      for (const schedule of RARELY) {
        const tab = parseCrontab(schedule);
        for (const start of RARE_STARTS) {
          expect(iso(nextRun(tab, zone, start)), `${schedule} in ${zone} after ${iso(start)}`).toBe(iso(minuteByMinute(tab, zone, start)));
        }
      }
    }
  });

  it("compares against a shortcut that changes nothing: the old loop word for word agrees where it is quick", () => {
    const cases: [string, string, number][] = [
      ["30 2 * * *", "Europe/Berlin", Date.UTC(2026, 2, 28, 12)],
      ["*/7 */5 * * *", "Pacific/Chatham", Date.UTC(2026, 3, 4, 13, 30)],
      ["15,45 1-3 * * *", "Australia/Lord_Howe", Date.UTC(2026, 3, 4, 14, 0)],
      ["45 2 * * *", "Pacific/Chatham", Date.UTC(2026, 8, 26, 12, 0)],
      ["0 9 * * MON-FRI", "Asia/Kathmandu", Date.UTC(2026, 0, 16, 12, 0)],
    ];
    for (const [schedule, zone, after] of cases) {
      const tab = parseCrontab(schedule);
      expect(iso(minuteByMinute(tab, zone, after)), `${schedule} in ${zone}`).toBe(iso(literalOld(tab, zone, after)));
      expect(iso(nextRun(tab, zone, after)), `${schedule} in ${zone}`).toBe(iso(literalOld(tab, zone, after)));
    }
  });

  it("skips a local time that does not exist and runs a repeated one once, at its first occurrence", () => {
    const tab = parseCrontab("30 2 * * *");
    // 29 March 2026 has no 02:30 in Berlin: the next run is 30 March, 02:30 CEST.
    expect(iso(nextRun(tab, "Europe/Berlin", Date.UTC(2026, 2, 28, 12)))).toBe("2026-03-30T00:30:00.000Z");
    // 25 October 2026 has two: 02:30 CEST (00:30 UTC) runs, 02:30 CET (01:30 UTC) does not.
    expect(iso(nextRun(tab, "Europe/Berlin", Date.UTC(2026, 9, 24, 12)))).toBe("2026-10-25T00:30:00.000Z");
    expect(iso(nextRun(tab, "Europe/Berlin", Date.UTC(2026, 9, 25, 0, 30)))).toBe("2026-10-26T01:30:00.000Z");
  });

  it("finds 29 February on one weekday 40 years away, and says never for a time that only falls in gaps", () => {
    // 2100 is no leap year: after 29 February 2088, the next on a Sunday is in 2128.
    expect(iso(nextRun(parseCrontab("0 0 29 2 */7"), "UTC", Date.UTC(2088, 2, 1)))).toBe("2128-02-29T00:00:00.000Z");
    // The last Sunday of March at 02:30 is always in Berlin's spring-forward gap.
    const inTheGap = parseCrontab("30 2 25-31 3 */7");
    expect(nextRun(inTheGap, "Europe/Berlin", Date.UTC(2026, 0, 1))).toBeUndefined();
    expect(iso(nextRun(inTheGap, "UTC", Date.UTC(2026, 0, 1)))).toBe("2026-03-29T02:30:00.000Z");
  });

  it("looks at few minutes on the way, however far the next run is", () => {
    const formatted = vi.spyOn(Intl.DateTimeFormat.prototype, "formatToParts");
    const count = (schedule: string, zone: string, after: number) => {
      formatted.mockClear();
      nextRun(parseCrontab(schedule), zone, after);
      return formatted.mock.calls.length;
    };
    // Minute by minute, each of these took hundreds of thousands of zone look-ups, or millions.
    expect(count("0 0 29 2 *", "Europe/Berlin", Date.UTC(2026, 2, 1))).toBeLessThan(30);
    expect(count("0 0 29 2 */7", "Europe/Berlin", Date.UTC(2088, 2, 1))).toBeLessThan(30);
    expect(count("@yearly", "Pacific/Chatham", Date.UTC(2026, 0, 2))).toBeLessThan(30);
    expect(count("*/7 */5 * * *", "Asia/Kathmandu", Date.UTC(2026, 0, 1, 0, 1))).toBeLessThan(30);
    expect(count("30 2 25-31 3 */7", "Europe/Berlin", Date.UTC(2026, 0, 1))).toBeLessThan(1000);
  });
});
