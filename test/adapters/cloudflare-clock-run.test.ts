import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adapters } from "../../adapters/index.ts";
import { RUN_PATH, RUN_TOKEN_SECRET } from "../../adapters/cloudflare/runtime/clock.ts";
import type { WranglerConfig } from "../../adapters/cloudflare/wrangler.ts";
import { formatPlan, planJson } from "../../src/deploy/plan.ts";
import { openDeployment } from "../../src/deploy/stage.ts";
import { runTwelve } from "../support/cli.ts";
import { startCloudflareApi, type CloudflareApi } from "../support/cloudflare-api.ts";
import { buildProject, makeProject, removeProject } from "../support/project.ts";
import { cloudflareTestEnv, runWrangler } from "../support/wrangler.ts";
import { CLOCK_APP } from "../support/clock-app.ts";
import { miniflareWorker } from "../support/miniflare-worker.ts";

// A clock deployed by twelve to the Cloudflare API stand-in (the real wrangler uploads it), then
// run from the code the stand-in holds, in workerd: the lease's Durable Object and migration in
// the upload, the stage's run token kept where every deployer reads it, `twelve run --stage`
// through the Worker's own route, and `twelve ps --stage` showing the last run.
describe("a Cloudflare clock deployed, run now and read back", () => {
  let api: CloudflareApi;
  let dir: string;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let mf: Miniflare | undefined;

  beforeAll(async () => {
    api = await startCloudflareApi();
    home = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-cf-clock-"));
    env = { ...process.env, ...cloudflareTestEnv(api, home) };
    dir = makeProject(CLOCK_APP);
  });
  afterAll(async () => {
    await mf?.dispose();
    await api?.stop();
    if (dir) removeProject(dir);
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it("wrangler deploy --dry-run takes the generated wrangler.json, the lease's class and migration with it", { timeout: 60_000 }, async () => {
    const { outDir } = await buildProject(dir, "cloudflare");
    const result = await runWrangler(["deploy", "--dry-run", "--config", path.join(outDir, "slow", "wrangler.json")]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/TWELVE_CLOCK_LEASE[\s\S]*TwelveClockLease/);
  });

  it("deploy uploads the Durable Object binding, its migration and the run token; a second deployer changes nothing", { timeout: 120_000 }, async () => {
    const deployment = async () => (await openDeployment({ cwd: dir, stage: "ci", target: "cloudflare", adapters, env })).deployment;
    await (await deployment()).apply({}, () => {});
    const slow = api.state.scripts.get("leases-ci-slow")!;
    const upload = slow.versions.at(-1)!;
    expect(upload.bindings).toContainEqual(expect.objectContaining({ type: "durable_object_namespace", name: "TWELVE_CLOCK_LEASE", class_name: "TwelveClockLease" }));
    expect(upload.metadata.migrations).toEqual({ new_tag: "twelve-lease-v1", steps: [{ new_sqlite_classes: ["TwelveClockLease"] }] });
    expect(slow.migrationTag).toBe("twelve-lease-v1");
    expect(slow.workersDev).toBe(true);
    // One token for the stage: each clock holds it as a secret, and keeps it in its tags for the deployers.
    const token = slow.secrets.get(RUN_TOKEN_SECRET);
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(api.state.scripts.get("leases-ci-broken")!.secrets.get(RUN_TOKEN_SECRET)).toBe(token);
    expect(slow.tags).toContain(`twelve-run:${token}`);
    const again = await deployment();
    expect(again.plan().changes).toEqual([]);
    // A clock that lost its copy of the token gets the stage's one again; a plan shows a digest, never the token.
    const broken = api.state.scripts.get("leases-ci-broken")!;
    broken.tags = broken.tags.filter((t) => !t.startsWith("twelve-run:"));
    const repair = await deployment();
    const changes = repair.plan().changes;
    expect(changes.map((c) => [c.action, c.name, c.action === "update" ? c.fields.map((f) => f.field) : []])).toEqual([["update", "leases-ci-broken", ["runTokenDigest"]]]);
    expect(JSON.stringify(planJson(repair.plan())) + formatPlan(repair.plan()).join("\n")).not.toContain(token!);
    expect(formatPlan(repair.plan()).join("\n")).toContain("run token");
    await repair.apply({}, () => {});
    expect(broken.tags).toContain(`twelve-run:${token}`);
    expect(broken.secrets.get(RUN_TOKEN_SECRET)).toBe(token);

    // New code: the migration is applied already (the script's migration tag), so wrangler sends none, and the token stays.
    fs.appendFileSync(path.join(dir, "src/clock.ts"), "// changed\n");
    await (await deployment()).apply({}, () => {});
    const next = api.state.scripts.get("leases-ci-slow")!;
    expect(next.versions.length).toBe(2);
    expect(next.versions.at(-1)!.metadata.migrations).toBeUndefined();
    expect(next.secrets.get(RUN_TOKEN_SECRET)).toBe(token);
    expect((await deployment()).plan().changes).toEqual([]);
  });

  it("twelve plan counts the Cron Triggers the stage's clocks take, with both plans' limits", { timeout: 60_000 }, async () => {
    const plan = await runTwelve(["plan", "--stage", "ci"], { cwd: dir, env });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout + plan.stderr).toContain("this stage's clocks take 2 Cron Triggers (slow 1, broken 1); Cloudflare allows 5 per account on Workers Free and 250 on Workers Paid");
  });

  it("twelve run --stage runs the clock now through its Worker; skipped while a run is going; ps shows the last run", { timeout: 120_000 }, async () => {
    // The deployed code and secret, as the stand-in holds them, in workerd; each run takes 15 s,
    // so a run started here is still going while twelve (a new Node process each time) looks.
    const slow = api.state.scripts.get("leases-ci-slow")!;
    const token = slow.secrets.get(RUN_TOKEN_SECRET)!;
    const config = JSON.parse(fs.readFileSync(path.join(dir, ".twelve/build/cloudflare/slow/wrangler.json"), "utf8")) as WranglerConfig;
    const code = slow.modules.find((m) => m.name === slow.mainModule)!.content;
    mf = new Miniflare({ cf: false, enableDevRegistry: false, host: "127.0.0.1", workers: [miniflareWorker(config, code, { [RUN_TOKEN_SECRET]: token, RUN_MS: "15000" })] });
    const url = (await mf.ready).toString().replace(/\/$/, "");
    const runEnv = { ...env, TWELVE_CLOUDFLARE_WORKER_URL: url };

    const fired = await runTwelve(["run", "slow", "--stage", "ci"], { cwd: dir, env: runEnv });
    expect(fired.code, fired.stderr).toBe(0);
    expect(fired.stdout).toContain("fired slow (ci)");

    const ps = await runTwelve(["ps", "--stage", "ci", "--json"], { cwd: dir, env: runEnv });
    expect(ps.code, ps.stderr).toBe(0);
    const rows = (JSON.parse(ps.stdout) as { processes: { process: string; lastRun: unknown; url: unknown }[] }).processes;
    expect(rows.find((r) => r.process === "slow")).toMatchObject({ url: null, lastRun: { outcome: "ok", scheduledTime: expect.stringMatching(/^\d{4}-/), durationMs: expect.any(Number), detail: null } });

    // A run going (started at the route, as the cron or another deployer would): twelve run is skipped, and says so.
    const going = fetch(`${url}${RUN_PATH}`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const running = await runTwelve(["ps", "--stage", "ci", "--json"], { cwd: dir, env: runEnv });
    expect((JSON.parse(running.stdout) as { processes: { process: string; lastRun: { outcome: string } }[] }).processes.find((r) => r.process === "slow")?.lastRun.outcome).toBe("running");
    const skipped = await runTwelve(["run", "slow", "--stage", "ci"], { cwd: dir, env: runEnv });
    expect(skipped.code).toBe(1);
    expect(skipped.stderr).toMatch(/slow did not run: the run for \S+ \(started \d+ s ago\) was still going; one run at a time/);
    expect((await going).status).toBe(200);

    // Another stage's token (or none) is refused, and said so.
    const wrong = await runTwelve(["run", "slow", "--stage", "ci"], { cwd: dir, env: { ...runEnv, TWELVE_CLOUDFLARE_WORKER_URL: `${url}/elsewhere` } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("refused the run token (HTTP 404)");
  });
});
