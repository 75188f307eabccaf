import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatPlan, planChanges } from "../../src/deploy/plan.ts";
import { awsPlanRules, desiredResources, type AwsResource, type FunctionResource, type QueueResource, type RoleResource } from "../../adapters/aws/resources.ts";
import { buildProject, shopProject, removeProject } from "../support/project.ts";

// What deploy would create for the repository's shop formation, and what plan says about it,
// without a cloud: both are pure functions.
describe("AWS resources and plan", () => {
  let dir: string;
  let resources: AwsResource[];
  const target = { account: "123456789012", region: "eu-west-1", stage: "dev", secrets: { MAIL_API_KEY: "s3cret" } };
  const find = <K extends AwsResource["kind"]>(kind: K, name: string) => resources.find((r) => r.kind === kind && r.name === name) as Extract<AwsResource, { kind: K }>;

  beforeAll(async () => {
    dir = shopProject();
    const { formation, manifest, outDir } = await buildProject(dir, "aws");
    resources = desiredResources(formation, manifest, outDir, target);
  });
  afterAll(() => removeProject(dir));

  it("asks for exactly the resources of the formation, named <app>-<stage>-<process>", () => {
    expect(resources.map((r) => `${r.kind} ${r.name}`)).toEqual([
      "schedule-group shop-dev",
      "role shop-dev-web",
      "log-group /aws/lambda/shop-dev-web",
      "function shop-dev-web",
      "role shop-dev-mailer",
      "log-group /aws/lambda/shop-dev-mailer",
      "queue shop-dev-mailer-dlq",
      "queue shop-dev-mailer",
      "function shop-dev-mailer",
      "mapping shop-dev-mailer",
      "role shop-dev-nightly",
      "log-group /aws/lambda/shop-dev-nightly",
      "queue shop-dev-nightly-dlq",
      "function shop-dev-nightly",
      "role shop-dev-nightly-sched",
      "schedule shop-dev-nightly",
    ]);
  });

  it("sets caps, queue settings and the schedule as the formation says", () => {
    expect(find("function", "shop-dev-web")).toMatchObject({ url: true, reservedConcurrency: 50, memory: 512, timeout: 30, architecture: "arm64", runtime: "nodejs22.x" });
    expect(find("function", "shop-dev-nightly").reservedConcurrency).toBe(1);
    expect(find("function", "shop-dev-mailer")).toMatchObject({ url: false, reservedConcurrency: null, timeout: 60 });
    expect(find("mapping", "shop-dev-mailer")).toMatchObject({ batchSize: 10, maximumConcurrency: 5, batchingWindowSeconds: 0, reportBatchItemFailures: true, queue: "arn:aws:sqs:eu-west-1:123456789012:shop-dev-mailer" });
    const queue = find("queue", "shop-dev-mailer") as QueueResource;
    expect(queue.attributes.VisibilityTimeout).toBe("360");
    expect(JSON.parse(queue.attributes.RedrivePolicy!)).toEqual({ deadLetterTargetArn: "arn:aws:sqs:eu-west-1:123456789012:shop-dev-mailer-dlq", maxReceiveCount: 4 });
    expect(find("schedule", "shop-dev-nightly")).toMatchObject({
      group: "shop-dev",
      expression: "cron(0 3 * * ? *)",
      timezone: "Europe/Berlin",
      function: "arn:aws:lambda:eu-west-1:123456789012:function:shop-dev-nightly",
      role: "arn:aws:iam::123456789012:role/shop-dev-nightly-sched",
      deadLetterQueue: "arn:aws:sqs:eu-west-1:123456789012:shop-dev-nightly-dlq",
    });
    expect(find("function", "shop-dev-web").tags).toEqual({ "twelve:app": "shop", "twelve:stage": "dev", "twelve:process": "web" });
  });

  it("gives each role only what its process needs", () => {
    const actions = (role: string) => (find("role", role) as RoleResource).policy.Statement.map((s) => `${s.Action.join("+")} on ${s.Resource.join(",")}`);
    const mailerQueue = "arn:aws:sqs:eu-west-1:123456789012:shop-dev-mailer";
    expect(actions("shop-dev-web")).toEqual([
      "logs:CreateLogGroup+logs:CreateLogStream+logs:PutLogEvents on arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/shop-dev-web:*",
      `sqs:SendMessage on ${mailerQueue}`,
    ]);
    expect(actions("shop-dev-mailer")[1]).toBe(`sqs:ChangeMessageVisibility+sqs:DeleteMessage+sqs:GetQueueAttributes+sqs:ReceiveMessage on ${mailerQueue}`);
    // It may send only to its own dead-letter queue (a message that fails for good, with its error), to no worker's queue.
    expect(actions("shop-dev-mailer").filter((a) => a.startsWith("sqs:SendMessage"))).toEqual([`sqs:SendMessage on ${mailerQueue}-dlq`]);
    expect(actions("shop-dev-nightly-sched")).toEqual([
      "lambda:InvokeFunction on arn:aws:lambda:eu-west-1:123456789012:function:shop-dev-nightly",
      "sqs:SendMessage on arn:aws:sqs:eu-west-1:123456789012:shop-dev-nightly-dlq",
    ]);
    expect((find("role", "shop-dev-nightly-sched") as RoleResource).service).toBe("scheduler.amazonaws.com");
  });

  it("puts variables, secrets and the queue URLs send() needs in the function's environment", () => {
    const env = (find("function", "shop-dev-web") as FunctionResource).environment;
    expect(env).toMatchObject({ LOG_LEVEL: "info", MAIL_API_KEY: "s3cret", TWELVE_QUEUE_MAILER: "https://sqs.eu-west-1.amazonaws.com/123456789012/shop-dev-mailer" });
  });

  it("a first deploy creates everything; the same state again changes nothing", () => {
    const first = planChanges(resources, [], { ...awsPlanRules, secrets: ["MAIL_API_KEY"] });
    expect(first.changes.every((c) => c.action === "create")).toBe(true);
    expect(formatPlan(first).at(-1)).toBe("16 to create, 0 to update, 0 to delete, 0 unchanged.");
    const again = planChanges(resources, structuredClone(resources), { ...awsPlanRules, secrets: ["MAIL_API_KEY"] });
    expect(again).toEqual({ changes: [], unchanged: 16 });
  });

  it("names the fields that change, hides secret values, and ignores what AWS cannot read back", () => {
    const deployed = structuredClone(resources).map((r) => {
      if (r.kind === "function" && r.name === "shop-dev-mailer") return { ...r, codeSha256: "old", memory: 256, environment: { ...r.environment, MAIL_API_KEY: "old-secret" }, tags: undefined };
      if (r.kind === "role") return { ...r, policy: { ...r.policy, Statement: r.policy.Statement.map((s) => ({ Resource: s.Resource, Action: s.Action, Effect: s.Effect })) } };
      return r;
    }) as AwsResource[];
    const plan = planChanges(resources, deployed, { ...awsPlanRules, secrets: ["MAIL_API_KEY"] });
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]).toMatchObject({ action: "update", kind: "function", name: "shop-dev-mailer" });
    expect(formatPlan(plan)[0]).toBe("  ~ function shop-dev-mailer: memory 256 → 512, environment.MAIL_API_KEY (secret) → (secret), code");
  });

  it("deletes what the formation no longer has, but keeps a queue still holding messages unless forced", () => {
    const extra: AwsResource[] = [
      { kind: "queue", name: "shop-dev-old", attributes: { VisibilityTimeout: "30", MessageRetentionPeriod: "345600" }, tags: {}, messages: 12 },
      { kind: "queue", name: "shop-dev-old-dlq", attributes: { VisibilityTimeout: "30", MessageRetentionPeriod: "345600" }, tags: {} },
    ];
    const plan = planChanges(resources, [...structuredClone(resources), ...extra], { ...awsPlanRules, secrets: [] });
    expect(formatPlan(plan)).toEqual([
      "  - queue shop-dev-old (kept: it holds 12 messages; deploy --force deletes it)",
      "  - queue shop-dev-old-dlq",
      "0 to create, 0 to update, 1 to delete, 1 kept, 16 unchanged.",
    ]);
    const forced = planChanges(resources, [...structuredClone(resources), ...extra], { ...awsPlanRules, secrets: [], force: true });
    expect(forced.changes.filter((c) => c.action === "delete" && !c.keptBecause)).toHaveLength(2);
  });
});

