import { afterEach, describe, expect, it } from "vitest";
import { scheduleClock } from "../../src/dev/clock.ts";
import { FakeClock } from "../support/fake-clock.ts";

const MINUTE = 60_000;
const DAY = 86_400_000;
const iso = (t: number) => new Date(t).toISOString();

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** scheduleClock on a fake clock, with a run that notes when it was asked to run and when it did. */
function start(schedule: string, timeZone: string, clock: FakeClock, run?: (scheduledTime: number) => Promise<void>) {
  const runs: { scheduled: string; at: string }[] = [];
  const scheduled = scheduleClock(
    schedule,
    timeZone,
    async (scheduledTime) => {
      runs.push({ scheduled: iso(scheduledTime), at: iso(clock.now()) });
      await run?.(scheduledTime);
    },
    clock,
  );
  stops.push(scheduled.stop);
  return { runs, ...scheduled };
}

/** A run that stays in flight until released. */
function held() {
  const releases: (() => void)[] = [];
  const run = () => new Promise<void>((resolve) => releases.push(resolve));
  return { run, releaseAll: () => releases.splice(0).forEach((release) => release()) };
}

describe("scheduleClock", () => {
  it("fires at each scheduled minute, with that minute as scheduledTime", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 30));
    const { runs } = start("*/2 * * * *", "UTC", clock);
    await clock.advance(5 * MINUTE);
    expect(runs).toEqual([
      { scheduled: "2026-01-01T00:02:00.000Z", at: "2026-01-01T00:02:00.000Z" },
      { scheduled: "2026-01-01T00:04:00.000Z", at: "2026-01-01T00:04:00.000Z" },
    ]);
  });

  it("fires in the schedule's time zone, skipping a local time that does not exist", async () => {
    const clock = new FakeClock(Date.UTC(2026, 2, 28, 12, 0));
    const { runs } = start("30 2 * * *", "Europe/Berlin", clock);
    await clock.advance(3 * DAY);
    // No 02:30 on 29 March in Berlin (clocks go from 02:00 to 03:00).
    expect(runs.map((r) => r.scheduled)).toEqual(["2026-03-30T00:30:00.000Z", "2026-03-31T00:30:00.000Z"]);
  });

  it("runs one at a time: a minute that comes while a run is still going is not run", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 30));
    const { run, releaseAll } = held();
    const { runs } = start("* * * * *", "UTC", clock, run);
    await clock.advance(4 * MINUTE);
    expect(runs.map((r) => r.scheduled)).toEqual(["2026-01-01T00:01:00.000Z"]);
    releaseAll();
    await clock.advance(MINUTE);
    expect(runs.map((r) => r.scheduled)).toEqual(["2026-01-01T00:01:00.000Z", "2026-01-01T00:05:00.000Z"]);
    releaseAll();
  });

  it("stop() waits for the run in flight, and nothing fires after it", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 30));
    const { run, releaseAll } = held();
    const { runs, stop } = start("* * * * *", "UTC", clock, run);
    await clock.advance(MINUTE);
    let stopped = false;
    const stopping = stop().then(() => (stopped = true));
    await clock.settle();
    expect(stopped).toBe(false);
    releaseAll();
    await stopping;
    expect(clock.pending).toBe(0);
    await clock.advance(10 * MINUTE);
    expect(runs).toHaveLength(1);
  });

  it("next() says when it runs next, from the clock's time", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 30));
    const { next } = start("*/15 * * * *", "UTC", clock);
    expect(iso(next()!)).toBe("2026-01-01T00:15:00.000Z");
    await clock.advance(15 * MINUTE);
    expect(iso(next()!)).toBe("2026-01-01T00:30:00.000Z");
  });

  it("keeps going after a failed run, and leaves no rejection unhandled", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 30));
      const { runs, stop } = start("* * * * *", "UTC", clock, async () => {
        throw new Error("the clock's code failed");
      });
      await clock.advance(2 * MINUTE);
      expect(runs).toHaveLength(2);
      await expect(stop()).resolves.toBeUndefined();
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("waits years for a run, beyond the longest timer Node has", async () => {
    const clock = new FakeClock(Date.UTC(2026, 2, 1));
    const { runs } = start("0 0 29 2 *", "UTC", clock);
    await clock.advance(730 * DAY);
    expect(runs.map((r) => r.scheduled)).toEqual(["2028-02-29T00:00:00.000Z"]);
  });
});
