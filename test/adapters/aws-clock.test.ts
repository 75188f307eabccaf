import http from "node:http";
import type { AddressInfo } from "node:net";
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { GetRolePolicyCommand, IAMClient } from "@aws-sdk/client-iam";
import { DeleteFunctionEventInvokeConfigCommand, GetFunctionEventInvokeConfigCommand, LambdaClient, PutFunctionEventInvokeConfigCommand } from "@aws-sdk/client-lambda";
import { GetScheduleCommand, SchedulerClient, UpdateScheduleCommand } from "@aws-sdk/client-scheduler";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { adapters } from "../../adapters/index.ts";
import { invokeRefusal, parseRunLine } from "../../adapters/aws/clock-runs.ts";
import { clockHandler } from "../../adapters/aws/runtime/clock.ts";
import type { ClockRunLine } from "../../adapters/aws/runtime/events.ts";
import { openDeployment, openStage } from "../../src/deploy/stage.ts";
import { TwelveError } from "../../src/errors.ts";
import type { ClockProcess } from "../../src/formation/types.ts";
import type { ProcessMeta, ScheduledController } from "../../src/runtime/types.ts";
import { startAwsProxy, type AwsProxy } from "../support/aws-proxy.ts";
import { runTwelve } from "../support/cli.ts";
import { awsTestEnv, motoClientConfig, startMoto, type MotoServer } from "../support/moto.ts";
import { removeProject, shopProject } from "../support/project.ts";

// A clock on AWS keeps the rule of every runtime: one run at a time, a run due while the
// previous one still goes is skipped (never run late), and its skip is kept with its time.
// Lambda throttles such a run (reserved concurrency 1); the function's event invoke config
// drops it within 60 s and sends its record to the clock's dead-letter queue; the Scheduler
// gives up as soon. moto stores these settings but fires no schedule and throttles nothing:
// what is tested is what twelve deploys, reads back and says.

const META: ProcessMeta = { app: "shop", process: "nightly", type: "clock", entry: "src/nightly.ts", workers: [], envKeys: [], schedule: "0 3 * * *", timezone: "Europe/Berlin" };

