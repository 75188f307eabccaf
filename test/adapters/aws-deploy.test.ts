import fs from "node:fs";
import path from "node:path";
import { GetFunctionCommand, GetFunctionUrlConfigCommand, GetPolicyCommand, LambdaClient, ListEventSourceMappingsCommand } from "@aws-sdk/client-lambda";
import { GetQueueAttributesCommand, GetQueueUrlCommand, ListQueueTagsCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetScheduleCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand, ListTagsForResourceCommand } from "@aws-sdk/client-cloudwatch-logs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { adapters } from "../../adapters/index.ts";
import { openDeployment } from "../../src/deploy/stage.ts";
import { startAwsProxy, type AwsProxy } from "../support/aws-proxy.ts";
import { awsTestEnv, motoClientConfig, startMoto, type MotoServer } from "../support/moto.ts";
import { shopProject, removeProject } from "../support/project.ts";

// What only AWS's deployer has to show, against moto_server: the settings it creates, read back
// through the SDK; a code change uploads only that code; its lock's takeover of a dead deploy's
// lock. What every platform must do is in deploy-conformance.test.ts. moto checks no ranges;
// twelve's own checks are tested in test/e2e/config-errors.test.ts.
describe("deploy to AWS (moto_server)", () => {
  let moto: MotoServer;
  let proxy: AwsProxy;
  let dir: string;
  const aws = () => motoClientConfig(moto.endpoint);

  const deployment = async (stage = "test") =>
    (await openDeployment({ cwd: dir, stage, target: "aws", adapters, env: { ...process.env, ...awsTestEnv(proxy.endpoint), MAIL_API_KEY: "k" } })).deployment;
  /** A deploy, and the mutating calls it made. */
  const deploy = async () => {
    const from = proxy.calls.length;
    const plan = await (await deployment()).apply({}, () => {});
    const writes = proxy.calls.slice(from).filter((c) => c.write).map((c) => c.call);
    return { plan, writes };
  };

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startAwsProxy(moto.endpoint);
    dir = shopProject();
  });
  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
    removeProject(dir);
  });

  afterEach(() => {
    // Every request AWS would have refused, though moto took it (or the proxy refused it, and a read swallowed that).
    expect(proxy.violations).toEqual([]);
  });

  it("a first deploy creates exactly the formation's resources, with its settings", async () => {
    // Lambda makes a function's log group on its first log line (no retention, no tags): one left
    // from before is adopted, not an error.
    await new CloudWatchLogsClient(aws()).send(new CreateLogGroupCommand({ logGroupName: "/aws/lambda/shop-test-web" }));
    const { plan } = await deploy();
    expect(plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toHaveLength(16);
    expect(plan.changes.every((c) => c.action === "create")).toBe(true);

    const lambda = new LambdaClient(aws());
    const sqs = new SQSClient(aws());
    const scheduler = new SchedulerClient(aws());
    const web = await lambda.send(new GetFunctionCommand({ FunctionName: "shop-test-web" }));
    expect(web.Configuration).toMatchObject({ Runtime: "nodejs22.x", Handler: "index.handler", MemorySize: 512, Timeout: 30 });
    expect(web.Concurrency?.ReservedConcurrentExecutions).toBe(50);
    expect(web.Configuration?.Environment?.Variables).toMatchObject({ MAIL_API_KEY: "k", TWELVE_QUEUE_MAILER: expect.stringContaining("/shop-test-mailer") });
    expect(await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: "shop-test-web" }))).toMatchObject({ AuthType: "NONE", InvokeMode: "RESPONSE_STREAM" });
    const logs = new CloudWatchLogsClient(aws());
    const groups = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/aws/lambda/shop-test-" }))).logGroups ?? [];
    expect(groups.map((g) => `${g.logGroupName} ${g.retentionInDays}`)).toEqual(["/aws/lambda/shop-test-mailer 30", "/aws/lambda/shop-test-nightly 30", "/aws/lambda/shop-test-web 30"]);
    for (const g of groups) expect((await logs.send(new ListTagsForResourceCommand({ resourceArn: g.logGroupArn }))).tags).toMatchObject({ "twelve:app": "shop", "twelve:stage": "test" });
    const policy = JSON.parse((await lambda.send(new GetPolicyCommand({ FunctionName: "shop-test-web" }))).Policy ?? "{}") as { Statement: { Sid: string; Action: string }[] };
    expect(policy.Statement.map((s) => `${s.Sid} ${s.Action}`).sort()).toEqual(["twelve-url lambda:InvokeFunctionUrl", "twelve-url-invoke lambda:InvokeFunction"]);

    const [mapping] = (await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: "shop-test-mailer" }))).EventSourceMappings ?? [];
    expect(mapping).toMatchObject({ BatchSize: 10, ScalingConfig: { MaximumConcurrency: 5 }, FunctionResponseTypes: ["ReportBatchItemFailures"] });
    const queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: "shop-test-mailer" }))).QueueUrl;
    const attributes = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }))).Attributes ?? {};
    expect(attributes.VisibilityTimeout).toBe("360");
    expect(JSON.parse(attributes.RedrivePolicy ?? "{}")).toMatchObject({ maxReceiveCount: 4, deadLetterTargetArn: expect.stringContaining(":shop-test-mailer-dlq") });
    expect((await sqs.send(new ListQueueTagsCommand({ QueueUrl: queueUrl }))).Tags).toEqual({ "twelve:app": "shop", "twelve:stage": "test", "twelve:process": "mailer" });
    const schedule = await scheduler.send(new GetScheduleCommand({ Name: "shop-test-nightly", GroupName: "shop-test" }));
    expect(schedule).toMatchObject({ ScheduleExpression: "cron(0 3 * * ? *)", ScheduleExpressionTimezone: "Europe/Berlin" });
    expect(schedule.Target?.DeadLetterConfig?.Arn).toContain(":shop-test-nightly-dlq");
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: "shop-test-nightly" }))).Concurrency?.ReservedConcurrentExecutions).toBe(1);
  });

  it("a code change in one process updates only that function's code", async () => {
    const file = path.join(dir, "examples/shop/src/mailer.ts");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("digest for", "the digest for"));
    const { plan, writes } = await deploy();
    expect(plan.changes.map((c) => [c.action, c.kind, c.name, c.action === "update" ? c.fields.map((f) => f.field) : []])).toEqual([["update", "function", "shop-test-mailer", ["code"]]]);
    // The lock (an IAM role), UpdateFunctionCode, and nothing else: no configuration, no other function.
    expect(writes).toEqual(["CreateRole", "PUT /2015-03-31/functions/shop-test-mailer/code", "DeleteRole"]);
    expect((await deploy()).plan.changes).toEqual([]);
  });

  it("a lock left by a deploy whose process died is taken over, and said so", async () => {
    const d = await deployment("dead");
    await new IAMClient(aws()).send(new CreateRoleCommand({
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
      "delete log-group /aws/lambda/shop-test-nightly",
      "delete queue shop-test-nightly-dlq",
      "delete role shop-test-nightly",
      "delete role shop-test-nightly-sched",
      "delete schedule shop-test-nightly",
      "delete schedule-group shop-test",
    ]);

    await (await deployment()).apply({ destroy: true }, () => {});
    expect((await deployment()).plan({ destroy: true }).changes).toEqual([]);
    expect((await new CloudWatchLogsClient(aws()).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/aws/lambda/shop-test-" }))).logGroups).toEqual([]);
  });
});
