import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { adapters } from "../../adapters/index.ts";
import { cloudflareApi } from "../../adapters/cloudflare/client.ts";
import { createQueue } from "../../adapters/cloudflare/resources/queue.ts";
import { buildFormation } from "../../src/build/build.ts";
import { openDeployment } from "../../src/deploy/stage.ts";
import { startCloudflareApi, type CloudflareApi, type StandInOptions } from "../support/cloudflare-api.ts";
import { removeProject, shopProject } from "../support/project.ts";
import { cloudflareTestEnv } from "../support/wrangler.ts";

// What the Cloudflare deployer must not take from the stand-in's own habits: the API may page
// smaller than asked, answer a taken queue name in another form, and see deployers with tokens
// of their own. Each case runs the deployer through the contract against a stand-in so set up.
describe("the Cloudflare deployer, against an API that behaves otherwise", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  async function setUp(options: StandInOptions = {}) {
    const api = await startCloudflareApi(options);
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-cf-deploy-"));
    const dir = shopProject();
    cleanup.push(() => api.stop(), () => fs.rmSync(home, { recursive: true, force: true }), () => removeProject(dir));
    const env = (token = "test-token") => ({ ...process.env, ...cloudflareTestEnv(api, home), CLOUDFLARE_API_TOKEN: token, MAIL_API_KEY: "k" });
    const deployment = async (stage: string, token?: string) => (await openDeployment({ cwd: dir, stage, target: "cloudflare", adapters, env: env(token) })).deployment;
    return { api, dir, env, deployment };
  }
  const writesDuring = async (api: CloudflareApi, run: () => Promise<unknown>) => {
    const before = api.writes;
    await run();
    return api.writes - before;
  };

  it("sees every queue when the API pages by 20, however many queues the account has", async () => {
    const { api, deployment, env } = await setUp({ queuePageSize: 20 });
    const client = cloudflareApi(env(), undefined);
    for (let i = 0; i < 45; i++) await client.send("POST", "/queues", { queue_name: `another-app-${String(i).padStart(2, "0")}` });
    await (await deployment("paged")).apply({}, () => {});
    expect((await deployment("paged")).plan().changes).toEqual([]);
    // A held lock, on the third page, stops a deploy.
    await client.send("POST", "/queues", { queue_name: "shop-paged--lock" });
    await expect((await deployment("paged")).apply({ destroy: true }, () => {})).rejects.toThrow(/another deploy of shop \(paged\) is running/);
    await client.send("DELETE", `/queues/${api.queueByName("shop-paged--lock")?.queue_id}`);
    await (await deployment("paged")).apply({ destroy: true }, () => {});
    expect([...api.state.queues.values()].filter((q) => q.queue_name.startsWith("shop-paged-"))).toEqual([]);
  }, 60_000);

  it("takes a taken queue name for what it is whatever Cloudflare answers: 400 with an error code, as well as 409", async () => {
    const { api, env, deployment } = await setUp({ duplicateQueue: { status: 400, error: { code: 11009, message: "workers.api.error.queue_already_exists" } } });
    const client = cloudflareApi(env(), undefined);
    const first = await createQueue(client, "shop-dupe-mailer");
    expect(await createQueue(client, "shop-dupe-mailer")).toEqual({ id: first.id, existed: true, createdOn: api.queueByName("shop-dupe-mailer")?.created_on });
    // The lock: a second deploy is told who holds it, not an API error.
    await client.send("POST", "/queues", { queue_name: "shop-dupe--lock" });
    await expect((await deployment("dupe")).apply({}, () => {})).rejects.toThrow(/another deploy of shop \(dupe\) is running \(it took the lock at /);
    // Any other refusal of a create stays an error.
    await expect(createQueue(client, "not a valid name")).rejects.toThrow(/invalid_queue_name/);
  }, 60_000);

  it("two deployers with tokens of their own converge: the second, with nothing changed, changes nothing", async () => {
    const { api, deployment } = await setUp();
    await (await deployment("two", "laptop-token")).apply({}, () => {});
    const ci = await deployment("two", "ci-token");
    expect(ci.plan().changes).toEqual([]);
    expect(await writesDuring(api, () => ci.apply({}, () => {}))).toBe(0);
  }, 60_000);

  it("deploys the build it made, whatever twelve dev builds meanwhile in the same checkout", async () => {
    const { api, dir, deployment } = await setUp();
    const prod = await deployment("prod");
    // twelve dev --target cloudflare rebuilds .twelve/build/cloudflare for stage dev on a save.
    const { loadConfig } = await import("../../src/config/load.ts");
    const { formation } = await loadConfig({ cwd: dir, target: "cloudflare", stage: "dev", adapters });
    await buildFormation(formation, { stage: "dev", adapter: adapters.cloudflare });
    await prod.apply({}, () => {});
    expect([...api.state.scripts.keys()].sort()).toEqual(["shop-prod-mailer", "shop-prod-nightly", "shop-prod-web"]);
    expect((await deployment("prod")).plan().changes).toEqual([]);
  }, 60_000);
});
