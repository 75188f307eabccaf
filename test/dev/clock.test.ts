import { afterEach, describe, expect, it } from "vitest";
import type { ClockRun } from "../../src/adapter.ts";
import { scheduleClock, type ClockEvents } from "../../src/dev/clock.ts";
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
  const events: { skipped: ClockRun[]; missed: [string, number, ClockRun][]; finished: ClockRun[] } = { skipped: [], missed: [], finished: [] };
  const listeners: ClockEvents = {
    skipped: (r) => events.skipped.push(r),
    missed: (first, count, last) => events.missed.push([iso(first), count, last]),
    finished: (r) => events.finished.push(r),
  };
  const scheduled = scheduleClock(
    schedule,
    timeZone,
    async (scheduledTime) => {
      runs.push({ scheduled: iso(scheduledTime), at: iso(clock.now()) });
      await run?.(scheduledTime);
    },
    clock,
    listeners,
  );
  stops.push(scheduled.stop);
  return { runs, events, ...scheduled };
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

  it("runs one at a time: a run due while one is going waits for it at most 60 s, then is skipped, and the skip says which", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 30));
    const { run, releaseAll } = held();
    const { runs, events } = start("* * * * *", "UTC", clock, run);
    await clock.advance(4 * MINUTE);
    // 00:02 waited until 00:03 and 00:03 until 00:04; 00:04 is still waiting (until 00:05).
    expect(runs.map((r) => r.scheduled)).toEqual(["2026-01-01T00:01:00.000Z"]);
    expect(events.skipped.map((r) => [iso(r.scheduledTime), r.outcome])).toEqual([
      ["2026-01-01T00:02:00.000Z", "skipped"],
      ["2026-01-01T00:03:00.000Z", "skipped"],
    ]);
    expect(events.skipped[0]?.detail).toBe("the run for 2026-01-01T00:01:00.000Z (started 120 s ago) was still going 60 s after this one's time; one run at a time");
    // The run going ends 30 s after 04:00: the 04:00 run starts then, late but within 60 s.
    releaseAll();
    await clock.settle();
    expect(runs).toEqual([
      { scheduled: "2026-01-01T00:01:00.000Z", at: "2026-01-01T00:01:00.000Z" },
      { scheduled: "2026-01-01T00:04:00.000Z", at: "2026-01-01T00:04:30.000Z" },
    ]);
    releaseAll();
    await clock.advance(MINUTE);
    expect(runs.map((r) => r.scheduled).at(-1)).toBe("2026-01-01T00:05:00.000Z");
    expect(events.skipped).toHaveLength(2);
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

  it("a run asked for now (twelve run) follows the same rule, and reports how each run went", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 30));
    const { run, releaseAll } = held();
    const { fire, events, last } = start("0 3 * * *", "Europe/Berlin", clock, run);
    const first = fire(clock.now());
    await clock.advance(5000);
    const second = await fire(clock.now());
    expect(second).toMatchObject({ outcome: "skipped", startedAt: null });
    expect(second.detail).toContain("(started 5 s ago) was still going");
    releaseAll();
    expect(await first).toMatchObject({ outcome: "ok", durationMs: 5000 });
    expect(last()).toMatchObject({ outcome: "ok" });
    expect(events.finished).toHaveLength(1);
  });

  it("a run that cannot start within 60 s of its time (the machine slept) is skipped as missed, with how many were", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 30));
    const { runs, events } = start("*/10 * * * *", "UTC", clock);
    // A suspend: time jumps 35 minutes, and the timer fires only then.
    clock.jump(35 * MINUTE);
    await clock.advance(0);
    expect(runs).toEqual([]);
    expect(events.missed.map(([first, count]) => [first, count])).toEqual([["2026-01-01T00:10:00.000Z", 3]]);
    expect(events.missed[0]?.[2]).toMatchObject({ outcome: "skipped", scheduledTime: Date.UTC(2026, 0, 1, 0, 30) });
    expect(events.missed[0]?.[2].detail).toMatch(/^missed: twelve dev could not start it within 60 s of its time/);
    // ...and the clock goes on from now.
    await clock.advance(10 * MINUTE);
    expect(runs.map((r) => r.scheduled)).toEqual(["2026-01-01T00:40:00.000Z"]);
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
