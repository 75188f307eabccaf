import fs from "node:fs";
import path from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAST_RUN_PATH, RUN_PATH, RUN_TOKEN_SECRET } from "../../adapters/cloudflare/runtime/clock.ts";
import type { LastRunAnswer } from "../../adapters/cloudflare/runtime/clock-lease.ts";
import type { WranglerConfig } from "../../adapters/cloudflare/wrangler.ts";
import type { ClockRun } from "../../src/adapter.ts";
import { CLOCK_APP } from "../support/clock-app.ts";
import { miniflareWorker } from "../support/miniflare-worker.ts";
import { buildProject, makeProject, removeProject } from "../support/project.ts";

// The clock Worker twelve builds, in workerd (miniflare) with the Durable Object its
// wrangler.json names: one run at a time however Cloudflare fires it, the lease handed back
// after a failure, the run route behind the stage's token, and the last run kept.
const TOKEN = "run-token-for-tests";

describe("the Cloudflare clock's lease, in workerd", () => {
  let dir: string;
  let mf: Miniflare;
  const configs: Record<string, WranglerConfig> = {};
  const logs: string[] = [];

  beforeAll(async () => {
    dir = makeProject(CLOCK_APP);
    const { manifest, outDir } = await buildProject(dir, "cloudflare");
    const workers = manifest.processes.map((p) => {
      const config = JSON.parse(fs.readFileSync(path.join(outDir, p.artifacts.wrangler!.path), "utf8")) as WranglerConfig;
      configs[p.name] = config;
      return miniflareWorker(config, fs.readFileSync(path.join(outDir, p.artifacts.bundle!.path), "utf8"), { [RUN_TOKEN_SECRET]: TOKEN });
    });
    mf = new Miniflare({ cf: false, enableDevRegistry: false, workers, handleStructuredLogs: (log) => logs.push(log.message) });
    await mf.ready;
  }, 60_000);
  afterAll(async () => {
    await mf?.dispose();
    if (dir) removeProject(dir);
  });

  const fire = async (name: string, scheduledTime: number) => (await mf.getWorker(configs[name]!.name)).scheduled({ cron: configs[name]!.triggers.crons[0]!, scheduledTime: new Date(scheduledTime) });
  const call = async (name: string, urlPath: string, init: { method?: string; token?: string } = {}) => {
    const worker = await mf.getWorker(configs[name]!.name);
    const response = await worker.fetch(`https://${configs[name]!.name}.example.workers.dev${urlPath}`, { method: init.method ?? "GET", headers: init.token === undefined ? {} : { authorization: `Bearer ${init.token}` } });
    return { status: response.status, text: await response.text() };
  };
  const lastRun = async (name: string) => JSON.parse((await call(name, LAST_RUN_PATH, { token: TOKEN })).text) as LastRunAnswer;

  it("generates the lease's binding and its SQLite migration for a clock", () => {
    expect(configs.slow!.durable_objects).toEqual({ bindings: [{ name: "TWELVE_CLOCK_LEASE", class_name: "TwelveClockLease" }] });
    expect(configs.slow!.migrations).toEqual([{ tag: "twelve-lease-v1", new_sqlite_classes: ["TwelveClockLease"] }]);
    expect(configs.slow!.workers_dev).toBe(true);
  });

  it("skips a run due while the previous one is going, logs it with its time, and records the first run's outcome", async () => {
    const first = Date.parse("2026-07-01T10:00:00Z");
    const second = Date.parse("2026-07-01T10:01:00Z");
    const running = fire("slow", first);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await lastRun("slow")).going).toEqual({ scheduledTime: first, startedAt: expect.any(Number) });
    const skipped = await fire("slow", second);
    expect(skipped.outcome).toBe("ok");
    expect((await lastRun("slow")).last).toMatchObject({ scheduledTime: second, outcome: "skipped", detail: expect.stringMatching(/^the run for 2026-07-01T10:00:00.000Z \(started \d+ s ago\) was still going 60 s after this one's time; one run at a time$/) });
    await running;
    const after = await lastRun("slow");
    expect(after.going).toBeNull();
    expect(after.last).toMatchObject({ scheduledTime: first, outcome: "ok", detail: null });
    expect(after.last!.durationMs).toBeGreaterThanOrEqual(2900);
    expect(logs.filter((l) => l.startsWith("run starts"))).toEqual(["run starts for 2026-07-01T10:00:00.000Z"]);
    expect(logs).toContainEqual(expect.stringMatching(/^clock "slow" skipped the run for 2026-07-01 10:01 UTC \(2026-07-01T10:01:00.000Z\): the run for 2026-07-01T10:00:00.000Z/));
  }, 30_000);

  it("a run due while one is going waits for it within 60 s of its time, then starts late", async () => {
    const first = Date.now();
    const second = first + 1000;
    const running = fire("slow", first);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const waited = await fire("slow", second);
    expect(waited.outcome).toBe("ok");
    await running;
    const after = await lastRun("slow");
    expect(after.last).toMatchObject({ scheduledTime: second, outcome: "ok" });
    // It started once the first had handed the lease back, some seconds after its time.
    expect(after.last!.startedAt! - second).toBeGreaterThan(1000);
    const starts = logs.filter((l) => l.startsWith("run starts"));
    expect(starts.slice(-2)).toEqual([`run starts for ${new Date(first).toISOString()}`, `run starts for ${new Date(second).toISOString()}`]);
  }, 30_000);

  it("hands the lease back after a failed run, with the error kept", async () => {
    const t = Date.parse("2026-07-01T11:00:00Z");
    const outcome = await fire("broken", t);
    expect(outcome.outcome).not.toBe("ok");
    expect((await lastRun("broken")).last).toMatchObject({ scheduledTime: t, outcome: "failed", detail: "the clock broke" });
    // The next run is not skipped: the lease went with the failure.
    await fire("broken", t + 60_000);
    const after = await lastRun("broken");
    expect(after.last).toMatchObject({ scheduledTime: t + 60_000, outcome: "failed" });
    expect(after.going).toBeNull();
  }, 30_000);

  it("answers 404 to a request without the token, with a wrong one, and on any other path", async () => {
    expect((await call("slow", RUN_PATH, { method: "POST" })).status).toBe(404);
    expect((await call("slow", RUN_PATH, { method: "POST", token: "wrong" })).status).toBe(404);
    expect((await call("slow", LAST_RUN_PATH, { token: `${TOKEN}x` })).status).toBe(404);
    expect((await call("slow", "/", { token: TOKEN })).status).toBe(404);
    expect((await call("slow", RUN_PATH, { method: "GET", token: TOKEN })).status).toBe(404);
  });

  it("runs now with the token, under the same lease: skipped (409) while a run is going", async () => {
    const going = call("slow", RUN_PATH, { method: "POST", token: TOKEN });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const second = await call("slow", RUN_PATH, { method: "POST", token: TOKEN });
    expect(second.status).toBe(409);
    expect((JSON.parse(second.text) as { run: ClockRun }).run.outcome).toBe("skipped");
    const first = await going;
    expect(first.status).toBe(200);
    expect((JSON.parse(first.text) as { run: ClockRun }).run).toMatchObject({ outcome: "ok", durationMs: expect.any(Number) });
    const failed = await call("broken", RUN_PATH, { method: "POST", token: TOKEN });
    expect(failed.status).toBe(500);
    expect((JSON.parse(failed.text) as { run: ClockRun }).run).toMatchObject({ outcome: "failed", detail: "the clock broke" });
  }, 30_000);
});
