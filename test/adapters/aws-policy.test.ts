import fs from "node:fs";
import path from "node:path";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adapters } from "../../adapters/index.ts";
import type { ClockProcess, WebProcess, WorkerProcess } from "../../src/formation/types.ts";
import { openDeployment, openStage } from "../../src/deploy/stage.ts";
import { iamRequestsOf } from "../support/aws-authorization.ts";
import { startAwsProxy, type AwsProxy } from "../support/aws-proxy.ts";
import { runTwelve } from "../support/cli.ts";
import { awsTestEnv, motoClientConfig, startMoto, type MotoServer } from "../support/moto.ts";
import { removeProject, shopProject } from "../support/project.ts";

/** Actions of the policy this cycle cannot make a call for against moto, and why: each is made only where the formation or the deployed stage asks for it. */
const NOT_EXERCISED: Record<string, string> = {
  "lambda:DeleteFunctionEventInvokeConfig": "made only when a process that was a clock is deployed as another type, or to repair a clock's event invoke config (aws-clock.test.ts does, against moto)",
  "lambda:PutFunctionRecursionConfig": "moto has no PutFunctionRecursionConfig (a worker with recursiveLoop: allow cannot deploy to it)",
  "lambda:UpdateFunctionUrlConfig": "moto keeps no InvokeMode change, so a URL's mode cannot drift here",
};