describe("the AWS clock wrapper", () => {
  /** The JSON lines the wrapper logged, as Lambda would have them (after its own prefix). */
  const runLines = (log: { mock: { calls: unknown[][] } }) =>
    log.mock.calls.map((args) => parseRunLine(`2026-03-02T02:00:00.123Z\tc0ffee\tINFO\t${String(args[0])}`)).filter((l): l is ClockRunLine => l !== undefined);

  it("runs with the Scheduler's time from the Input twelve gives the schedule, and logs one clock-run line", async () => {
    const seen: ScheduledController[] = [];
    const handler = clockHandler({ default: { scheduled: async (c: ScheduledController) => void seen.push(c) } }, META);
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      // The schedule's Input (resources/schedule.ts), <aws.scheduler.scheduled-time> filled in as the Scheduler does.
      const input = JSON.parse(JSON.stringify({ twelve: "scheduled", scheduledTime: "<aws.scheduler.scheduled-time>" }).replace("<aws.scheduler.scheduled-time>", "2026-03-02T02:00:00Z"));
      expect(await handler(input)).toEqual({ ok: true, scheduledTime: "2026-03-02T02:00:00.000Z" });
      expect(seen[0]).toMatchObject({ cron: "0 3 * * *", scheduledTime: Date.UTC(2026, 2, 2, 2) });
      const lines = runLines(log);
      expect(lines).toEqual([{ twelve: "clock-run", process: "nightly", scheduledTime: "2026-03-02T02:00:00.000Z", startedAt: expect.any(String), outcome: "ok", durationMs: expect.any(Number), detail: null }]);
    } finally {
      log.mockRestore();
    }
  });

  it("a failed run logs its error and fails the invocation (Lambda sends its record to the dead-letter queue); noRetry() only keeps it out of there", async () => {
    const boom = clockHandler({ default: { scheduled: async () => { throw new TypeError("no such table"); } } }, META);
    const quiet = clockHandler({ default: { scheduled: async (c: ScheduledController) => { c.noRetry(); throw new Error("gave up"); } } }, META);
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      await expect(boom({ twelve: "scheduled", scheduledTime: "2026-03-02T02:00:00Z" })).rejects.toThrow("no such table");
      await expect(quiet({ twelve: "scheduled" })).resolves.toMatchObject({ ok: true });
      expect(runLines(log).map((l) => [l.outcome, l.detail])).toEqual([["failed", "TypeError: no such table"], ["failed", "Error: gave up"]]);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  });

  it("reads a clock-run line only from the first { of a log message, and nothing else", () => {
    expect(parseRunLine('2026-03-02T02:00:01Z\tid\tINFO\t{"twelve":"clock-run","process":"nightly","scheduledTime":"2026-03-02T02:00:00.000Z","startedAt":"x","outcome":"ok","durationMs":12,"detail":null}')).toMatchObject({ outcome: "ok", durationMs: 12 });
    expect(parseRunLine("the clock-run went fine")).toBeUndefined();
    expect(parseRunLine('INFO {"twelve":"clock-run","outcome":"maybe","scheduledTime":"x"}')).toBeUndefined();
    expect(parseRunLine('INFO {"twelve":"clock-run", broken')).toBeUndefined();
  });

  it("twelve run's refusal: the clock's reserved concurrency in use is a skip; other throttles and errors say what they are", () => {
    const throttled = (Reason?: string) => Object.assign(new Error("Rate Exceeded."), { name: "TooManyRequestsException", Reason });
    const skipped = invokeRefusal("nightly", "shop-dev-nightly", throttled("ReservedFunctionConcurrentInvocationLimitExceeded"));
    expect(skipped).toBeInstanceOf(TwelveError);
    expect(skipped).toMatchObject({ exitCode: 1, message: "nightly did not run: skipped: the previous run is still going (one run at a time)" });
    expect(invokeRefusal("nightly", "shop-dev-nightly", throttled("ConcurrentInvocationLimitExceeded")).message).toBe("nightly did not run: Lambda throttled it (ConcurrentInvocationLimitExceeded): Rate Exceeded.");
    const missing = invokeRefusal("nightly", "shop-dev-nightly", Object.assign(new Error("Function not found"), { name: "ResourceNotFoundException" }));
    expect(missing).toMatchObject({ message: "could not invoke shop-dev-nightly: Function not found", hint: "Run twelve deploy first." });
  });
});

