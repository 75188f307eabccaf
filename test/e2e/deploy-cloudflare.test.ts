import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, runTwelve } from "../support/cli.ts";
import { isUpload, startCloudflareApi, type ApiCall, type CloudflareApi } from "../support/cloudflare-api.ts";
import { removeProject, shopProject } from "../support/project.ts";
import { cloudflareTestEnv } from "../support/wrangler.ts";

// twelve plan / deploy / scale / ps / run / logs / destroy on Cloudflare as a user runs them:
// the real wrangler, run by twelve, against the local stand-in for Cloudflare's API, whose
// state and call log the tests read. The shop formation, plus an `audit` worker to remove.
const SECRET = "mail-key-do-not-print";
const AUDIT = `    audit: { type: "worker", entry: "examples/shop/src/mailer.ts", concurrency: 2, batchSize: 5, maxRetries: 1 },\n`;
const withAudit = (config: string) => config.replace('target: "aws"', 'target: "cloudflare"').replace("    nightly:", `${AUDIT}    nightly:`);

describe("twelve plan, deploy, scale, ps, run, logs and destroy on Cloudflare", () => {
  let api: CloudflareApi;
  let dir: string;
  let home: string;
  let env: NodeJS.ProcessEnv;
  const twelve = (...args: string[]) => runTwelve([...args, "--stage", "ci"], { cwd: dir, env });
  /** The calls made to the stand-in while `run` ran. */
  const callsDuring = async <T,>(run: () => Promise<T>): Promise<{ result: T; calls: ApiCall[] }> => {
    const from = api.calls.length;
    const result = await run();
    return { result, calls: api.calls.slice(from) };
  };
  const writes = (calls: ApiCall[]) => calls.filter((c) => c.method !== "GET").map((c) => `${c.method} ${c.path.replace(`/accounts/${api.accountId}`, "")}`);
  const uploads = (calls: ApiCall[]) => calls.filter(isUpload);
  const script = (name: string) => {
    const s = api.state.scripts.get(name);
    if (!s) throw new Error(`no script ${name}`);
    return s;
  };

  beforeAll(async () => {
    api = await startCloudflareApi();
    home = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-cf-home-"));
    env = { ...cloudflareTestEnv(api, home), MAIL_API_KEY: SECRET };
    dir = shopProject(withAudit);
  });
  afterAll(async () => {
    await api?.stop();
    removeProject(dir);
    fs.rmSync(home, { recursive: true, force: true });
  });

  it("without a token or account, plan and deploy fail before any call, naming what to set", async () => {
    const token = await runTwelve(["deploy", "--stage", "ci"], { cwd: dir, env: { ...env, CLOUDFLARE_API_TOKEN: "" } });
    expect(token.code).toBe(2);
    expect(token.stderr).toContain("CLOUDFLARE_API_TOKEN is not set");
    const account = await runTwelve(["plan", "--stage", "ci"], { cwd: dir, env: { ...env, CLOUDFLARE_ACCOUNT_ID: "" } });
    expect(account.code).toBe(2);
    expect(account.stderr).toContain("set CLOUDFLARE_ACCOUNT_ID");
    const secret = await runTwelve(["deploy", "--stage", "ci"], { cwd: dir, env: { ...env, MAIL_API_KEY: undefined } });
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain("secret MAIL_API_KEY not set in the deploying environment");
    expect(api.calls).toEqual([]);
  });

  it("plan --json lists the queues, Workers and consumers to create, and changes nothing", async () => {
    const { result, calls } = await callsDuring(() => twelve("plan", "--json"));
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout) as { account: string; changes: { action: string; kind: string; name: string }[] };
    expect(plan.account).toBe(api.accountId);
    expect(plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`).sort()).toEqual([
      "create consumer shop-ci-audit",
      "create consumer shop-ci-mailer",
      "create pull-consumer shop-ci-audit-dlq",
      "create pull-consumer shop-ci-mailer-dlq",
      "create queue shop-ci-audit",
      "create queue shop-ci-audit-dlq",
      "create queue shop-ci-mailer",
      "create queue shop-ci-mailer-dlq",
      "create worker shop-ci-audit",
      "create worker shop-ci-mailer",
      "create worker shop-ci-nightly",
      "create worker shop-ci-web",
    ]);
    expect(writes(calls)).toEqual([]);
  });

  it("the first deploy creates exactly what the formation asks, with the right settings; secrets reach Cloudflare and nothing else", { timeout: 120_000 }, async () => {
    const { result, calls } = await callsDuring(() => twelve("deploy"));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^web https:\/\/shop-ci-web\.twelve-test\.workers\.dev$/m);
    expect(result.stdout).toContain("+ consumer shop-ci-mailer (set by wrangler with shop-ci-mailer)");
    expect(uploads(calls)).toHaveLength(4);

    expect([...api.state.scripts.keys()].sort()).toEqual(["shop-ci-audit", "shop-ci-mailer", "shop-ci-nightly", "shop-ci-web"]);
    expect([...api.state.queues.values()].map((q) => q.queue_name).sort()).toEqual(["shop-ci-audit", "shop-ci-audit-dlq", "shop-ci-mailer", "shop-ci-mailer-dlq"]);
    const web = script("shop-ci-web");
    expect(web.workersDev).toBe(true);
    expect(web.crons).toEqual([]);
    expect(web.vars).toMatchObject({ LOG_LEVEL: "info" });
    expect(web.bindings).toContainEqual(expect.objectContaining({ type: "queue", name: "TWELVE_QUEUE_MAILER", queue_name: "shop-ci-mailer" }));
    expect(web.tags).toEqual(expect.arrayContaining(["twelve-app:shop", "twelve-stage:ci", "twelve-process:web", expect.stringMatching(/^twelve-hash:[0-9a-f]{32}$/)]));
    for (const name of ["shop-ci-mailer", "shop-ci-audit"]) expect(script(name).workersDev).toBe(false);
    // The clock answers its run route there, to the stage's token only.
    expect(script("shop-ci-nightly").workersDev).toBe(true);
    // Europe/Berlin 03:00 in UTC crons, held by the gate in the Worker.
    expect(script("shop-ci-nightly").crons.map((c) => c.cron)).toEqual(["0 1,2 * * *"]);
    expect(script("shop-ci-mailer").handlers).toContain("queue");

    const mailer = api.queueByName("shop-ci-mailer");
    expect(mailer?.consumers).toEqual([expect.objectContaining({ script_name: "shop-ci-mailer", dead_letter_queue: "shop-ci-mailer-dlq", settings: expect.objectContaining({ batch_size: 10, max_retries: 3, max_concurrency: 5 }) })]);
    expect(api.queueByName("shop-ci-audit")?.consumers[0]?.settings).toMatchObject({ batch_size: 5, max_retries: 1, max_concurrency: 2 });
    // Each dead-letter queue's HTTP pull consumer: twelve dlq lists through it.
    for (const dlq of ["shop-ci-mailer-dlq", "shop-ci-audit-dlq"]) expect(api.queueByName(dlq)?.consumers).toEqual([expect.objectContaining({ type: "http_pull", settings: { batch_size: 100, max_retries: 100, visibility_timeout_ms: 900_000 } })]);

    for (const name of api.state.scripts.keys()) expect(script(name).secrets.get("MAIL_API_KEY")).toBe(SECRET);
    expect(JSON.stringify(calls)).not.toContain(SECRET);
    expect(result.stdout).not.toContain(SECRET);
    const onDisk = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => !f.startsWith("node_modules") && fs.statSync(path.join(dir, f)).isFile());
    for (const file of onDisk) expect(fs.readFileSync(path.join(dir, file), "utf8"), file).not.toContain(SECRET);
  });

  it("a second deploy uploads nothing and changes nothing", { timeout: 60_000 }, async () => {
    const { result, calls } = await callsDuring(() => twelve("deploy", "--json"));
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { changes: unknown[]; unchanged: number; calls: { writes: number; uploads: number }; urls: Record<string, string> };
    expect(report.changes).toEqual([]);
    expect(report.unchanged).toBe(12);
    expect(report.calls).toMatchObject({ writes: 0, uploads: 0 });
    expect(report.urls).toEqual({ web: "https://shop-ci-web.twelve-test.workers.dev" });
    expect(writes(calls)).toEqual([]);
  });

  it("a change to one process uploads that one script", { timeout: 60_000 }, async () => {
    fs.appendFileSync(path.join(dir, "examples/shop/src/nightly.ts"), "\nconsole.log('nightly loaded');\n");
    const before = script("shop-ci-nightly").deployedVersionId;
    // A tag of the user's own stays beside twelve's.
    script("shop-ci-nightly").tags.push("team:ops");
    const hashBefore = script("shop-ci-nightly").tags.find((t) => t.startsWith("twelve-hash:"));
    const { result, calls } = await callsDuring(() => twelve("deploy"));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("~ worker shop-ci-nightly: code");
    expect(uploads(calls).map((c) => c.path.split("/")[5])).toEqual(["shop-ci-nightly"]);
    expect(script("shop-ci-nightly").deployedVersionId).not.toBe(before);
    expect(script("shop-ci-nightly").modules.some((m) => m.content.includes("nightly loaded"))).toBe(true);
    expect(script("shop-ci-nightly").tags).toContain("team:ops");
    expect(script("shop-ci-nightly").tags).not.toContain(hashBefore);
    expect(result.stdout).toMatch(/^  wrangler deploy: shop-ci-nightly \(1 at once\)\.\.\.$/m);
  });

  it("a rotated secret is set again without uploading code", { timeout: 60_000 }, async () => {
    const { result, calls } = await callsDuring(() => runTwelve(["deploy", "--stage", "ci"], { cwd: dir, env: { ...env, MAIL_API_KEY: "rotated-value" } }));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("~ worker shop-ci-web: secret values");
    expect(result.stdout).not.toContain("rotated-value");
    expect(uploads(calls)).toEqual([]);
    for (const name of api.state.scripts.keys()) expect(script(name).secrets.get("MAIL_API_KEY")).toBe("rotated-value");
    expect((await twelve("deploy", "--json")).code).toBe(0);
    for (const name of api.state.scripts.keys()) expect(script(name).secrets.get("MAIL_API_KEY")).toBe(SECRET);
  });

  it("scale changes only the consumer's max_concurrency; a web cap or a bad one is refused before any call", { timeout: 60_000 }, async () => {
    const consumer = () => api.queueByName("shop-ci-mailer")?.consumers[0];
    const settingsBefore = { ...consumer()?.settings };
    const { result, calls } = await callsDuring(() => twelve("scale", "mailer=20"));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("mailer: 5 → 20");
    expect(writes(calls)).toEqual([`PUT /queues/${api.queueByName("shop-ci-mailer")?.queue_id}/consumers/${consumer()?.consumer_id}`]);
    expect(consumer()?.settings).toEqual({ ...settingsBefore, max_concurrency: 20 });

    const refused = await callsDuring(() => twelve("scale", "mailer=300"));
    expect(refused.result.code).toBe(2);
    expect(refused.result.stderr).toContain("mailer=300: expected 1..250 on cloudflare");
    const web = await callsDuring(() => twelve("scale", "web=10"));
    expect(web.result.code).toBe(2);
    expect(web.result.stderr).toContain("Cloudflare Workers have no cap on concurrent requests");
    expect([...refused.calls, ...web.calls]).toEqual([]);

    const ps = JSON.parse((await twelve("ps", "--json")).stdout) as { processes: { process: string; cap: number | null; state: string; url: string | null; queueDepth: number | null }[] };
    expect(ps.processes.find((p) => p.process === "mailer")).toMatchObject({ cap: 20, state: "deployed", queueDepth: 0 });
    expect(ps.processes.find((p) => p.process === "web")).toMatchObject({ cap: null, url: "https://shop-ci-web.twelve-test.workers.dev" });

    // The formation still says 5: the next deploy sets it back, through the API alone.
    const back = await callsDuring(() => twelve("deploy"));
    expect(back.result.stdout).toContain("~ consumer shop-ci-mailer: maxConcurrency 20 → 5");
    expect(uploads(back.calls)).toEqual([]);
    expect(consumer()?.settings.max_concurrency).toBe(5);
  });

  it("run sends a message to a worker's queue; a clock's run goes to its Worker's route", async () => {
    const sent = await twelve("run", "audit", '{"order":42}');
    expect(sent.code).toBe(0);
    expect(api.queueByName("shop-ci-audit")?.messages.map((m) => [m.body, m.content_type])).toEqual([[{ order: 42 }, "json"]]);
    const clock = await twelve("run", "nightly");
    // Nothing listens where TWELVE_CLOUDFLARE_WORKER_URL points: twelve says so (the route itself is tested in workerd).
    expect(clock.code).toBe(1);
    expect(clock.stderr).toContain("could not reach nightly's Worker at http://127.0.0.1:9");
  });

  it("logs --follow streams every process's tail through wrangler, prefixed, until Ctrl-C", { timeout: 60_000 }, async () => {
    // wrangler sends a tail's WebSocket through a proxy whatever NO_PROXY says: none here (it goes to 127.0.0.1 only).
    const child = spawn(process.execPath, [BIN, "logs", "--follow", "--stage", "ci"], { cwd: dir, env: { ...process.env, NO_COLOR: "1", ...env, HTTPS_PROXY: "", HTTP_PROXY: "" } });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const until = async (check: () => boolean) => {
      for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(check()).toBe(true);
    };
    await until(() => ["shop-ci-web", "shop-ci-mailer", "shop-ci-nightly", "shop-ci-audit"].every((name) => api.tailsOpen(name) === 1));
    const at = Date.parse("2026-11-22T10:00:00Z");
    api.emitTail("shop-ci-web", { outcome: "ok", scriptName: "shop-ci-web", eventTimestamp: at, event: { request: { method: "POST", url: "https://shop-ci-web.twelve-test.workers.dev/orders" }, response: { status: 202 } }, logs: [{ message: ["order", { id: 7 }], level: "log", timestamp: at + 1 }], exceptions: [] });
    api.emitTail("shop-ci-mailer", { outcome: "exception", scriptName: "shop-ci-mailer", eventTimestamp: at + 5, event: { queue: "shop-ci-mailer", batchSize: 2 }, logs: [], exceptions: [{ name: "Error", message: "smtp down", timestamp: at + 6 }] });
    await until(() => stdout.includes("smtp down") && stdout.includes("order"));
    expect(stdout).toContain(`2026-11-22T10:00:00.000Z web     | POST https://shop-ci-web.twelve-test.workers.dev/orders 202 ok`);
    expect(stdout).toContain(`2026-11-22T10:00:00.001Z web     | order {"id":7}`);
    expect(stdout).toContain(`2026-11-22T10:00:00.005Z mailer  | queue shop-ci-mailer (2 messages) exception`);
    expect(stdout).toContain(`2026-11-22T10:00:00.006Z mailer  | Error: smtp down`);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    // Each wrangler deleted its tail session on the way out.
    await until(() => ["shop-ci-web", "shop-ci-mailer"].every((name) => api.tailsOpen(name) === 0));

    const history = await twelve("logs");
    expect(history.code).toBe(2);
    expect(history.stderr).toContain("on Cloudflare, logs are live only");
  });

  it("a removed process goes, but its queue holding a message stays until --force", { timeout: 120_000 }, async () => {
    fs.writeFileSync(path.join(dir, "twelve.config.ts"), fs.readFileSync(path.join(dir, "twelve.config.ts"), "utf8").replace(AUDIT, ""));
    const { result } = await callsDuring(() => twelve("deploy"));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("- queue shop-ci-audit (kept: it holds 1 message; deploy --force deletes it)");
    expect(api.state.scripts.has("shop-ci-audit")).toBe(false);
    expect(api.queueByName("shop-ci-audit-dlq")).toBeUndefined();
    expect(api.queueByName("shop-ci-audit")?.messages).toHaveLength(1);

    const forced = await twelve("deploy", "--force");
    expect(forced.code).toBe(0);
    expect(api.queueByName("shop-ci-audit")).toBeUndefined();
    expect([...api.state.scripts.keys()].sort()).toEqual(["shop-ci-mailer", "shop-ci-nightly", "shop-ci-web"]);
  });

  it("an API error mid-deploy fails naming the resource; running deploy again converges", { timeout: 180_000 }, async () => {
    const destroyed = await twelve("destroy", "--yes");
    expect(destroyed.code).toBe(0);
    // The nightly clock's cron triggers fail (after its upload), and one tagging call fails.
    api.failNext({ method: "PUT", pathIncludes: "/shop-ci-nightly/schedules" }, 400);
    api.failNext({ method: "PATCH", pathIncludes: "/shop-ci-web/script-settings" }, 400);
    const cut = await twelve("deploy");
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/create worker shop-ci-(nightly|web) failed/);
    expect(cut.stderr).toContain("run twelve deploy again");

    const again = await twelve("deploy");
    expect(again.code, again.stderr).toBe(0);
    const plan = JSON.parse((await twelve("plan", "--json")).stdout) as { changes: unknown[]; unchanged: number };
    expect(plan.changes).toEqual([]);
    expect(plan.unchanged).toBe(7);
    expect(script("shop-ci-nightly").crons.map((c) => c.cron)).toEqual(["0 1,2 * * *"]);
    expect(script("shop-ci-web").tags).toContain("twelve-app:shop");
    expect(api.queueByName("shop-ci-mailer")?.consumers).toHaveLength(1);
  });

  it("a second deploy while one holds the stage's lock stops before any change; a stale lock is taken over", { timeout: 60_000 }, async () => {
    fs.appendFileSync(path.join(dir, "examples/shop/src/nightly.ts"), "\nconsole.log('again');\n");
    const lock = await fetch(`${api.url}/accounts/${api.accountId}/queues`, { method: "POST", headers: { authorization: "Bearer t", "content-type": "application/json" }, body: JSON.stringify({ queue_name: "shop-ci--lock" }) });
    expect(lock.status).toBe(200);
    const { result, calls } = await callsDuring(() => twelve("deploy"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("another deploy of shop (ci) is running");
    expect(result.stderr).toContain("shop-ci--lock");
    expect(uploads(calls)).toEqual([]);

    const held = api.queueByName("shop-ci--lock");
    if (held) held.created_on = new Date(Date.now() - 31 * 60_000).toISOString();
    const taken = await twelve("deploy");
    expect(taken.code).toBe(0);
    expect(taken.stdout).toContain("taking over the lock of a deploy that started at");
    expect(api.queueByName("shop-ci--lock")).toBeUndefined();
  });

  it("destroy without --yes refuses where nobody can answer; with --yes it leaves nothing of the stage", { timeout: 60_000 }, async () => {
    const scripts = api.state.scripts.size;
    const unasked = await twelve("destroy");
    expect(unasked.code).toBe(2);
    expect(unasked.stderr).toMatch(/needs confirmation, and there is nobody to ask \((CI is set|stdin is not a terminal)\)/);
    expect(api.state.scripts.size).toBe(scripts);
    expect(scripts).toBeGreaterThan(0);
    const result = await twelve("destroy", "--yes");
    expect(result.code).toBe(0);
    expect(api.state.scripts.size).toBe(0);
    expect(api.state.queues.size).toBe(0);
    expect(api.unknown).toEqual([]);
  });
});
