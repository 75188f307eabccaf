import http from "node:http";
import type { AddressInfo } from "node:net";
import fs from "node:fs";
import path from "node:path";
import { CreateFunctionUrlConfigCommand, DeleteFunctionUrlConfigCommand, GetFunctionUrlConfigCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adapters } from "../../adapters/index.ts";
import { openDeployment, openStage } from "../../src/deploy/stage.ts";
import type { WebProcess } from "../../src/formation/types.ts";
import { awsTestEnv, motoClientConfig, startMoto, type MotoServer } from "../support/moto.ts";
import { removeProject, shopProject } from "../support/project.ts";

/**
 * What moto does not have: GetAccountSettings and the recursion config answer 404 there. This
 * proxy in front of moto answers them as Lambda does, with the account's numbers a test picks,
 * and keeps every other request it forwards, to show what a command changed.
 */
async function lambdaStandIn(moto: string) {
  const upstream = new URL(moto);
  const state = { account: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 }, recursion: new Map<string, string>() };
  const requests: { method: string; url: string; body: string; operation: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? "/";
      const target = req.headers["x-amz-target"];
      const operation = typeof target === "string" ? target.split(".").at(-1) : /(?:^|&)Action=([A-Za-z]+)/.exec(body.toString("utf8"))?.[1];
      requests.push({ method: req.method ?? "GET", url, body: body.toString("utf8"), operation });
      const json = (value: unknown) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (url.startsWith("/2016-08-19/account-settings")) return json({ AccountLimit: state.account, AccountUsage: {} });
      const recursion = /^\/2024-08-31\/functions\/([^/]+)\/recursion-config/.exec(url);
      if (recursion) {
        const name = decodeURIComponent(recursion[1] ?? "");
        if (req.method === "PUT") state.recursion.set(name, (JSON.parse(body.toString("utf8")) as { RecursiveLoop: string }).RecursiveLoop);
        return json({ RecursiveLoop: state.recursion.get(name) ?? "Terminate" });
      }
      const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: url, headers: { ...req.headers, host: upstream.host } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    requests,
    /** The mutating calls from request `from` on, by operation (JSON and query protocols) or "METHOD /path" (REST). */
    changesSince: (from: number) =>
      requests
        .slice(from)
        .map((r) => r.operation ?? `${r.method} ${r.url}`)
        .filter((call) => !/^(Get|List|Describe|Filter)|^GET /.test(call)),
    stop: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

// Deploy's checks of what AWS refuses half-way (moto refuses none of it), and the settings moto
// cannot read back, against moto_server behind lambdaStandIn.
describe("deploy to AWS: the account's limits and Lambda's own settings", () => {
  let moto: MotoServer;
  let aws: Awaited<ReturnType<typeof lambdaStandIn>>;
  let dir: string;
  const env = () => ({ ...process.env, ...awsTestEnv(aws.endpoint), MAIL_API_KEY: "k" });
  const deployment = async () => (await openDeployment({ cwd: dir, stage: "lim", target: "aws", adapters, env: env() })).deployment;
  const editConfig = (edit: (text: string) => string) => {
    const file = path.join(dir, "twelve.config.ts");
    fs.writeFileSync(file, edit(fs.readFileSync(file, "utf8")));
  };

  beforeAll(async () => {
    moto = await startMoto();
    aws = await lambdaStandIn(moto.endpoint);
    dir = shopProject((config) => config.replace('maxRetries: 3, timeout: 60 }', 'maxRetries: 3, timeout: 60, aws: { recursiveLoop: "allow" } }'));
  });
  afterAll(async () => {
    await aws?.stop();
    await moto?.stop();
    removeProject(dir);
  });

  it("refuses plan and deploy before any change where the account cannot reserve a clock's 1 (a quota of 10)", async () => {
    aws.state.account = { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 };
    const from = aws.requests.length;
    const d = await deployment();
    const refusal = /^cannot reserve Lambda concurrency in account \d+ in eu-west-1: the account's quota is 10 concurrent executions, and AWS keeps 10 of them unreserved, so no function can have a reservation; this needs 51 \(web 50, nightly 1\)$/;
    expect(() => d.plan()).toThrow(refusal);
    await expect(d.apply({}, () => {})).rejects.toThrow(refusal);
    expect(aws.changesSince(from)).toEqual([]);
    // Nothing stands in the way of a destroy.
    expect(d.plan({ destroy: true }).changes).toEqual([]);
  });

  it("deploys where the account has room, sets recursiveLoop Allow, and refuses a scale that would take it below 100 unreserved", async () => {
    aws.state.account = { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 };
    await (await deployment()).apply({}, () => {});
    expect(aws.state.recursion.get("shop-lim-mailer")).toBe("Allow");
    expect(aws.state.recursion.has("shop-lim-web")).toBe(false);
    expect((await deployment()).plan().changes).toEqual([]);

    // The stage holds 51 now (web 50, nightly 1). web=950 takes web's 50 back and needs 900 more than
    // the 949 unreserved can give while keeping 100; nightly's 1 stays and counts as another's.
    aws.state.account = { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 949 };
    const { formation, deployed } = await openStage({ cwd: dir, stage: "lim", target: "aws", adapters, env: env() });
    const web = formation.processes.find((p) => p.name === "web") as WebProcess;
    const from = aws.requests.length;
    await expect(deployed.scale([{ process: web, cap: 950 }], () => {})).rejects.toThrow(
      /^cannot reserve Lambda concurrency in account \d+ in eu-west-1: this needs 950 \(web 950\), but only 899 can be reserved: the quota is 1000 concurrent executions, AWS keeps 100 unreserved, and other functions of the account hold 1$/,
    );
    expect(aws.changesSince(from)).toEqual([]);
    await deployed.scale([{ process: web, cap: 899 }], () => {});
  });

  it("turns recursive loop detection back on when the config no longer allows the loop", async () => {
    editConfig((config) => config.replace(', aws: { recursiveLoop: "allow" }', ""));
    const d = await deployment();
    expect(d.plan().changes.map((c) => (c.action === "update" ? `${c.name}: ${c.fields.map((f) => `${f.field} ${String(f.from)} → ${String(f.to)}`).join(", ")}` : `${c.action} ${c.name}`))).toContain(
      "shop-lim-mailer: recursiveLoop Allow → Terminate",
    );
    await d.apply({}, () => {});
    expect(aws.state.recursion.get("shop-lim-mailer")).toBe("Terminate");
  });

  it("changes a Function URL's invoke mode in place, keeping its address", async () => {
    // A URL made before the build streamed: BUFFERED.
    const lambda = new LambdaClient(motoClientConfig(moto.endpoint));
    await lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: "shop-lim-web" }));
    await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: "shop-lim-web", AuthType: "NONE", InvokeMode: "BUFFERED" }));
    const d = await deployment();
    const plan = d.plan();
    expect(plan.changes.map((c) => [c.action, c.name, c.action === "update" ? c.fields.map((f) => `${f.field} ${String(f.from)} → ${String(f.to)}`) : []])).toContainEqual(["update", "shop-lim-web", ["invokeMode BUFFERED → RESPONSE_STREAM"]]);
    const before = (await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: "shop-lim-web" }))).FunctionUrl;
    const from = aws.requests.length;
    await d.apply({}, () => {});
    expect((await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: "shop-lim-web" }))).FunctionUrl).toBe(before);
    const urlCalls = aws.requests.slice(from).filter((r) => r.url.includes("/functions/shop-lim-web/url") && r.method !== "GET");
    expect(urlCalls.map((r) => `${r.method} ${JSON.parse(r.body || "{}").InvokeMode}`)).toEqual(["PUT RESPONSE_STREAM"]);
  });

  it("refuses a function whose variables are over Lambda's 4 KB, naming the largest, before any change", async () => {
    editConfig((config) => config.replace('env: { LOG_LEVEL: "info" }', `env: { LOG_LEVEL: "info", RULES: "${"r".repeat(4000)}" }`));
    const from = aws.requests.length;
    const d = await deployment();
    let error: { message: string; details: string[] } | undefined;
    try {
      d.plan();
    } catch (e) {
      error = e as typeof error;
    }
    expect(error?.message).toMatch(/^Invalid formation in .*twelve\.config\.ts \(3 problems\):$/);
    expect(error?.details[0]).toMatch(/^processes\.web\.env: its variables are \d+ bytes as Lambda counts them .* the largest: RULES 4010 bytes, TWELVE_QUEUE_MAILER 88 bytes, NODE_OPTIONS 37 bytes\. Move large values out/);
    await expect(d.apply({}, () => {})).rejects.toThrow(/^Invalid formation/);
    expect(aws.changesSince(from)).toEqual([]);
  });
});