// `twelve policy` is the README's list of what the deploying credentials need: a whole deploy
// cycle runs against moto through the proxy, which sees every call; each call, turned into
// what IAM authorizes (its action, resource and condition keys), must be allowed by the
// printed policy under cloud-copilot's IAM simulator, and every statement and action of the
// policy must be needed by a call. A call the deployer starts making fails here, by name,
// until the policy has it.
describe("twelve policy on AWS: the least privilege a whole deploy cycle needs", () => {
  let moto: MotoServer;
  let proxy: AwsProxy;
  let dir: string;
  const stage = "cycle";
  const env = () => ({ ...process.env, ...awsTestEnv(proxy.endpoint), MAIL_API_KEY: "k" });
  const options = () => ({ cwd: dir, stage, target: "aws", adapters, env: env() });
  const deploy = async (destroy = false) => (await openDeployment(options())).deployment.apply({ destroy }, () => {});
  const editConfig = (edit: (text: string) => string) => {
    const file = path.join(dir, "twelve.config.ts");
    fs.writeFileSync(file, edit(fs.readFileSync(file, "utf8")));
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

  it("prints a policy document that allows every call of a deploy cycle, each of its statements and actions used", async () => {
    const printed = await runTwelve(["policy", "--stage", stage], { cwd: dir, env: { ...process.env, CI: "true" } });
    expect(printed.stderr).toContain("aws iam put-role-policy");
    expect(printed.code).toBe(0);
    const policy = JSON.parse(printed.stdout) as { Statement: { Sid: string; Action: string[] }[] };

    // First deploy, no-op, a code change, a change of settings (queue, schedule, variables).
    await deploy();
    await deploy();
    const mailer = path.join(dir, "examples/shop/src/mailer.ts");
    fs.writeFileSync(mailer, fs.readFileSync(mailer, "utf8").replace("digest for", "the digest for"));
    await deploy();
    editConfig((text) =>
      text
        .replace("maxRetries: 3,", "maxRetries: 4,")
        .replace('schedule: "0 3 * * *"', 'schedule: "0 4 * * *"')
        .replace('LOG_LEVEL: "info"', 'LOG_LEVEL: "debug"'),
    );
    await deploy();

    // Drift, changed behind twelve's back, that a deploy repairs: a role's trust, a worker's reservation.
    const direct = motoClientConfig(moto.endpoint);
    const { IAMClient, UpdateAssumeRolePolicyCommand } = await import("@aws-sdk/client-iam");
    const { LambdaClient, PutFunctionConcurrencyCommand } = await import("@aws-sdk/client-lambda");
    const trust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "edgelambda.amazonaws.com" }, Action: "sts:AssumeRole" }] };
    await new IAMClient(direct).send(new UpdateAssumeRolePolicyCommand({ RoleName: `shop-${stage}-web`, PolicyDocument: JSON.stringify(trust) }));
    await new LambdaClient(direct).send(new PutFunctionConcurrencyCommand({ FunctionName: `shop-${stage}-mailer`, ReservedConcurrentExecutions: 3 }));
    expect((await deploy()).changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([`update role shop-${stage}-web`, `update function shop-${stage}-mailer`]);

    // scale, ps, logs, run (a worker and a clock).
    const { formation, deployed } = await openStage(options());
    const processOf = <T>(name: string) => formation.processes.find((p) => p.name === name) as T;
    await deployed.scale([{ process: processOf<WebProcess>("web"), cap: 60 }, { process: processOf<WorkerProcess>("mailer"), cap: 6 }], () => {});
    await deployed.ps();
    const { CloudWatchLogsClient, CreateLogStreamCommand, PutLogEventsCommand, CreateLogGroupCommand } = await import("@aws-sdk/client-cloudwatch-logs");
    const logs = new CloudWatchLogsClient(motoClientConfig(moto.endpoint));
    await logs.send(new CreateLogGroupCommand({ logGroupName: `/aws/lambda/shop-${stage}-web` })).catch(() => undefined);
    await logs.send(new CreateLogStreamCommand({ logGroupName: `/aws/lambda/shop-${stage}-web`, logStreamName: "s" }));
    await logs.send(new PutLogEventsCommand({ logGroupName: `/aws/lambda/shop-${stage}-web`, logStreamName: "s", logEvents: [{ timestamp: Date.now(), message: "GET / 200" }] }));
    const lines: string[] = [];
    await deployed.logs(["web", "mailer"], { follow: false, sinceMinutes: 5 }, { print: (_p, _t, message) => lines.push(message), note: () => {} });
    expect(lines).toEqual(["GET / 200"]);
    await deployed.run(processOf<WorkerProcess>("mailer"), { kind: "daily-digest" });
    await deployed.run(processOf<ClockProcess>("nightly"), undefined);
    // twelve dlq: a dead letter listed, sent back, and one purged.
    const { SQSClient, GetQueueUrlCommand, SendMessageCommand } = await import("@aws-sdk/client-sqs");
    const directSqs = new SQSClient(direct);
    const dlq = (await directSqs.send(new GetQueueUrlCommand({ QueueName: `shop-${stage}-mailer-dlq` }))).QueueUrl;
    for (const n of [1, 2]) await directSqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: JSON.stringify({ n }) }));
    await deployed.deadLetters.summary();
    for await (const _ of deployed.deadLetters.list(processOf<WorkerProcess>("mailer"), () => {})) void _;
    const [first] = await (async () => {
      const ids: string[] = [];
      for await (const letter of deployed.deadLetters.list(processOf<WorkerProcess>("mailer"), () => {})) ids.push(letter.id);
      return ids;
    })();
    await deployed.deadLetters.redrive(processOf<WorkerProcess>("mailer"), [first!], () => {});
    await deployed.deadLetters.purge(processOf<WorkerProcess>("mailer"), undefined, () => {});

    // Remove a process, then destroy.
    editConfig((text) => text.replace(/\n\s*nightly: \{[^}]*\},/, ""));
    await deploy();
    await deploy(true);
    expect(proxy.violations).toEqual([]);

    const denied: string[] = [];
    const used = new Set<string>();
    const needed = new Set<string>();
    for (const { request, response, refused } of proxy.calls) {
      if (!request || refused) continue;
      const name = `${request.service}.${request.operation}`;
      const needs = iamRequestsOf(request, response, "123456789012");
      if (!needs) {
        denied.push(`${name}: no IAM mapping; add it to test/support/aws-authorization.ts and adapters/aws/policy.ts`);
        continue;
      }
      for (const need of needs) {
        needed.add(need.action);
        const result = await runSimulation(
          {
            identityPolicies: [{ name: "twelve", policy }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            request: { principal: "arn:aws:iam::123456789012:role/deployer", action: need.action, resource: { resource: need.resource, accountId: "123456789012" }, contextVariables: need.context },
          },
          {},
        );
        if (result.resultType === "error") {
          denied.push(`${name} → ${need.action} on ${need.resource}: ${result.errors.message}`);
          continue;
        }
        if (result.overallResult !== "Allowed") denied.push(`${name} → ${need.action} on ${need.resource} ${JSON.stringify(need.context)}: ${result.overallResult}`);
        const analyses = result.resultType === "single" ? [result.result] : result.results;
        for (const a of analyses) for (const s of a.analysis.identityAnalysis?.allowStatements ?? []) used.add(s.explain.identifier);
      }
    }
    expect(denied, "calls the printed policy does not allow").toEqual([]);
    expect(policy.Statement.map((s) => s.Sid).filter((sid) => !used.has(sid)), "statements no call used").toEqual([]);
    expect(policy.Statement.flatMap((s) => s.Action).filter((a) => !needed.has(a)).sort(), "actions no call needed").toEqual(Object.keys(NOT_EXERCISED).sort());
  }, 120_000);
});
