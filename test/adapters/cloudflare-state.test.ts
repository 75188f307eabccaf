import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloudflareApi } from "../../adapters/cloudflare/client.ts";
import { readDeployed, type WorkerResource } from "../../adapters/cloudflare/resources.ts";
import { appTag, CODE_TAG, stageTag } from "../../adapters/cloudflare/resources/common.ts";
import { consumerIds } from "../../adapters/cloudflare/resources.ts";
import { TwelveError } from "../../src/errors.ts";
import { runTwelve } from "../support/cli.ts";
import { startCloudflareApi } from "../support/cloudflare-api.ts";
import { shopProject, removeProject } from "../support/project.ts";
import { runWrangler } from "../support/wrangler.ts";

// Reading back what is deployed on Cloudflare, after the real wrangler deployed the shop
// formation's generated configs to the API stand-in.
describe("Cloudflare: the API client and the deployed state", () => {
  let cf: Awaited<ReturnType<typeof startCloudflareApi>>;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    cf = await startCloudflareApi();
    env = { CLOUDFLARE_API_TOKEN: "test-token", CLOUDFLARE_ACCOUNT_ID: cf.accountId, CLOUDFLARE_API_BASE_URL: cf.url };
    dir = shopProject();
    expect((await runTwelve(["build", "--target", "cloudflare"], { cwd: dir })).code).toBe(0);

    const api = cloudflareApi(env, undefined);
    for (const queue of ["shop-dev-mailer", "shop-dev-mailer-dlq"]) await api.send("POST", "/queues", { queue_name: queue });
    for (const process of ["web", "mailer", "nightly"]) {
      const result = await runWrangler(["deploy", "--config", path.join(dir, ".twelve/build/cloudflare", process, "wrangler.json")], env);
      expect(result.code, result.stderr).toBe(0);
      await api.send("PATCH", `/workers/scripts/shop-dev-${process}/script-settings`, { tags: [appTag("shop"), stageTag("dev"), `${CODE_TAG}h-${process}`] });
    }
  }, 60_000);

  afterAll(async () => {
    await cf?.stop();
    removeProject(dir);
  });

  it("reads back the app's Workers with their hash, crons and workers.dev flag, its queues, and the consumer's settings", async () => {
    const api = cloudflareApi(env, undefined);
    const { resources, queueIds } = await readDeployed(api, "shop", "dev");
    const workers = resources.filter((r): r is WorkerResource => r.kind === "worker");
    expect(workers.map((w) => [w.name, w.code, w.workersDev, w.crons]).sort()).toEqual([
      ["shop-dev-mailer", "h-mailer", false, []],
      ["shop-dev-nightly", "h-nightly", true, ["0 1,2 * * *"]],
      ["shop-dev-web", "h-web", true, []],
    ]);
    expect(resources.filter((r) => r.kind === "consumer")).toEqual([
      { kind: "consumer", name: "shop-dev-mailer", script: "shop-dev-mailer", batchSize: 10, maxRetries: 3, maxConcurrency: 5, deadLetterQueue: "shop-dev-mailer-dlq" },
    ]);
    expect(resources.filter((r) => r.kind === "queue").map((q) => q.name).sort()).toEqual(["shop-dev-mailer", "shop-dev-mailer-dlq"]);
    expect(resources.find((r) => r.kind === "queue" && r.name === "shop-dev-mailer")).toMatchObject({ id: cf.queueByName("shop-dev-mailer")?.queue_id });
    expect(queueIds["shop-dev-mailer"]).toBe(cf.queueByName("shop-dev-mailer")?.queue_id);
    expect((await consumerIds(api))["shop-dev-mailer"]).toBe(cf.queueByName("shop-dev-mailer")?.consumers[0]?.consumer_id);
    expect(api.calls.writes).toBe(0);
  });

  it("ignores Workers of the same name prefix that are not the app's (untagged, or another stage)", async () => {
    const api = cloudflareApi(env, undefined);
    await api.send("PATCH", "/workers/scripts/shop-dev-nightly/script-settings", { tags: [appTag("shop"), stageTag("prod")] });
    const names = async (wanted?: string[]) => (await readDeployed(api, "shop", "dev", wanted)).resources.filter((r) => r.kind === "worker").map((w) => w.name).sort();
    expect(await names()).toEqual(["shop-dev-mailer", "shop-dev-web"]);
    // Tagged for another stage: never taken, even where this stage wants the name.
    expect(await names(["shop-dev-nightly"])).toEqual(["shop-dev-mailer", "shop-dev-web"]);
    // Untagged (an upload whose tagging was cut short): taken only where the formation wants the name.
    await api.send("PATCH", "/workers/scripts/shop-dev-nightly/script-settings", { tags: [] });
    expect(await names()).toEqual(["shop-dev-mailer", "shop-dev-web"]);
    const adopted = (await readDeployed(api, "shop", "dev", ["shop-dev-nightly"])).resources.find((r) => r.name === "shop-dev-nightly");
    expect(adopted).toMatchObject({ kind: "worker", code: null, secrets: null });
    await api.send("PATCH", "/workers/scripts/shop-dev-nightly/script-settings", { tags: [appTag("shop"), stageTag("dev"), `${CODE_TAG}h-nightly`] });
  });

  it("a missing token or account fails before any call, naming what to set; an API error names the call and Cloudflare's code", async () => {
    expect(() => cloudflareApi({ ...env, CLOUDFLARE_API_TOKEN: undefined }, undefined)).toThrow(/CLOUDFLARE_API_TOKEN is not set/);
    expect(() => cloudflareApi({ ...env, CLOUDFLARE_ACCOUNT_ID: undefined }, undefined)).toThrow(/no Cloudflare account: set CLOUDFLARE_ACCOUNT_ID/);
    expect(cloudflareApi({ ...env, CLOUDFLARE_ACCOUNT_ID: undefined }, cf.accountId).accountId).toBe(cf.accountId);
    const api = cloudflareApi(env, undefined);
    const error = (await api.get("/queues/no-such-queue").catch((e: unknown) => e)) as TwelveError;
    expect(error).toBeInstanceOf(TwelveError);
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(/^Cloudflare API GET \/queues\/no-such-queue failed: 11000: /);
  });
  it("leaves alone a queue named like the stage's that another app's Worker uses; takes an unused one (kept for its messages)", async () => {
    // App "shop-dev", stage "x": its names start with "shop-dev-" too.
    const other = structuredClone(cf.state.scripts.get("shop-dev-mailer")!);
    other.name = "shop-dev-x-jobs";
    other.tags = [appTag("shop-dev"), stageTag("x")];
    // Its own Worker: not a producer of this stage's dead-letter queue as the copied mailer is.
    other.bindings = other.bindings.filter((b) => b.type !== "queue");
    cf.state.scripts.set(other.name, other);
    const api = cloudflareApi(env, undefined);
    const theirs = await api.send<{ queue_id: string }>("POST", "/queues", { queue_name: "shop-dev-x-jobs" });
    await api.send("POST", `/queues/${theirs.queue_id}/consumers`, { type: "worker", script_name: "shop-dev-x-jobs" });
    await api.send("POST", "/queues", { queue_name: "shop-dev-audit" });
    const queues = (await readDeployed(api, "shop", "dev")).resources.filter((r) => r.kind === "queue").map((q) => q.name).sort();
    expect(queues).toEqual(["shop-dev-audit", "shop-dev-mailer", "shop-dev-mailer-dlq"]);
  });
});