describe("AWS resources: what real AWS needs beyond moto", () => {
  let dir: string;
  let built: Awaited<ReturnType<typeof buildProject>>;
  const desired = (target: Partial<{ account: string; region: string; stage: string }> = {}, manifest = built.manifest) =>
    desiredResources(built.formation, manifest, built.outDir, { account: "123456789012", region: "eu-west-1", stage: "dev", secrets: {}, ...target });
  const fn = (resources: AwsResource[], name: string) => resources.find((r) => r.kind === "function" && r.name === name) as FunctionResource;

  beforeAll(async () => {
    dir = shopProject();
    built = await buildProject(dir, "aws");
  });
  afterAll(() => removeProject(dir));

  it("builds ARNs and queue URLs in the partition of the region (China, GovCloud)", () => {
    const china = desired({ region: "cn-north-1" });
    expect(fn(china, "shop-dev-web").environment.TWELVE_QUEUE_MAILER).toBe("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/shop-dev-mailer");
    expect(fn(china, "shop-dev-web").role).toBe("arn:aws-cn:iam::123456789012:role/shop-dev-web");
    expect(china.find((r) => r.kind === "mapping")).toMatchObject({ queue: "arn:aws-cn:sqs:cn-north-1:123456789012:shop-dev-mailer" });
    expect(china.find((r) => r.kind === "schedule")).toMatchObject({ function: "arn:aws-cn:lambda:cn-north-1:123456789012:function:shop-dev-nightly" });
    const gov = desired({ region: "us-gov-west-1" });
    expect(fn(gov, "shop-dev-web").environment.TWELVE_QUEUE_MAILER).toBe("https://sqs.us-gov-west-1.amazonaws.com/123456789012/shop-dev-mailer");
    expect((gov.find((r) => r.kind === "role" && r.name === "shop-dev-web") as RoleResource).policy.Statement[0]?.Resource).toEqual(["arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:/aws/lambda/shop-dev-web:*"]);
    expect(() => desired({ region: "us-iso-east-1" })).toThrow(/isolated partition, which twelve does not deploy to/);
  });

  it("gives every function a log group with the formation's retention, tagged like the rest", () => {
    expect(desired().find((r) => r.kind === "log-group" && r.name === "/aws/lambda/shop-dev-mailer")).toEqual({
      kind: "log-group",
      name: "/aws/lambda/shop-dev-mailer",
      retentionDays: 30,
      tags: { "twelve:app": "shop", "twelve:stage": "dev", "twelve:process": "mailer" },
    });
  });

  it("makes the Function URL in the build's invoke mode (BUFFERED without one), and updates it in place", () => {
    expect(fn(desired(), "shop-dev-web").invokeMode).toBe(built.manifest.processes.find((p) => p.name === "web")?.platform.invokeMode ?? "BUFFERED");
    const withMode = (mode: string | undefined) => ({ ...built.manifest, processes: built.manifest.processes.map((p) => (p.name === "web" ? { ...p, platform: { ...p.platform, invokeMode: mode } } : p)) });
    const streaming = desired({}, withMode("RESPONSE_STREAM"));
    expect(fn(streaming, "shop-dev-web").invokeMode).toBe("RESPONSE_STREAM");
    expect(fn(desired({}, withMode(undefined)), "shop-dev-web").invokeMode).toBe("BUFFERED");
    expect(fn(streaming, "shop-dev-mailer").invokeMode).toBeNull();
    const deployed = structuredClone(streaming).map((r) => (r.kind === "function" && r.name === "shop-dev-web" ? { ...r, invokeMode: "BUFFERED" as const } : r));
    const plan = planChanges(streaming, deployed, { ...awsPlanRules, secrets: [] });
    expect(formatPlan(plan)[0]).toBe("  ~ function shop-dev-web: invokeMode BUFFERED → RESPONSE_STREAM");
  });

  it("leaves Lambda's recursive loop detection on, and plan does not compare it where the endpoint cannot tell", () => {
    expect(fn(desired(), "shop-dev-mailer").recursiveLoop).toBe("Terminate");
    const standIn = structuredClone(desired()).map((r) => (r.kind === "function" ? { ...r, recursiveLoop: undefined } : r));
    expect(planChanges(desired(), standIn, { ...awsPlanRules, secrets: [] }).changes).toEqual([]);
  });
});
