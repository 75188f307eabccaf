import { describe, expect, it } from "vitest";
import { utcCrons } from "../../adapters/cloudflare/schedule.ts";
import { MANUAL_RUN_CRON, scheduledWorker } from "../../adapters/cloudflare/runtime/clock.ts";
import { matches, parseCrontab } from "../../src/formation/crontab.ts";
import type { ScheduledController } from "../../src/runtime/types.ts";

// The Cloudflare clock Worker as Cloudflare drives it: every UTC minute one of its deployed crons
// names, through the wrapper, across both daylight-saving days, counted in local time.
const TZ = "Europe/Berlin";

function localMinute(t: number): string {
  return new Date(t).toLocaleString("sv-SE", { timeZone: TZ }).slice(0, 16);
}

async function runsOn(schedule: string, fromUtc: string, hours: number): Promise<string[]> {
  const runs: string[] = [];
  const worker = scheduledWorker(
    { default: { scheduled: (controller: ScheduledController) => void runs.push(localMinute(controller.scheduledTime)) } },
    { app: "a", process: "tick", type: "clock", entry: "tick.ts", workers: [], envKeys: [], schedule, timezone: TZ },
  );
  const crons = utcCrons(parseCrontab(schedule), TZ, { now: Date.parse("2026-06-01T00:00:00Z") }).map((c) => [c, parseCrontab(c)] as const);
  const start = Date.parse(fromUtc);
  for (let t = start; t < start + hours * 3_600_000; t += 60_000) {
    const d = new Date(t);
    const utc = { minute: d.getUTCMinutes(), hour: d.getUTCHours(), day: d.getUTCDate(), month: d.getUTCMonth() + 1, weekday: d.getUTCDay() };
    for (const [cron, tab] of crons) {
      if (matches(tab, utc)) await worker.scheduled({ cron, scheduledTime: t, noRetry() {} }, {}, {});
    }
  }
  return runs;
}

describe("the Cloudflare clock wrapper across daylight-saving days", () => {
  it("an hourly clock runs local 02:00 once on the autumn day, and every other hour once (24 runs in 25 hours)", async () => {
    // 2026-10-25 in Berlin: 03:00 CEST becomes 02:00 CET; the local day is 25 hours.
    const runs = await runsOn("0 * * * *", "2026-10-24T22:00:00Z", 25);
    expect(runs.filter((r) => r.endsWith("02:00"))).toEqual(["2026-10-25 02:00"]);
    expect(runs).toHaveLength(24);
    expect(new Set(runs).size).toBe(24);
  });

  it("an hourly clock skips the local hour that does not exist on the spring day (23 runs)", async () => {
    // 2026-03-29 in Berlin: 02:00 CET becomes 03:00 CEST.
    const runs = await runsOn("0 * * * *", "2026-03-28T23:00:00Z", 23);
    expect(runs.some((r) => r.slice(11, 13) === "02")).toBe(false);
    expect(runs).toHaveLength(23);
  });

  it("a quarter-hourly clock runs each local quarter once on the autumn day (4 x 24)", async () => {
    const runs = await runsOn("*/15 * * * *", "2026-10-24T22:00:00Z", 25);
    expect(runs.filter((r) => r.slice(11, 13) === "02")).toEqual(["2026-10-25 02:00", "2026-10-25 02:15", "2026-10-25 02:30", "2026-10-25 02:45"]);
    expect(runs).toHaveLength(96);
  });

  it("a run twelve dev fires (its own clock, or twelve run) is run as asked, whatever the time", async () => {
    const runs: number[] = [];
    const worker = scheduledWorker({ default: { scheduled: (c: ScheduledController) => void runs.push(c.scheduledTime) } }, { app: "a", process: "tick", type: "clock", entry: "tick.ts", workers: [], envKeys: [], schedule: "0 3 * * *", timezone: TZ });
    await worker.scheduled({ cron: MANUAL_RUN_CRON, scheduledTime: Date.parse("2026-07-01T12:34:00Z"), noRetry() {} }, {}, {});
    await worker.scheduled({ cron: "0 3 * * *", scheduledTime: Date.parse("2026-07-01T12:34:00Z"), noRetry() {} }, {}, {});
    expect(runs).toEqual([Date.parse("2026-07-01T12:34:00Z")]);
  });
});
