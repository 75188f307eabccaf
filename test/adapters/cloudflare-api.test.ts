import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCloudflareApi, type CloudflareApi, type QueueRecord, type ScriptRecord } from "../support/cloudflare-api.ts";
import { BIN } from "../support/cli.ts";
import { runProcess, type ProcessResult } from "../support/process.ts";
import { DEAD_PROXY, runWrangler } from "../support/wrangler.ts";
import { shopProject, removeProject } from "../support/project.ts";

// The real wrangler (4.164) against the local Cloudflare API stand-in: deploys of the shop's
// generated configs, queues, secrets and delete, read back from the stand-in's state and
// through the REST reads a deployer makes itself. Nothing leaves 127.0.0.1: the proxy
// variables point every other host at a dead local port.
const SECRET = "s3cr3t-do-not-print";

/** Every Cloudflare API v4 answer; `result`'s shape depends on the route, so each check reads its own part. */
interface ApiEnvelope {
  success: boolean;
  errors: { code: number; message: string }[];
  result: any;
}

describe("wrangler against the Cloudflare API stand-in", () => {
  let api: CloudflareApi;
  let dir: string;
  let out: string;

  const wrangler = (args: string[], stdin?: string): Promise<ProcessResult> =>
    runWrangler(
      args,
      { ...DEAD_PROXY, CLOUDFLARE_API_BASE_URL: api.url, CLOUDFLARE_API_TOKEN: "test-token", CLOUDFLARE_ACCOUNT_ID: api.accountId },
      { cwd: out, input: stdin ?? "" },
    );
  const ok = async (args: string[], stdin?: string): Promise<string> => {
    const r = await wrangler(args, stdin);
    if (r.code !== 0) throw new Error(`wrangler ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const deploy = (proc: string, extra: string[] = []) => wrangler(["deploy", "--config", path.join(out, proc, "wrangler.json"), ...extra]);
  const rest = async (method: string, route: string, body?: unknown): Promise<{ status: number; json: ApiEnvelope }> => {
    const res = await fetch(`${api.url}/accounts/${api.accountId}${route}`, {
      method,
      headers: { authorization: "Bearer test-token", ...(body === undefined || body instanceof FormData ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : body instanceof FormData ? body : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as ApiEnvelope };
  };
  const script = (name: string): ScriptRecord => {
    const s = api.state.scripts.get(name);
    if (!s) throw new Error(`no script ${name}`);
    return s;
  };
  const mailerQueue = (): QueueRecord => {
    const q = api.queueByName("shop-dev-mailer");
    if (!q) throw new Error("no queue shop-dev-mailer");
    return q;
  };

  beforeAll(async () => {
    api = await startCloudflareApi();
    dir = shopProject();
    const built = await runProcess(process.execPath, [BIN, "build", "--target", "cloudflare", "--cwd", dir], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
    if (built.code !== 0) throw new Error(`twelve build failed\n${built.stdout}\n${built.stderr}`);
    out = path.join(dir, ".twelve", "build", "cloudflare");
  });
  afterAll(async () => {
    await api?.stop();
    if (dir) removeProject(dir);
  });

  it("deploys the three generated configs once their queues exist", { timeout: 60_000 }, async () => {
    // wrangler checks the queues itself before uploading anything.
    const early = await deploy("mailer");
    expect(early.code).not.toBe(0);
    expect(early.stdout + early.stderr).toContain('Queue "shop-dev-mailer" does not exist');
    expect(api.state.scripts.size).toBe(0);

    await Promise.all([ok(["queues", "create", "shop-dev-mailer"]), ok(["queues", "create", "shop-dev-mailer-dlq"])]);
    const results = await Promise.all(["web", "mailer", "nightly"].map((p) => deploy(p)));
    for (const r of results) expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(results[0]?.stdout).toContain("https://shop-dev-web.twelve-test.workers.dev");
    expect(results[2]?.stdout).toContain("schedule: 0 1,2 * * *");

    expect([...api.state.scripts.keys()].sort()).toEqual(["shop-dev-mailer", "shop-dev-nightly", "shop-dev-web"]);
    const web = script("shop-dev-web");
    const mailer = script("shop-dev-mailer");
    const nightly = script("shop-dev-nightly");
    for (const [s, proc] of [[web, "web"], [mailer, "mailer"], [nightly, "nightly"]] as const) {
      expect(s.mainModule).toBe("index.js");
      expect(s.modules.find((m) => m.name === "index.js")?.content).toBe(fs.readFileSync(path.join(out, proc, "index.js"), "utf8"));
      expect(s.sourceMaps.map((m) => m.name)).toEqual(["index.js.map"]);
      expect(s.contentHash).toMatch(/^[0-9a-f]{64}$/);
      expect(s.compatibilityDate).toBe("2026-08-01");
      expect(s.compatibilityFlags).toEqual(["nodejs_compat"]);
      expect(s.vars).toEqual({ LOG_LEVEL: "info" });
      expect(s.observability).toEqual({ enabled: true });
      expect(s.previewsEnabled).toBe(false);
      expect(s.last_deployed_from).toBe("wrangler");
    }
    expect(new Set([web.contentHash, mailer.contentHash, nightly.contentHash]).size).toBe(3);
    const queueBinding = { type: "queue", name: "TWELVE_QUEUE_MAILER", queue_name: "shop-dev-mailer" };
    expect(web.bindings).toContainEqual(queueBinding);
    expect(nightly.bindings).toContainEqual(queueBinding);
    // A worker's one queue binding is its own dead-letter queue, where it moves a message that fails for good.
    expect(mailer.bindings.map((b) => b.type).sort()).toEqual(["plain_text", "queue"]);
    expect(mailer.bindings).toContainEqual({ type: "queue", name: "TWELVE_DEAD_LETTERS", queue_name: "shop-dev-mailer-dlq" });
    // A clock is on workers.dev for its run route (twelve run CLOCK --stage), which answers only the stage's token.
    expect([web.workersDev, mailer.workersDev, nightly.workersDev]).toEqual([true, false, true]);
    expect(nightly.crons.map((c) => c.cron)).toEqual(["0 1,2 * * *"]);
    expect([...web.crons, ...mailer.crons]).toEqual([]);
    expect(mailer.handlers).toContain("queue");

    const q = mailerQueue();
    expect(q.consumers).toHaveLength(1);
    expect(q.consumers[0]).toMatchObject({ type: "worker", script_name: "shop-dev-mailer", dead_letter_queue: "shop-dev-mailer-dlq", settings: { batch_size: 10, max_retries: 3, max_concurrency: 5 } });
    expect(api.queueByName("shop-dev-mailer-dlq")?.consumers).toEqual([]);
    expect(api.unknown).toEqual([]);
  });

  it("answers a deployer's own REST reads", async () => {
    const list = await rest("GET", "/workers/scripts");
    expect(list.json.success).toBe(true);
    expect(list.json.result.map((s: { id: string }) => s.id).sort()).toEqual(["shop-dev-mailer", "shop-dev-nightly", "shop-dev-web"]);
    const settings = await rest("GET", "/workers/scripts/shop-dev-web/settings");
    expect(settings.json.result).toMatchObject({ compatibility_date: "2026-08-01", compatibility_flags: ["nodejs_compat"] });
    expect(settings.json.result.bindings).toContainEqual({ type: "queue", name: "TWELVE_QUEUE_MAILER", queue_name: "shop-dev-mailer" });
    expect((await rest("GET", "/workers/scripts/shop-dev-nightly/schedules")).json.result.schedules).toMatchObject([{ cron: "0 1,2 * * *" }]);
    expect((await rest("GET", "/workers/scripts/shop-dev-web/subdomain")).json.result).toEqual({ enabled: true, previews_enabled: false });
    const queues = (await rest("GET", "/queues")).json.result as { queue_name: string; queue_id: string; producers: { script: string }[] }[];
    const q = queues.find((x) => x.queue_name === "shop-dev-mailer");
    expect(q?.producers.map((p) => p.script).sort()).toEqual(["shop-dev-nightly", "shop-dev-web"]);
    const consumers = (await rest("GET", `/queues/${q?.queue_id}/consumers`)).json.result;
    expect(consumers).toMatchObject([{ script: "shop-dev-mailer", dead_letter_queue: "shop-dev-mailer-dlq", settings: { max_concurrency: 5 } }]);
    expect((await rest("GET", "/workers/scripts/shop-dev-web/secrets")).json.result).toEqual([]);
    const missing = await rest("GET", "/workers/scripts/nope/settings");
    expect(missing.status).toBe(404);
    expect(missing.json.errors[0]?.code).toBe(10007);
  });

  it("validates what Cloudflare validates: unknown queues, consumer ranges, a queue still bound", async () => {
    const form = new FormData();
    form.set("metadata", JSON.stringify({ main_module: "index.js", bindings: [{ type: "queue", name: "Q", queue_name: "no-such-queue" }] }));
    form.set("index.js", new File(["export default { fetch() { return new Response('x') } }"], "index.js", { type: "application/javascript+module" }));
    const upload = await rest("PUT", "/workers/scripts/rogue", form);
    expect(upload.status).toBe(400);
    expect(upload.json.errors[0]?.code).toBe(11000);
    expect(api.state.scripts.has("rogue")).toBe(false);

    const q = mailerQueue();
    const base = { type: "worker", script_name: "shop-dev-mailer" };
    for (const settings of [{ max_concurrency: 0 }, { max_concurrency: 251 }, { batch_size: 101 }, { batch_size: 0 }]) {
      const r = await rest("PUT", `/queues/${q.queue_id}/consumers/${q.consumers[0]?.consumer_id}`, { ...base, settings });
      expect(r.status, JSON.stringify(settings)).toBe(400);
      expect(r.json.errors[0]?.code).toBe(100127);
    }
    expect((await rest("POST", `/queues/${q.queue_id}/consumers`, { ...base, settings: {} })).json.errors[0]?.code).toBe(11004);
    expect((await rest("POST", `/queues/${q.queue_id}/consumers`, { ...base, dead_letter_queue: "no-such-dlq" })).json.errors[0]?.code).toBe(11000);
    expect((await rest("DELETE", `/queues/${q.queue_id}`)).json.errors[0]?.code).toBe(11005);
    expect(q.consumers[0]?.settings).toMatchObject({ batch_size: 10, max_retries: 3, max_concurrency: 5 });
  });

  it("keeps a content hash a deployer stores as script tags, and wrangler's --tag on the version", { timeout: 60_000 }, async () => {
    const hash = script("shop-dev-web").contentHash;
    const patched = await rest("PATCH", "/workers/scripts/shop-dev-web/script-settings", { tags: [`twelve-hash:${hash.slice(0, 32)}`] });
    expect(patched.json.result.tags).toEqual([`twelve-hash:${hash.slice(0, 32)}`]);

    // A redeploy goes through the versions API (POST versions, POST deployments, PATCH script-settings).
    const before = api.calls.length;
    const r = await deploy("web", ["--tag", hash.slice(0, 16), "--message", "twelve deploy"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const redeploy = api.calls.slice(before).map((c) => `${c.method} ${c.path.replace(`/accounts/${api.accountId}`, "")}`);
    expect(redeploy).toContain("POST /workers/scripts/shop-dev-web/versions");
    expect(redeploy).toContain("POST /workers/scripts/shop-dev-web/deployments");
    expect(redeploy).not.toContain("PUT /workers/scripts/shop-dev-web");

    const web = script("shop-dev-web");
    expect(web.contentHash).toBe(hash);
    expect(web.tags).toEqual([`twelve-hash:${hash.slice(0, 32)}`]);
    expect(web.annotations).toMatchObject({ "workers/tag": hash.slice(0, 16), "workers/message": "twelve deploy" });
    // The queue binding came as { type: "inherit" } and still resolves to the queue.
    expect(web.bindings).toContainEqual({ type: "queue", name: "TWELVE_QUEUE_MAILER", queue_name: "shop-dev-mailer" });
    const listed = (await rest("GET", "/workers/scripts")).json.result.find((s: { id: string }) => s.id === "shop-dev-web");
    expect(listed.tags).toEqual([`twelve-hash:${hash.slice(0, 32)}`]);
    const [latest] = (await rest("GET", "/workers/scripts/shop-dev-web/deployments")).json.result.deployments;
    const version = (await rest("GET", `/workers/scripts/shop-dev-web/versions/${latest.versions[0].version_id}`)).json.result;
    expect(version.annotations["workers/tag"]).toBe(hash.slice(0, 16));
  });

  it("stores secrets from secret put and secret bulk, listing only their names", { timeout: 60_000 }, async () => {
    const put = await ok(["secret", "put", "MAIL_API_KEY", "--name", "shop-dev-web"], `${SECRET}\n`);
    expect(put).toContain("Uploaded secret MAIL_API_KEY");
    const file = path.join(dir, "secrets.json");
    fs.writeFileSync(file, JSON.stringify({ MAIL_API_KEY: `${SECRET}-2`, OTHER: "x" }));
    await ok(["secret", "bulk", file, "--name", "shop-dev-mailer"]);
    const listed = JSON.parse(await ok(["secret", "list", "--name", "shop-dev-web"])) as unknown;
    expect(listed).toEqual([{ name: "MAIL_API_KEY", type: "secret_text" }]);

    expect(script("shop-dev-web").secrets.get("MAIL_API_KEY")).toBe(SECRET);
    expect([...script("shop-dev-mailer").secrets.keys()].sort()).toEqual(["MAIL_API_KEY", "OTHER"]);
    expect((await rest("GET", "/workers/scripts/shop-dev-mailer/settings")).json.result.bindings).toContainEqual({ name: "OTHER", type: "secret_text" });
    expect(JSON.stringify(api.calls)).not.toContain(SECRET);
  });

  it("adds and removes a queue consumer with wrangler queues", { timeout: 60_000 }, async () => {
    await ok(["queues", "consumer", "remove", "shop-dev-mailer", "shop-dev-mailer"]);
    expect(mailerQueue().consumers).toEqual([]);
    const tooMany = await wrangler(["queues", "consumer", "add", "shop-dev-mailer", "shop-dev-mailer", "--max-concurrency", "500"]);
    expect(tooMany.code).not.toBe(0);
    expect(tooMany.stdout + tooMany.stderr).toContain("[code: 100127]");
    await ok(["queues", "consumer", "add", "shop-dev-mailer", "shop-dev-mailer", "--batch-size", "10", "--message-retries", "3", "--max-concurrency", "5", "--dead-letter-queue", "shop-dev-mailer-dlq"]);
    expect(mailerQueue().consumers[0]).toMatchObject({ script_name: "shop-dev-mailer", dead_letter_queue: "shop-dev-mailer-dlq", settings: { batch_size: 10, max_retries: 3, max_concurrency: 5 } });
    expect(await ok(["queues", "list"])).toContain("shop-dev-mailer-dlq");
  });

  it("makes wrangler fail when an injected API error hits mid-deploy", { timeout: 60_000 }, async () => {
    // After the upload: the schedules PUT is not retried, so the deploy fails half-done.
    api.failNext({ method: "PUT", pathIncludes: "/workers/scripts/shop-dev-nightly/schedules" });
    const failed = await deploy("nightly");
    expect(failed.code).not.toBe(0);
    expect(failed.stdout + failed.stderr).toContain("[code: 10002]");
    expect(api.calls.filter((c) => c.status === 500)).toHaveLength(1);

    // A 500 on the upload itself is retried by wrangler, which then succeeds.
    api.failNext({ method: "POST", pathIncludes: "/workers/scripts/shop-dev-nightly/versions" });
    const retried = await deploy("nightly");
    expect(retried.code, retried.stdout + retried.stderr).toBe(0);
    expect(api.calls.filter((c) => c.status === 500)).toHaveLength(2);
  });

  it("deletes a Worker with wrangler delete, its queue consumer with it", { timeout: 60_000 }, async () => {
    expect(await ok(["delete", "--name", "shop-dev-mailer", "--force"])).toContain("Successfully deleted shop-dev-mailer");
    expect(api.state.scripts.has("shop-dev-mailer")).toBe(false);
    expect(mailerQueue().consumers).toEqual([]);
    expect((await rest("GET", "/workers/scripts/shop-dev-mailer/settings")).status).toBe(404);
    const again = await wrangler(["delete", "--name", "shop-dev-mailer", "--force"]);
    expect(again.code).not.toBe(0);
    expect(again.stdout + again.stderr).toContain("[code: 10007]");
    expect(api.unknown).toEqual([]);
  });
});
