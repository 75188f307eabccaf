import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAwsProxy, type AwsProxy } from "../support/aws-proxy.ts";
import { runTwelve } from "../support/cli.ts";
import { awsTestEnv, motoClientConfig, startMoto, type MotoServer } from "../support/moto.ts";
import { makeProject, removeProject, shopProject } from "../support/project.ts";

// twelve plan / deploy / destroy as a user runs them, against moto_server behind the proxy that
// holds every request to AWS's service models.
describe("twelve plan, deploy and destroy on AWS", () => {
  let moto: MotoServer;
  let proxy: AwsProxy;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const twelve = (...args: string[]) => runTwelve(args, { cwd: dir, env });

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startAwsProxy(moto.endpoint);
    env = { ...awsTestEnv(proxy.endpoint), MAIL_API_KEY: "secret-value", CI: "true" };
    dir = shopProject();
  });
  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
    removeProject(dir);
  });

  it("plan --json lists what deploy would create, and changes nothing", async () => {
    const result = await twelve("plan", "--stage", "ci", "--json");
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout) as { ok: boolean; changes: { action: string; kind: string; name: string }[]; unchanged: number; account: string };
    expect(plan.ok).toBe(true);
    expect(plan.account).toBe("123456789012");
    expect(plan.changes).toHaveLength(16);
    expect(plan.changes.every((c) => c.action === "create")).toBe(true);
    expect(JSON.parse((await twelve("plan", "--stage", "ci", "--json")).stdout).changes).toHaveLength(16);
  });

  it("deploy applies the plan without asking in CI and ends with the web URL; a second deploy changes nothing", async () => {
    const first = await twelve("deploy", "--stage", "ci");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("+ function shop-ci-web");
    expect(first.stdout).toMatch(/^web https:\/\/\S+\.lambda-url\.eu-west-1\.on\.aws/m);
    expect(first.stdout).not.toContain("secret-value");

    const second = JSON.parse((await twelve("deploy", "--stage", "ci", "--json")).stdout) as { changes: unknown[]; calls: { reads: number; writes: number }; urls: Record<string, string> };
    expect(second.changes).toEqual([]);
    expect(second.calls.writes).toBe(0);
    expect(second.urls.web).toMatch(/^https:\/\//);
  });

  it("a missing secret or credential fails before any change, naming what to set", async () => {
    const secret = await runTwelve(["deploy", "--stage", "other"], { cwd: dir, env: { ...env, MAIL_API_KEY: undefined } });
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain("secret MAIL_API_KEY not set in the deploying environment");
    const credentials = await runTwelve(["plan", "--stage", "other"], { cwd: dir, env: { ...env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AWS_PROFILE: "twelve-none", AWS_CONFIG_FILE: "/nonexistent", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent" } });
    expect(credentials.code).toBe(2);
    expect(credentials.stderr).toContain("no AWS credentials");

    const regionless = makeProject({ "twelve.config.ts": fs.readFileSync(path.join(dir, "twelve.config.ts"), "utf8").replace('region: "eu-west-1", ', "") });
    fs.cpSync(path.join(dir, "examples"), path.join(regionless, "examples"), { recursive: true });
    try {
      const region = await runTwelve(["deploy", "--stage", "other"], { cwd: regionless, env: { ...env, AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined } });
      expect(region.code).toBe(2);
      expect(region.stderr).toContain("no AWS region: set aws.region in twelve.config.ts, or AWS_REGION");
    } finally {
      removeProject(regionless);
    }
  });

  it("scale changes only the caps, checks ranges before any call, and says the config differs", async () => {
    const result = await twelve("scale", "mailer=20", "web=100", "--stage", "ci");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("mailer: 5 → 20");
    expect(result.stdout).toContain("web: 50 → 100");
    expect(result.stdout).toContain("twelve.config.ts still says mailer concurrency 5: the next deploy sets it back");
    const ps = JSON.parse((await twelve("ps", "--stage", "ci", "--json")).stdout) as { processes: { process: string; cap: number | null; state: string; url: string | null; queueDepth: number | null }[] };
    expect(ps.processes.map((p) => [p.process, p.cap])).toEqual([["web", 100], ["mailer", 20], ["nightly", 1]]);

    const bad = await twelve("scale", "mailer=1", "web=100", "--stage", "ci");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("mailer=1: expected 2..1000 on aws");
    const clock = await twelve("scale", "nightly=2", "--stage", "ci");
    expect(clock.code).toBe(2);
    expect(clock.stderr).toContain("clocks run one at a time");
    // The plan now shows the caps as the only difference from the formation.
    const plan = JSON.parse((await twelve("plan", "--stage", "ci", "--json")).stdout) as { changes: { kind: string; name: string; fields: { field: string }[] }[] };
    expect(plan.changes.map((c) => `${c.kind} ${c.name} ${c.fields.map((f) => f.field).join()}`).sort()).toEqual(["function shop-ci-web reservedConcurrency", "mapping shop-ci-mailer maximumConcurrency"]);
    expect((await twelve("deploy", "--stage", "ci")).code).toBe(0);
  });

  it("ps shows each process deployed, with its state and URL or queue depth", async () => {
    const result = await twelve("ps", "--stage", "ci");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^web\s+web\s+shop-ci-web\s+50\s+Active\s+\S+\s+https:\/\//m);
    expect(result.stdout).toMatch(/^mailer\s+worker\s+shop-ci-mailer\s+5\s+Active\s+\S+\s+0 waiting/m);
    expect(result.stdout).toMatch(/^nightly\s+clock\s+shop-ci-nightly\s+1\s+Active/m);
  });

  it("run --stage sends a message to the deployed worker's queue and invokes a clock", async () => {
    const sent = await twelve("run", "mailer", '{"kind":"daily-digest","date":"2026-01-01"}', "--stage", "ci");
    expect(sent.code).toBe(0);
    // (moto's event source mapping consumes it at once, so the queue's depth cannot show it.)
    expect(sent.stdout).toMatch(/^sent one message to mailer \(ci, id [0-9a-f-]{36}\)/);
    const web = await twelve("run", "web", "--stage", "ci");
    expect(web.code).toBe(2);
    expect(web.stderr).toContain('"web" is a web process');
    const fired = await twelve("run", "nightly", "--stage", "ci");
    expect(fired.code).toBe(0);
    expect(fired.stdout).toContain("fired nightly (ci)");
  });

  it("logs prints the processes' CloudWatch logs in time order, prefixed by process", async () => {
    // The log groups are the deploy's own (each function's, with a retention); the streams are as Lambda writes them.
    const { CloudWatchLogsClient, CreateLogStreamCommand, PutLogEventsCommand } = await import("@aws-sdk/client-cloudwatch-logs");
    const client = new CloudWatchLogsClient(motoClientConfig(moto.endpoint));
    const now = Date.now();
    for (const [fn, offset, message] of [["shop-ci-web", 0, "GET /orders 202"], ["shop-ci-mailer", 1000, "sent order mail"]] as const) {
      await client.send(new CreateLogStreamCommand({ logGroupName: `/aws/lambda/${fn}`, logStreamName: "s" }));
      await client.send(new PutLogEventsCommand({ logGroupName: `/aws/lambda/${fn}`, logStreamName: "s", logEvents: [{ timestamp: now - 5000 + offset, message }] }));
    }
    const result = await twelve("logs", "--stage", "ci");
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n").filter((l) => l.includes(" | "));
    expect(lines.map((l) => l.replace(/^\S+ /, ""))).toEqual(["web     | GET /orders 202", "mailer  | sent order mail"]);
    const one = await twelve("logs", "mailer", "--stage", "ci");
    expect(one.stdout).not.toContain("GET /orders");
  });

  it("destroy without --yes refuses where nobody can answer, and deletes nothing; with --yes it removes everything", async () => {
    const unasked = await twelve("destroy", "--stage", "ci");
    expect(unasked.code).toBe(2);
    expect(unasked.stderr).toContain("needs confirmation, and there is nobody to ask (CI is set)");
    expect(unasked.stderr).toContain("--yes");
    expect(JSON.parse((await twelve("plan", "--stage", "ci", "--json")).stdout).changes).toEqual([]);
    const result = await twelve("destroy", "--stage", "ci", "--yes");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Destroyed shop (ci).");
    const after = JSON.parse((await twelve("plan", "--stage", "ci", "--json")).stdout) as { changes: { action: string }[] };
    expect(after.changes.filter((c) => c.action !== "create")).toEqual([]);
    expect(after.changes).toHaveLength(16);
  });
});
