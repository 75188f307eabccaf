import { describe, it, expect } from "vitest";
import { utcCrons, zoneOffsets } from "../../adapters/cloudflare/schedule.ts";
import { shouldRun } from "../../adapters/cloudflare/runtime/clock-gate.ts";
import { matches, parseCrontab } from "../../src/formation/crontab.ts";
import type { Crontab } from "../../src/formation/crontab.ts";
import { offsetMinutes, zonedParts } from "../../src/formation/timezone.ts";

const NOW = Date.UTC(2026, 5, 1);
const MIN = 60_000;
const DAY = 86_400_000;
const utc = (y: number, mo: number, d: number, h = 0, mi = 0): number => Date.UTC(y, mo - 1, d, h, mi);
const iso = (t: number): string => new Date(t).toISOString().slice(0, 16);

const crons = (line: string, zone: string): string[] => utcCrons(parseCrontab(line), zone, { now: NOW });

/** Every UTC minute in [from, to) at which Cloudflare would fire the (UTC) cron. */
function fireInstants(cron: string, from: number, to: number): number[] {
  const tab = parseCrontab(cron);
  const out: number[] = [];
  for (let day = from; day < to; day += DAY) {
    const d = new Date(day);
    const dayParts = { day: d.getUTCDate(), month: d.getUTCMonth() + 1, weekday: d.getUTCDay() };
    for (const hour of tab.hours) {
      for (const minute of tab.minutes) {
        if (matches(tab, { ...dayParts, hour, minute })) out.push(day + hour * 3_600_000 + minute * MIN);
      }
    }
  }
  return out;
}

/** What the deployed Worker does in `year`: fire the UTC cron, run when the gate agrees. */
function gatedRuns(line: string, zone: string, year: number): number[] {
  const tab = parseCrontab(line);
  const [cron, ...rest] = utcCrons(tab, zone, { now: NOW });
  expect(rest).toEqual([]);
  // A couple of days either side so local dates at the year's edges are covered.
  return fireInstants(cron as string, utc(year - 1, 12, 30), utc(year + 1, 1, 3))
    .filter((t) => shouldRun(tab, zone, t))
    .filter((t) => zonedParts(t, zone).year === year);
}

/**
 * Reference: an ideal zoned cron, computed from the other direction. For each
 * local date and matching wall time, find the UTC instants showing that wall
 * time (one of the zone's offsets back from it); run at the first one, skip
 * wall times that no instant shows.
 */
function idealRuns(tab: Crontab, zone: string, year: number): number[] {
  const offsets = new Set<number>();
  for (let t = utc(year - 1, 12, 25); t < utc(year + 1, 1, 8); t += DAY / 2) offsets.add(offsetMinutes(t, zone));
  const out: number[] = [];
  for (let day = utc(year, 1, 1); day < utc(year + 1, 1, 1); day += DAY) {
    const d = new Date(day);
    const date = { year, month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: d.getUTCDay() };
    for (const hour of tab.hours) {
      for (const minute of tab.minutes) {
        if (!matches(tab, { ...date, hour, minute })) continue;
        const wall = day + hour * 3_600_000 + minute * MIN;
        const instants = [...offsets]
          .map((o) => wall - o * MIN)
          .filter((u) => {
            const p = zonedParts(u, zone);
            return p.year === date.year && p.month === date.month && p.day === date.day && p.hour === hour && p.minute === minute;
          });
        if (instants.length > 0) out.push(Math.min(...instants));
      }
    }
  }
  return out.sort((a, b) => a - b);
}