describe("a deployed clock on AWS (moto_server)", () => {
  const STAGE = "clk";
  const FN = `shop-${STAGE}-nightly`;
  const DLQ_ARN = `arn:aws:sqs:eu-west-1:123456789012:${FN}-dlq`;
  let moto: MotoServer;
  let proxy: AwsProxy;
  let throttle: Awaited<ReturnType<typeof throttlingProxy>>;
  let dir: string;
  const aws = () => motoClientConfig(moto.endpoint);
  const env = (endpoint = proxy.endpoint) => ({ ...process.env, ...awsTestEnv(endpoint), MAIL_API_KEY: "k" });
  const deployment = async () => (await openDeployment({ cwd: dir, stage: STAGE, target: "aws", adapters, env: env() })).deployment;
  const changes = async () => (await deployment()).plan().changes.map((c) => (c.action === "update" ? `${c.action} ${c.kind} ${c.name}: ${c.fields.map((f) => f.field).join(", ")}` : `${c.action} ${c.kind} ${c.name}`));
  const eventInvokeConfig = (name: string) => new LambdaClient(aws()).send(new GetFunctionEventInvokeConfigCommand({ FunctionName: name }));

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startAwsProxy(moto.endpoint);
    throttle = await throttlingProxy(proxy.endpoint, `/2015-03-31/functions/${FN}/invocations`);
    dir = shopProject();
    await (await deployment()).apply({}, () => {});
  }, 120_000);
  afterAll(async () => {
    await throttle?.close();
    await proxy?.stop();
    await moto?.stop();
    removeProject(dir);
  });
  afterEach(() => {
    // Every request AWS would have refused, though moto took it.
    expect(proxy.violations).toEqual([]);
  });

  it("the clock's function drops a run it cannot start within 60 s, never retries it, and sends its record to the clock's dead-letter queue", async () => {
    expect(await eventInvokeConfig(FN)).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60, DestinationConfig: { OnFailure: { Destination: DLQ_ARN } } });
    // Only clocks: the web and worker functions keep Lambda's defaults (they are not invoked asynchronously).
    await expect(eventInvokeConfig(`shop-${STAGE}-web`)).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(eventInvokeConfig(`shop-${STAGE}-mailer`)).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    // Lambda sends that record as the function's role.
    const policy = JSON.parse(decodeURIComponent((await new IAMClient(aws()).send(new GetRolePolicyCommand({ RoleName: FN, PolicyName: "twelve" }))).PolicyDocument ?? "{}")) as { Statement: { Action: string[]; Resource: string[] }[] };
    expect(policy.Statement).toContainEqual({ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [DLQ_ARN] });
    // The Scheduler, which only sees whether Lambda took the event, gives up as soon.
    const schedule = await new SchedulerClient(aws()).send(new GetScheduleCommand({ Name: FN, GroupName: `shop-${STAGE}` }));
    expect(schedule.Target?.RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 });
    expect(schedule.FlexibleTimeWindow).toEqual({ Mode: "OFF" });
    expect(await changes()).toEqual([]);
  });

  it("plan shows a changed event invoke config or retry policy, and deploy puts them back", async () => {
    const lambda = new LambdaClient(aws());
    const scheduler = new SchedulerClient(aws());
    // Changed behind twelve's back (moto keeps the first config put: the old one goes first).
    await lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: FN }));
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: FN, MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21_600 }));
    const schedule = await scheduler.send(new GetScheduleCommand({ Name: FN, GroupName: `shop-${STAGE}` }));
    await scheduler.send(new UpdateScheduleCommand({
      Name: FN,
      GroupName: `shop-${STAGE}`,
      ScheduleExpression: schedule.ScheduleExpression,
      ScheduleExpressionTimezone: schedule.ScheduleExpressionTimezone,
      FlexibleTimeWindow: { Mode: "OFF" },
      Target: { ...schedule.Target!, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 } },
    }));
    expect(await changes()).toEqual([`update function ${FN}: asyncInvoke`, `update schedule ${FN}: maximumEventAgeSeconds`]);
    const plan = (await deployment()).plan();
    const fn = plan.changes.find((c) => c.kind === "function");
    expect(fn?.action === "update" && fn.fields[0]).toMatchObject({ from: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600, onFailure: null }, to: { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60, onFailure: DLQ_ARN } });

    await (await deployment()).apply({}, () => {});
    expect(await eventInvokeConfig(FN)).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60, DestinationConfig: { OnFailure: { Destination: DLQ_ARN } } });
    expect((await scheduler.send(new GetScheduleCommand({ Name: FN, GroupName: `shop-${STAGE}` }))).Target?.RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 });
    expect(await changes()).toEqual([]);

    // A config removed altogether (Lambda's defaults: 2 retries over 6 hours) is drift too.
    await lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: FN }));
    expect(await changes()).toEqual([`update function ${FN}: asyncInvoke`]);
    await (await deployment()).apply({}, () => {});
    expect(await changes()).toEqual([]);
  });

  it("ps gives a clock's last run from the newest clock-run line in its log", async () => {
    const { formation, deployed } = await openStage({ cwd: dir, stage: STAGE, target: "aws", adapters, env: env() });
    const nightly = () => deployed.ps().then((ps) => ({ row: ps.processes.find((p) => p.process === "nightly"), notes: ps.notes }));
    // Never ran: no log group yet.
    expect((await nightly()).row?.lastRun).toBeNull();
    expect((await nightly()).notes).toEqual([expect.stringContaining("nightly: no run in its log")]);

    const logs = new CloudWatchLogsClient(aws());
    const group = `/aws/lambda/${FN}`;
    await logs.send(new CreateLogGroupCommand({ logGroupName: group })).catch(() => undefined);
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: "2026/03/02/[$LATEST]abc" }));
    const now = Date.now();
    const line = (scheduledTime: string, outcome: "ok" | "failed", durationMs: number, detail: string | null) =>
      `2026-03-02T02:00:01.000Z\treq\tINFO\t${JSON.stringify({ twelve: "clock-run", process: "nightly", scheduledTime, startedAt: scheduledTime, outcome, durationMs, detail })}\n`;
    await logs.send(new PutLogEventsCommand({
      logGroupName: group,
      logStreamName: "2026/03/02/[$LATEST]abc",
      logEvents: [
        { timestamp: now - 3_000, message: line("2026-03-01T02:00:00.000Z", "ok", 1500, null) },
        { timestamp: now - 2_000, message: line("2026-03-02T02:00:00.000Z", "failed", 820, "TypeError: no such table") },
        // Not a run: the term alone, and an ordinary line of the process.
        { timestamp: now - 1_000, message: "2026-03-02T02:00:02.000Z\treq\tINFO\tthe clock-run is done" },
        { timestamp: now - 1_000, message: "2026-03-02T02:00:02.000Z\treq\tINFO\tcleaned 3 rows" },
      ],
    }));
    const { row, notes } = await nightly();
    expect(row?.lastRun).toEqual({ scheduledTime: "2026-03-02T02:00:00.000Z", outcome: "failed", durationMs: 820, detail: "TypeError: no such table" });
    expect(notes).toEqual([]);
    expect(formation.processes.some((p) => p.type === "clock")).toBe(true);
  });

  it("twelve run of a clock whose previous run is still going reports it skipped, as twelve dev does, and exits 1", async () => {
    const { formation, deployed } = await openStage({ cwd: dir, stage: STAGE, target: "aws", adapters, env: env(throttle.endpoint) });
    const nightly = formation.processes.find((p) => p.name === "nightly") as ClockProcess;
    await expect(deployed.run(nightly, undefined)).rejects.toMatchObject({ exitCode: 1, message: "nightly did not run: skipped: the previous run is still going (one run at a time)" });
    // Said at once: a throttled run is not tried again (it would start late, or twice).
    expect(throttle.throttled).toBe(1);

    const cli = await runTwelve(["run", "nightly", "--stage", STAGE], { cwd: dir, env: { ...env(throttle.endpoint), CI: "true" } });
    expect(cli.stderr).toContain("nightly did not run: skipped: the previous run is still going");
    expect(cli.code).toBe(1);
    // Without the throttle, it runs.
    const direct = await openStage({ cwd: dir, stage: STAGE, target: "aws", adapters, env: env() });
    expect(await direct.deployed.run(nightly, undefined)).toEqual({ fired: "nightly" });
  }, 60_000);

  it("destroy removes the clock and its settings", async () => {
    await (await deployment()).apply({ destroy: true }, () => {});
    expect((await deployment()).plan({ destroy: true }).changes).toEqual([]);
    await expect(eventInvokeConfig(FN)).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });
});

/**
 * In front of the AWS proxy: Invoke of the one function answers as Lambda does when the
 * function's reserved concurrency is in use (moto never throttles); every other call goes on.
 */
async function throttlingProxy(target: string, invokePath: string): Promise<{ endpoint: string; throttled: number; close(): Promise<void> }> {
  const upstream = new URL(target);
  let throttled = 0;
  const server = http.createServer((req, res) => {
    if (req.method === "POST" && req.url?.startsWith(invokePath)) {
      throttled++;
      req.resume();
      res.writeHead(429, { "content-type": "application/json", "x-amzn-errortype": "TooManyRequestsException" });
      res.end(JSON.stringify({ Type: "User", message: "Rate Exceeded.", Reason: "ReservedFunctionConcurrentInvocationLimitExceeded" }));
      return;
    }
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get throttled() {
      return throttled;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
