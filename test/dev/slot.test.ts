import { describe, expect, it } from "vitest";
import type { DevProcess } from "../../src/adapter.ts";
import type { ManifestProcess } from "../../src/build/manifest.ts";
import type { Process } from "../../src/formation/types.ts";
import { ProcessSlot, SlotGone, type SlotSpec } from "../../src/dev/slot.ts";
import { FakeClock } from "../support/fake-clock.ts";

// A process slot's lifecycle with a stand-in engine and a clock the test moves: whoever waits
// for a process that will never come up is told so, instead of waiting forever.
const process: Process = { name: "jobs", type: "worker", entry: "/app/jobs.ts", entryAsWritten: "jobs.ts", memory: 128, timeout: 30, env: {}, concurrency: 1, batchSize: 1, maxRetries: 0 };
const spec: SlotSpec = { process, built: { name: "jobs", type: "worker", entry: "jobs.ts", concurrency: 1, sends: [], env: {}, artifacts: {}, platform: {} } satisfies ManifestProcess, variables: {}, port: undefined };

/** A process that stays up until `end()` is called or stop() stops it. */
function fakeProcess(): DevProcess & { end(reason: string): void; stopped: boolean } {
  let end: (reason: string) => void = () => {};
  const ended = new Promise<string>((resolve) => (end = resolve));
  const p = { ended, stopped: false, end: (reason: string) => end(reason), stop: async () => void (p.stopped = true) };
  return p;
}

function slotWith(launches: (() => Promise<DevProcess>)[], clock = new FakeClock()) {
  const events: string[] = [];
  const slot = new ProcessSlot(spec, () => (launches.shift() ?? (() => Promise.reject(new Error("no more launches"))))(), {
    ready: () => events.push("ready"),
    crash: (_s, reason, delay) => events.push(`crash ${reason} ${delay}`),
  }, clock);
  return { slot, events, clock };
}

describe("ProcessSlot", () => {
  it("whenUp() waits through a failed start and the restart after it, then gives the running process", async () => {
    const running = fakeProcess();
    const { slot, events, clock } = slotWith([() => Promise.reject(new Error("import failed")), () => Promise.resolve(running)]);
    const waiting = slot.whenUp();
    await slot.start();
    expect(slot.state).toBe("crashed");
    expect(events).toEqual(["crash failed to start: import failed 250"]);
    await clock.advance(250);
    expect(await waiting).toBe(running);
    expect(slot.state).toBe("up");
    expect(await slot.whenUp()).toBe(running);
  });

  it("a crash-looping process backs off 250 ms doubling to 10 s; one that ran 30 s starts over at 250 ms", async () => {
    const clock = new FakeClock();
    const failing = Array.from({ length: 8 }, () => () => Promise.reject(new Error("boom")));
    const { slot, events } = slotWith(failing, clock);
    await slot.start();
    for (const delay of [250, 500, 1000, 2000, 4000, 8000, 10000]) await clock.advance(delay);
    expect(events.map((e) => Number(e.split(" ").at(-1)))).toEqual([250, 500, 1000, 2000, 4000, 8000, 10000, 10000]);

    const healthy = fakeProcess();
    const again = slotWith([() => Promise.resolve(healthy), () => Promise.reject(new Error("x"))], clock);
    await again.slot.start();
    await clock.advance(31_000);
    healthy.end("exited with code 1");
    await clock.settle();
    expect(again.events.at(-1)).toBe("crash exited with code 1 250");
  });

  it("after a crash loop, a run of 30 s resets the backoff: the next crash restarts in 250 ms", async () => {
    const clock = new FakeClock();
    const healthy = fakeProcess();
    const boom = () => Promise.reject(new Error("boom"));
    const { slot, events } = slotWith([boom, boom, boom, boom, () => Promise.resolve(healthy), boom], clock);
    await slot.start();
    for (const delay of [250, 500, 1000, 2000]) await clock.advance(delay);
    expect(slot.state).toBe("up");
    await clock.advance(31_000);
    healthy.end("exited with code 1");
    await clock.settle();
    expect(events.filter((e) => e.startsWith("crash")).map((e) => Number(e.split(" ").at(-1)))).toEqual([250, 500, 1000, 2000, 250]);
    // A run shorter than that keeps backing off from where it was.
    await clock.advance(250);
    expect(events.at(-1)).toBe("crash failed to start: boom 500");
  });

  it("stop() tells every waiter SlotGone, cancels the restart due and never starts again: no deadlock on a process that never comes up", async () => {
    const { slot, clock } = slotWith([() => Promise.reject(new Error("throws at import")), () => Promise.resolve(fakeProcess())]);
    const waiting = slot.whenUp();
    await slot.start();
    await slot.stop("replaced");
    await expect(waiting).rejects.toBeInstanceOf(SlotGone);
    await expect(waiting).rejects.toThrow("jobs was replaced");
    await expect(slot.whenUp()).rejects.toBeInstanceOf(SlotGone);
    await clock.advance(60_000);
    expect(slot.state).toBe("stopped");
    expect(clock.pending).toBe(0);
  });

  it("a process that comes up after stop() was called is stopped at once and never counts as up", async () => {
    const late = fakeProcess();
    let finish: (p: DevProcess) => void = () => {};
    const { slot, events } = slotWith([() => new Promise<DevProcess>((resolve) => (finish = resolve))]);
    const starting = slot.start();
    await slot.stop();
    finish(late);
    await starting;
    expect(late.stopped).toBe(true);
    expect(events).toEqual([]);
    expect(slot.current).toBeUndefined();
  });

  it("stop() stops the running process; its ending afterwards is not a crash", async () => {
    const running = fakeProcess();
    const { slot, events } = slotWith([() => Promise.resolve(running)]);
    await slot.start();
    await slot.stop();
    running.end("was killed by SIGTERM");
    await new Promise((r) => setImmediate(r));
    expect(running.stopped).toBe(true);
    expect(events).toEqual(["ready"]);
  });
});