function runsPerLocalDay(runs: number[], zone: string): Map<string, number> {
  const perDay = new Map<string, number>();
  for (const t of runs) {
    const p = zonedParts(t, zone);
    const key = `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
    perDay.set(key, (perDay.get(key) ?? 0) + 1);
  }
  return perDay;
}

describe("utcCrons", () => {
  it("keeps a UTC clock as one exact cron, with macros expanded", () => {
    expect(crons("0 3 * * *", "UTC")).toEqual(["0 3 * * *"]);
    expect(crons("@daily", "Etc/UTC")).toEqual(["0 0 * * *"]);
    expect(crons("@yearly", "UTC")).toEqual(["0 0 1 1 *"]);
    expect(crons("*/15 9-17 1,15 */3 *", "UTC")).toEqual(["*/15 9-17 1,15 */3 *"]);
    // A zone that is UTC+0 all year is treated like UTC.
    expect(crons("0 3 * * *", "Africa/Abidjan")).toEqual(["0 3 * * *"]);
  });

  it("writes day-of-week as names, because Cloudflare numbers days 1-7 from SUN=1", () => {
    expect(crons("0 9 * * 1-5", "UTC")).toEqual(["0 9 * * MON-FRI"]);
    expect(crons("0 12 * * 0", "UTC")).toEqual(["0 12 * * SUN"]);
    expect(crons("0 12 * * 7", "UTC")).toEqual(["0 12 * * SUN"]);
    expect(crons("@weekly", "UTC")).toEqual(["0 0 * * SUN"]);
    expect(crons("0 0 * * 6,0", "UTC")).toEqual(["0 0 * * SUN,SAT"]);
  });

  it("keeps cron's either-day rule for UTC (Cloudflare ORs two restricted day fields too)", () => {
    expect(crons("30 7 15 * 0", "UTC")).toEqual(["30 7 15 * SUN"]);
    // "*/2" and MON: cron ANDs them; day-of-month alone is the tighter superset.
    expect(crons("0 0 */2 * 1", "UTC")).toEqual(["0 0 */2 * *"]);
  });

  it("shifts hours by every offset the zone uses and leaves the date fields open", () => {
    expect(crons("0 3 * * *", "Europe/Berlin")).toEqual(["0 1,2 * * *"]);
    expect(crons("0 9-17 * * MON-FRI", "Europe/Berlin")).toEqual(["0 7-16 * * *"]);
    expect(crons("0 9 * * 1-5", "America/New_York")).toEqual(["0 13,14 * * *"]);
    expect(crons("0 22 1 JAN *", "America/New_York")).toEqual(["0 2,3 * * *"]);
    expect(crons("0 2 * * *", "Australia/Sydney")).toEqual(["0 15,16 * * *"]);
  });

  it("shifts minutes for half- and quarter-hour zones", () => {
    expect(crons("0 9 * * *", "Asia/Kolkata")).toEqual(["30 3 * * *"]);
    expect(crons("0 9 * * *", "Asia/Kathmandu")).toEqual(["15 3 * * *"]);
    expect(crons("0 * * * *", "Asia/Kathmandu")).toEqual(["15 * * * *"]);
    expect(crons("*/15 * * * *", "Asia/Kolkata")).toEqual(["*/15 * * * *"]);
    expect(crons("*/30 * * * *", "Europe/Berlin")).toEqual(["0,30 * * * *"]);
  });

  it("collapses to every minute when everything matches", () => {
    expect(crons("* * * * *", "Europe/Berlin")).toEqual(["* * * * *"]);
    // +10:30 and +11:00: local 00:00-00:59 is 13:00-14:29 UTC
    expect(crons("* 0 * * *", "Australia/Lord_Howe")).toEqual(["* 13,14 * * *"]);
  });

  it("finds every offset the zone uses around now", () => {
    expect(zoneOffsets("Europe/Berlin", NOW)).toEqual([60, 120]);
    expect(zoneOffsets("Australia/Sydney", NOW)).toEqual([600, 660]);
    expect(zoneOffsets("Australia/Lord_Howe", NOW)).toEqual([630, 660]);
    expect(zoneOffsets("Asia/Kolkata", NOW)).toEqual([330]);
    expect(zoneOffsets("UTC", NOW)).toEqual([0]);
  });
});

describe("shouldRun", () => {
  const daily3 = parseCrontab("0 3 * * *");

  it("runs 03:00 Berlin at 01:00 UTC in July and 02:00 UTC in January, never both", () => {
    expect(shouldRun(daily3, "Europe/Berlin", utc(2026, 7, 15, 1, 0))).toBe(true);
    expect(shouldRun(daily3, "Europe/Berlin", utc(2026, 7, 15, 2, 0))).toBe(false);
    expect(shouldRun(daily3, "Europe/Berlin", utc(2026, 1, 15, 2, 0))).toBe(true);
    expect(shouldRun(daily3, "Europe/Berlin", utc(2026, 1, 15, 1, 0))).toBe(false);
  });

  it("floors scheduledTime to the minute", () => {
    expect(shouldRun(daily3, "Europe/Berlin", utc(2026, 7, 15, 1, 0) + 59_999)).toBe(true);
    expect(shouldRun(daily3, "Europe/Berlin", utc(2026, 7, 15, 1, 0) - 1)).toBe(false);
  });

  it("fall-back: a repeated local time runs once, on its first occurrence (Berlin 02:30 on 2026-10-25)", () => {
    const tab = parseCrontab("30 2 * * *");
    expect(shouldRun(tab, "Europe/Berlin", utc(2026, 10, 25, 0, 30))).toBe(true); // 02:30 CEST
    expect(shouldRun(tab, "Europe/Berlin", utc(2026, 10, 25, 1, 30))).toBe(false); // 02:30 CET again
    expect(shouldRun(tab, "Europe/Berlin", utc(2026, 10, 26, 1, 30))).toBe(true); // next day, CET
  });

  it("spring-forward: a local time in the gap is skipped (Berlin 02:30 on 2026-03-29)", () => {
    const tab = parseCrontab("30 2 * * *");
    expect(shouldRun(tab, "Europe/Berlin", utc(2026, 3, 29, 0, 30))).toBe(false); // 01:30 CET
    expect(shouldRun(tab, "Europe/Berlin", utc(2026, 3, 29, 1, 30))).toBe(false); // 03:30 CEST
    expect(shouldRun(tab, "Europe/Berlin", utc(2026, 3, 28, 1, 30))).toBe(true);
  });

  it("weekdays follow the local date (New York 09:00 Mon-Fri is 14:00 UTC in winter, 13:00 in summer)", () => {
    const tab = parseCrontab("0 9 * * 1-5");
    expect(shouldRun(tab, "America/New_York", utc(2026, 1, 12, 14, 0))).toBe(true); // Monday, EST
    expect(shouldRun(tab, "America/New_York", utc(2026, 1, 12, 13, 0))).toBe(false);
    expect(shouldRun(tab, "America/New_York", utc(2026, 7, 13, 13, 0))).toBe(true); // Monday, EDT
    expect(shouldRun(tab, "America/New_York", utc(2026, 7, 12, 13, 0))).toBe(false); // Sunday
    // Friday 21:00 in New York is already Saturday in UTC.
    expect(shouldRun(parseCrontab("0 21 * * FRI"), "America/New_York", utc(2026, 7, 18, 1, 0))).toBe(true);
  });

  it("works for +05:30 and +05:45 zones", () => {
    const tab = parseCrontab("0 9 * * *");
    expect(shouldRun(tab, "Asia/Kolkata", utc(2026, 3, 1, 3, 30))).toBe(true);
    expect(shouldRun(tab, "Asia/Kolkata", utc(2026, 3, 1, 3, 0))).toBe(false);
    expect(shouldRun(tab, "Asia/Kathmandu", utc(2026, 3, 1, 3, 15))).toBe(true);
  });
});

describe("a whole year (2026) of UTC cron firings through the gate", () => {
  // Each case: UTC crons fire, the gate filters; the result must equal the
  // ideal zoned cron computed independently, and per-local-day counts must
  // show the DST rules (gap skipped, repeat once).
  const cases: { line: string; zone: string; days: number; perDay: number; exceptions?: Record<string, number> }[] = [
    { line: "0 3 * * *", zone: "Europe/Berlin", days: 365, perDay: 1 },
    { line: "30 2 * * *", zone: "Europe/Berlin", days: 364, perDay: 1 }, // 2026-03-29 02:30 does not exist
    { line: "*/30 0-4 * * *", zone: "Europe/Berlin", days: 365, perDay: 10, exceptions: { "2026-03-29": 8 } },
    { line: "0 9 * * *", zone: "America/New_York", days: 365, perDay: 1 },
    { line: "30 1 * * *", zone: "America/New_York", days: 365, perDay: 1 }, // 01:30 repeats on 2026-11-01
    { line: "30 2 * * *", zone: "America/New_York", days: 364, perDay: 1 }, // 2026-03-08 02:30 does not exist
    { line: "0 9 * * 1-5", zone: "America/New_York", days: 261, perDay: 1 },
    { line: "0 2 * * *", zone: "Australia/Sydney", days: 364, perDay: 1 }, // 2026-10-04 gap; 2026-04-05 repeat
    { line: "0 9 * * *", zone: "Australia/Sydney", days: 365, perDay: 1 },
    { line: "0 9 * * *", zone: "Asia/Kolkata", days: 365, perDay: 1 },
    { line: "45 23 * * *", zone: "Asia/Kathmandu", days: 365, perDay: 1 },
    { line: "45 1 * * *", zone: "Australia/Lord_Howe", days: 365, perDay: 1 }, // 30-minute DST, 01:45 repeats
    { line: "0 12 1,15 * SUN", zone: "Europe/Berlin", days: 24 + 52 - 6, perDay: 1 }, // either-day rule; six 1st/15th are Sundays
  ];

  for (const c of cases) {
    it(`"${c.line}" in ${c.zone}: runs once per matching local time, skips gaps, repeats once`, () => {
      const tab = parseCrontab(c.line);
      const actual = gatedRuns(c.line, c.zone, 2026);
      expect(actual.map(iso)).toEqual(idealRuns(tab, c.zone, 2026).map(iso));
      const perDay = runsPerLocalDay(actual, c.zone);
      expect(perDay.size).toBe(c.days);
      for (const [day, n] of perDay) expect(n, day).toBe(c.exceptions?.[day] ?? c.perDay);
      for (const t of actual) expect(matches(tab, zonedParts(t, c.zone))).toBe(true);
    });
  }

  it("Berlin 02:30 on the fall-back day runs at 00:30 UTC, not 01:30 UTC", () => {
    const runs = gatedRuns("30 2 * * *", "Europe/Berlin", 2026).map(iso);
    expect(runs).toContain("2026-10-25T00:30");
    expect(runs).not.toContain("2026-10-25T01:30");
    expect(runs.filter((r) => r.startsWith("2026-03-29"))).toEqual([]);
  });

  it("Sydney 02:00 on the fall-back day (2026-04-05) runs once, on daylight time", () => {
    const runs = gatedRuns("0 2 * * *", "Australia/Sydney", 2026).map(iso);
    // 02:00 AEDT (+11) is 15:00 UTC the day before; 02:00 AEST (+10) would be 16:00.
    expect(runs).toContain("2026-04-04T15:00");
    expect(runs).not.toContain("2026-04-04T16:00");
  });
});
