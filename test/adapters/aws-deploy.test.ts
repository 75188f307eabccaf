import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsDeployment } from "../../adapters/aws/deploy.ts";
import { buildFormation } from "../../src/build/build.ts";
import { loadConfig } from "../../src/config/load.ts";
import { awsTestEnv, startMoto, type MotoServer } from "../support/moto.ts";
import { shopProject, removeProject } from "../support/project.ts";

// The AWS deployer against moto_server: what it creates, read back through the SDK, and that
// a second deploy changes nothing. moto checks no ranges; twelve's own checks are tested in
// test/e2e/config-errors.test.ts.
describe("deploy to AWS (moto_server)", () => {
  let moto: MotoServer;
  let dir: string;
  const saved = { ...process.env };

  const deployment = async (stage = "test") => {
    const { formation } = await loadConfig({ cwd: dir, target: "aws" });
    const { manifest, outDir } = await buildFormation(formation, { stage });
    return awsDeployment(formation, manifest, outDir, stage, { ...process.env, MAIL_API_KEY: "k" });
  };
  const deploy = async () => {
    const d = await deployment();
    const plan = await d.apply({}, () => {});
    return { plan, count: d.clients.count };
  };

  beforeAll(async () => {
    moto = await startMoto();
    Object.assign(process.env, awsTestEnv(moto.endpoint));
    dir = shopProject();
  });
  afterAll(async () => {
    process.env = saved;
    await moto?.stop();
    removeProject(dir);
  });

  it("a first deploy creates exactly the formation's resources, with its settings", async () => {
    const { plan } = await deploy();
    expect(plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toHaveLength(13);
    expect(plan.changes.every((c) => c.action === "create")).toBe(true);

    const d = await deployment();
    const { lambda, sqs, scheduler, sdk } = d.clients;
    const web = await lambda.send(new sdk.lambda.GetFunctionCommand({ FunctionName: "shop-test-web" }));
    expect(web.Configuration).toMatchObject({ Runtime: "nodejs22.x", Handler: "index.handler", MemorySize: 512, Timeout: 30 });
    expect(web.Concurrency?.ReservedConcurrentExecutions).toBe(50);
    expect(web.Configuration?.Environment?.Variables).toMatchObject({ MAIL_API_KEY: "k", TWELVE_QUEUE_MAILER: expect.stringContaining("/shop-test-mailer") });
    expect((await lambda.send(new sdk.lambda.GetFunctionUrlConfigCommand({ FunctionName: "shop-test-web" }))).AuthType).toBe("NONE");
    const policy = JSON.parse((await lambda.send(new sdk.lambda.GetPolicyCommand({ FunctionName: "shop-test-web" }))).Policy ?? "{}") as { Statement: { Sid: string; Action: string }[] };
    expect(policy.Statement.map((s) => `${s.Sid} ${s.Action}`).sort()).toEqual(["twelve-url lambda:InvokeFunctionUrl", "twelve-url-invoke lambda:InvokeFunction"]);

    const [mapping] = (await lambda.send(new sdk.lambda.ListEventSourceMappingsCommand({ FunctionName: "shop-test-mailer" }))).EventSourceMappings ?? [];
    expect(mapping).toMatchObject({ BatchSize: 10, ScalingConfig: { MaximumConcurrency: 5 }, FunctionResponseTypes: ["ReportBatchItemFailures"] });
    const queueUrl = (await sqs.send(new sdk.sqs.GetQueueUrlCommand({ QueueName: "shop-test-mailer" }))).QueueUrl;
    const attributes = (await sqs.send(new sdk.sqs.GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }))).Attributes ?? {};
    expect(attributes.VisibilityTimeout).toBe("360");
    expect(JSON.parse(attributes.RedrivePolicy ?? "{}")).toMatchObject({ maxReceiveCount: 4, deadLetterTargetArn: expect.stringContaining(":shop-test-mailer-dlq") });
    expect((await sqs.send(new sdk.sqs.ListQueueTagsCommand({ QueueUrl: queueUrl }))).Tags).toEqual({ "twelve:app": "shop", "twelve:stage": "test", "twelve:process": "mailer" });
    const schedule = await scheduler.send(new sdk.scheduler.GetScheduleCommand({ Name: "shop-test-nightly", GroupName: "shop-test" }));
    expect(schedule).toMatchObject({ ScheduleExpression: "cron(0 3 * * ? *)", ScheduleExpressionTimezone: "Europe/Berlin" });
    expect(schedule.Target?.DeadLetterConfig?.Arn).toContain(":shop-test-nightly-dlq");
    expect((await lambda.send(new sdk.lambda.GetFunctionCommand({ FunctionName: "shop-test-nightly" }))).Concurrency?.ReservedConcurrentExecutions).toBe(1);
  });

  it("a second deploy with nothing changed makes no mutating call, only reads", async () => {
    const { plan, count } = await deploy();
    expect(plan.changes).toEqual([]);
    expect(plan.unchanged).toBe(13);
    expect(count.writes).toBe(0);
    expect(count.reads).toBeGreaterThan(0);
  });

  it("a code change in one process updates only that function's code", async () => {
    const file = path.join(dir, "examples/shop/src/mailer.ts");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("digest for", "the digest for"));
    const { plan, count } = await deploy();
    expect(plan.changes.map((c) => [c.action, c.kind, c.name, c.action === "update" ? c.fields.map((f) => f.field) : []])).toEqual([["update", "function", "shop-test-mailer", ["code"]]]);
    expect(count.byOperation.UpdateFunctionCode).toBe(1);
    expect(count.byOperation.UpdateFunctionConfiguration).toBeUndefined();
    expect((await deploy()).plan.changes).toEqual([]);
  });

  it("a deploy interrupted at any step converges when run again, with no duplicate resource", async () => {
    const probe = await deployment("probe");
    await probe.apply({}, () => {});
    // The lock's two calls (create, delete) are not steps of the deploy.
    const steps = probe.clients.count.writes - 2;
    expect(steps).toBeGreaterThan(10);
    for (let n = 1; n < steps; n++) {
      const stage = `cut${n}`;
      const first = await deployment(stage);
      // Every mutating call from the n-th on fails, as if the process died there.
      let writes = 0;
      for (const client of [first.clients.lambda, first.clients.sqs, first.clients.iam, first.clients.scheduler, first.clients.logs]) {
        (client.middlewareStack as unknown as { add(mw: unknown, o: unknown): void }).add(
          (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
            const lock = JSON.stringify(args).includes("-twelve-lock");
            if (!lock && !/^(Get|List|Describe)/.test(context.commandName ?? "") && ++writes >= n) throw new Error(`killed at step ${n}`);
            return next(args);
          },
          { step: "initialize", name: "killer" },
        );
      }
      await expect(first.apply({}, () => {})).rejects.toThrow();
      const second = await deployment(stage);
      await second.apply({}, () => {});
      const third = await deployment(stage);
      expect(third.plan().changes, `after a cut at step ${n}`).toEqual([]);
      const { lambda, sdk } = third.clients;
      const mappings = await lambda.send(new sdk.lambda.ListEventSourceMappingsCommand({ FunctionName: `shop-${stage}-mailer` }));
      expect(mappings.EventSourceMappings, `mappings after a cut at step ${n}`).toHaveLength(1);
      const policy = JSON.parse((await lambda.send(new sdk.lambda.GetPolicyCommand({ FunctionName: `shop-${stage}-web` }))).Policy ?? "{}") as { Statement: unknown[] };
      expect(policy.Statement, `URL permissions after a cut at step ${n}`).toHaveLength(2);
    }
  }, 120_000);

  it("two deploys of a stage at once: one applies, the other stops before any change", async () => {
    const [a, b] = await Promise.all([deployment("race"), deployment("race")]);
    const results = await Promise.allSettled([a.apply({}, () => {}), b.apply({}, () => {})]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(String(failed[0]!.reason.message)).toMatch(/^another deploy of shop \(race\) is running \(.+ pid \d+, since /);
    expect((await deployment("race")).plan().changes).toEqual([]);
  });

  it("a lock left by a deploy whose process died is taken over, and said so", async () => {
    const d = await deployment("dead");
    const { iam, sdk } = d.clients;
    await iam.send(new sdk.iam.CreateRoleCommand({
      RoleName: "shop-dead-twelve-lock",
      AssumeRolePolicyDocument: "{}",
      Tags: [{ Key: "twelve:host", Value: (await import("node:os")).hostname() }, { Key: "twelve:pid", Value: "999999" }, { Key: "twelve:holder", Value: "someone pid 999999" }],
    }));
    const lines: string[] = [];
    await d.apply({}, (line) => lines.push(line));
    expect(lines[0]).toMatch(/^note: taking over the lock of a deploy that started at .* and did not finish \(someone pid 999999\)$/);
    expect((await deployment("dead")).plan().changes).toEqual([]);
  });

  it("removing a process removes its resources; destroy leaves nothing", async () => {
    const config = path.join(dir, "twelve.config.ts");
    fs.writeFileSync(config, fs.readFileSync(config, "utf8").replace(/\n\s*nightly: \{[^}]*\},/, ""));
    const { plan } = await deploy();
    expect(plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`).sort()).toEqual([
      "delete function shop-test-nightly",
      "delete queue shop-test-nightly-dlq",
      "delete role shop-test-nightly",
      "delete role shop-test-nightly-sched",
      "delete schedule shop-test-nightly",
      "delete schedule-group shop-test",
    ]);

    const d = await deployment();
    await d.apply({ destroy: true }, () => {});
    const after = await deployment();
    expect(after.deployed.resources).toEqual([]);
  });
});
