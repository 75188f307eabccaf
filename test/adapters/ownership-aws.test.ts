import fs from "node:fs";
import path from "node:path";
import { CloudWatchLogsClient, CreateLogGroupCommand, DeleteLogGroupCommand, DescribeLogGroupsCommand, ListTagsForResourceCommand } from "@aws-sdk/client-cloudwatch-logs";
import { CreateRoleCommand, DeleteRoleCommand, GetRolePolicyCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateFunctionCommand, GetFunctionConfigurationCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetScheduleGroupCommand, ListTagsForResourceCommand as ListSchedulerTagsCommand, CreateScheduleGroupCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ListQueueTagsCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { adapters } from "../../adapters/index.ts";
import { openDeployment } from "../../src/deploy/stage.ts";
import { startAwsProxy, type AwsProxy } from "../support/aws-proxy.ts";
import { awsTestEnv, motoClientConfig, startMoto, type MotoServer } from "../support/moto.ts";
import { ownershipApp } from "../support/ownership-apps.ts";
import { removeProject } from "../support/project.ts";

// Two apps whose resource names meet (app "own-b" stage "c" and app "own" stage "b" with
// processes "c-*" both make own-b-c-web, ...), and resources of another app where a deploy wants
// to create its own, against moto: whose a resource is comes from its tags, never its name.
describe("AWS: a deploy never takes, changes or deletes another app's resources", () => {
  let moto: MotoServer;
  let proxy: AwsProxy;
  const dirs: string[] = [];
  const aws = () => motoClientConfig(moto.endpoint);
  const open = async (dir: string, stage: string) => (await openDeployment({ cwd: dir, stage, target: "aws", adapters, env: { ...process.env, ...awsTestEnv(proxy.endpoint) } })).deployment;
  const app = (name: string, prefix = "") => {
    const dir = ownershipApp(name, prefix);
    dirs.push(dir);
    return dir;
  };
  const other = { "twelve:app": "someone", "twelve:stage": "else" };

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startAwsProxy(moto.endpoint);
  });
  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
    for (const dir of dirs) removeProject(dir);
  });
  afterEach(() => expect(proxy.violations).toEqual([]));

  it("app own-b stage c and app own stage b with processes c-*: the second's deploy is refused, its destroy leaves the first as it was", async () => {
    const first = app("own-b");
    const second = app("own", "c-");
    await (await open(first, "c")).apply({}, () => {});

    const plan = (await open(second, "b")).plan();
    // Nothing of the first's is read as the second's: its plan only creates its own.
    expect(plan.changes.filter((c) => c.action !== "create")).toEqual([]);
    await expect((await open(second, "b")).apply({}, () => {})).rejects.toThrow(/create (role|queue) own-b-c-[a-z-]+ failed.*: the (IAM role|SQS queue) own-b-c-[a-z-]+ already exists and is app "own-b" stage "c"'s, not app "own" stage "b"'s/s);

    await (await open(second, "b")).apply({ destroy: true }, () => {});
    expect((await open(second, "b")).plan({ destroy: true }).changes).toEqual([]);
    // The first is intact and still converged: its roles' policies, queues' tags and schedule group included.
    expect((await open(first, "c")).plan().changes).toEqual([]);
    const sqs = new SQSClient(aws());
    const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: "own-b-c-jobs-dlq" }))).QueueUrl;
    expect((await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags).toMatchObject({ "twelve:app": "own-b", "twelve:stage": "c" });
    expect(await new SchedulerClient(aws()).send(new GetScheduleGroupCommand({ Name: "own-b-c" }))).toMatchObject({ Name: "own-b-c" });
  }, 60_000);

  it("roles, queues and the schedule group of another app's where this stage's would be: refused, left as they were", async () => {
    const dir = app("solo");
    const iam = new IAMClient(aws());
    const sqs = new SQSClient(aws());
    const scheduler = new SchedulerClient(aws());
    const trust = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] });
    await iam.send(new CreateRoleCommand({ RoleName: "solo-x-web", AssumeRolePolicyDocument: trust, Tags: Object.entries(other).map(([Key, Value]) => ({ Key, Value })) }));
    // Same attributes as twelve's dead-letter queue: CreateQueue would answer with this queue.
    const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: "solo-x-jobs-dlq", Attributes: { VisibilityTimeout: "30", MessageRetentionPeriod: String(14 * 24 * 3600) }, tags: other }))).QueueUrl;
    // Untagged: not twelve's (moto would replace it, and its schedules, on a CreateScheduleGroup).
    await scheduler.send(new CreateScheduleGroupCommand({ Name: "solo-x" }));

    const error = (await (await open(dir, "x")).apply({}, () => {}).catch((e: unknown) => e)) as Error & { hint?: string };
    // The first failure is told in full (whichever it is), the others by name.
    expect(error.message).toMatch(/already exists and is (app "someone" stage "else"'s|not twelve's \(it has no twelve:app and twelve:stage tags\)), not app "solo" stage "x"'s: twelve leaves it as it is/);
    for (const name of ["role solo-x-web", "queue solo-x-jobs-dlq", "schedule-group solo-x"]) expect(error.message).toContain(name);
    expect(error.hint).toMatch(/Rename the process, the app or the stage/);

    await expect(iam.send(new GetRolePolicyCommand({ RoleName: "solo-x-web", PolicyName: "twelve" }))).rejects.toThrow();
    expect((await sqs.send(new ListQueueTagsCommand({ QueueUrl: dlq }))).Tags).toEqual(other);
    const group = await scheduler.send(new GetScheduleGroupCommand({ Name: "solo-x" }));
    expect((await scheduler.send(new ListSchedulerTagsCommand({ ResourceArn: group.Arn }))).Tags ?? []).toEqual([]);
    // What the deploy did make is its own, and its destroy takes only that.
    await (await open(dir, "x")).apply({ destroy: true }, () => {});
    expect((await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ["All"] }))).Attributes).toBeDefined();
    expect(await iam.send(new GetRolePolicyCommand({ RoleName: "solo-x-jobs", PolicyName: "twelve" })).catch((e: Error) => e.name)).toBe("NoSuchEntityException");
  }, 60_000);

  it("another app's log group, function and deploy lock where this stage's would be: refused, left as they were", async () => {
    const dir = app("lone");
    const iam = new IAMClient(aws());
    const logs = new CloudWatchLogsClient(aws());
    const lambda = new LambdaClient(aws());
    const tags = Object.entries(other).map(([Key, Value]) => ({ Key, Value }));

    await logs.send(new CreateLogGroupCommand({ logGroupName: "/aws/lambda/lone-x-jobs", tags: other }));
    await expect((await open(dir, "x")).apply({}, () => {})).rejects.toThrow(/the CloudWatch log group \/aws\/lambda\/lone-x-jobs already exists and is app "someone" stage "else"'s/);
    const [group] = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/aws/lambda/lone-x-jobs" }))).logGroups ?? [];
    expect(group?.retentionInDays).toBeUndefined();
    expect((await logs.send(new ListTagsForResourceCommand({ resourceArn: group?.logGroupArn }))).tags).toEqual(other);
    await logs.send(new DeleteLogGroupCommand({ logGroupName: "/aws/lambda/lone-x-jobs" }));

    // A function of another app's, with the code of one built by the deploy above.
    const zip = findFile(path.join(dir, ".twelve"), "function.zip");
    const role = await iam.send(new CreateRoleCommand({ RoleName: "someone-else-fn", AssumeRolePolicyDocument: "{}", Tags: tags }));
    await lambda.send(new CreateFunctionCommand({ FunctionName: "lone-x-tick", Role: role.Role?.Arn, Runtime: "nodejs22.x", Handler: "index.handler", Code: { ZipFile: fs.readFileSync(zip) }, Environment: { Variables: { TWELVE_APP: "someone", TWELVE_STAGE: "else" } } }));
    await expect((await open(dir, "x")).apply({}, () => {})).rejects.toThrow(/the Lambda function lone-x-tick already exists and is app "someone" stage "else"'s/);
    expect((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "lone-x-tick" }))).Environment?.Variables).toEqual({ TWELVE_APP: "someone", TWELVE_STAGE: "else" });

    // A role of another app's with the name of this stage's lock: not a lock, never removed as one.
    await iam.send(new CreateRoleCommand({ RoleName: "lone-x-twelve-lock", AssumeRolePolicyDocument: "{}", Tags: tags }));
    await expect((await open(dir, "x")).apply({ destroy: true }, () => {})).rejects.toThrow(/the IAM role lone-x-twelve-lock \(this stage's deploy lock\) already exists and is app "someone" stage "else"'s/);
    await iam.send(new DeleteRoleCommand({ RoleName: "lone-x-twelve-lock" }));
    await (await open(dir, "x")).apply({ destroy: true }, () => {});
    expect((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "lone-x-tick" }))).FunctionName).toBe("lone-x-tick");
  }, 60_000);
});

function findFile(dir: string, name: string): string {
  const found = (fs.readdirSync(dir, { recursive: true }) as string[]).find((f) => path.basename(f) === name);
  if (!found) throw new Error(`no ${name} under ${dir}`);
  return path.join(dir, found);
}
