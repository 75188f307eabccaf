import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adapters } from "../../adapters/index.ts";
import { openDeployment } from "../../src/deploy/stage.ts";
import { removeProject, shopProject } from "../support/project.ts";
import { awsTarget } from "./deployers/aws.ts";
import { cloudflareTarget } from "./deployers/cloudflare.ts";
import type { DeployLane, DeployTarget } from "./deployers/target.ts";

// One set of expectations for every platform's deployer, run through the adapter contract as
// the CLI runs it (openDeployment, then apply): each platform only supplies its stand-in and
// how to count and cut the writes it answers (test/adapters/deployers/).
const TARGETS: [string, () => Promise<DeployTarget>][] = [
  ["aws (moto_server)", awsTarget],
  ["cloudflare (the API stand-in, through wrangler)", cloudflareTarget],
];
/** Cut deploys run side by side, each lane with its own counter of writes. */
const LANES = 3;

describe.each(TARGETS)("deploy conformance on %s", (_name, start) => {
  let platform: DeployTarget;
  let lane: DeployLane;
  let dir: string;
  const deployment = async (stage: string, through: DeployLane = lane) =>
    (await openDeployment({ cwd: dir, stage, target: platform.target, adapters, env: { ...process.env, ...through.env, MAIL_API_KEY: "k" } })).deployment;
  const deploy = async (stage: string, through: DeployLane = lane) => (await deployment(stage, through)).apply({}, () => {});

  beforeAll(async () => {
    platform = await start();
    lane = await platform.lane();
    dir = shopProject();
  }, 60_000);
  afterAll(async () => {
    await lane?.close();
    await platform?.stop();
    removeProject(dir);
  });

  it("a first deploy creates exactly the formation's resources; read back, they plan no change", async () => {
    const plan = await deploy("first");
    expect(plan.changes).toHaveLength(platform.resources);
    expect(plan.changes.every((c) => c.action === "create")).toBe(true);
    expect((await deployment("first")).plan()).toEqual({ changes: [], unchanged: platform.resources });
    await lane.converged("first");
  }, 60_000);

  it("a second deploy with nothing changed makes no mutating call, not even the lock's", async () => {
    const before = lane.writes();
    expect((await deploy("first")).changes).toEqual([]);
    expect(lane.writes() - before).toBe(0);
  });

  it("a deploy cut at any mutating step converges when run again, with nothing made twice", async () => {
    const before = lane.writes();
    await deploy("probe");
    // The lock's two calls are not steps of the deploy.
    const steps = lane.writes() - before - 2;
    expect(steps).toBeGreaterThan(5);
    const lanes = await Promise.all(Array.from({ length: LANES }, () => platform.lane()));
    try {
      let next = 1;
      await Promise.all(
        lanes.map(async (own) => {
          for (let n = next++; n <= steps; n = next++) {
            const stage = `cut${n}`;
            own.cutWrites(n);
            try {
              await expect(deploy(stage, own), `a deploy cut at step ${n} fails`).rejects.toThrow();
            } finally {
              own.cutWrites(undefined);
            }
            await deploy(stage, own);
            expect((await deployment(stage, own)).plan().changes, `after a cut at step ${n}`).toEqual([]);
            await own.converged(stage);
          }
        }),
      );
    } finally {
      await Promise.all(lanes.map((l) => l.close()));
    }
  }, 300_000);

  it("two deploys of a stage at once: one applies, the other stops before any change", async () => {
    const [a, b] = await Promise.all([deployment("race"), deployment("race")]);
    const results = await Promise.allSettled([a.apply({}, () => {}), b.apply({}, () => {})]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(String(failed[0]?.reason.message)).toMatch(/^another deploy of shop \(race\) is running \(/);
    expect((await deployment("race")).plan().changes).toEqual([]);
  }, 60_000);

  it("destroy leaves nothing of the stage, its lock included", async () => {
    expect((await lane.leftovers("first")).length).toBeGreaterThan(0);
    await (await deployment("first")).apply({ destroy: true }, () => {});
    expect(await lane.leftovers("first")).toEqual([]);
    expect((await deployment("first")).plan().changes.filter((c) => c.action !== "create")).toEqual([]);
  }, 60_000);
});
