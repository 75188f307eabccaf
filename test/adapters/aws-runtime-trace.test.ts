import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpEventV2 } from "../../adapters/aws/runtime/events.ts";
import { queueBinding } from "../../src/formation/names.ts";
import { functionUrlEvent, functionUrlResponse } from "../support/function-url.ts";
import { startLambdaFunction, type LambdaFunction } from "../support/lambda-runtime-api.ts";
import { awsTestEnv } from "../support/moto.ts";
import { buildProject, makeProject, removeProject } from "../support/project.ts";
import { readFixture } from "./invokers/aws.ts";

// Lambda's recursive loop detection counts a message's rounds by the X-Ray trace id that
// SendMessage carries (the AWS SDK adds X-Amzn-Trace-Id inside Lambda): without it, a worker
// sending to its own queue loops for ever, and a config's recursiveLoop setting means nothing.
describe("send() inside Lambda carries the invocation's trace id, as the AWS SDK's calls do", () => {
  const seen: { target: string; trace: string | undefined }[] = [];
  let sqs: http.Server;
  let web: LambdaFunction;
  let dir: string;

  beforeAll(async () => {
    // SQS, as far as SendMessage goes: it answers, and keeps what each call carried.
    sqs = http.createServer((req, res) => {
      req.resume().on("end", () => {
        seen.push({ target: String(req.headers["x-amz-target"]), trace: req.headers["x-amzn-trace-id"] as string | undefined });
        res.setHeader("content-type", "application/x-amz-json-1.0");
        res.end(JSON.stringify({ MessageId: `m-${seen.length}`, MD5OfMessageBody: "" }));
      });
    });
    await new Promise<void>((resolve) => sqs.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(sqs.address() as AddressInfo).port}`;
    dir = makeProject({
      "twelve.config.ts": `import { defineConfig } from "twelve";
export default defineConfig({ app: "trace", target: "aws", processes: {
  web: { type: "web", entry: "web.ts", concurrency: 2 },
  jobs: { type: "worker", entry: "jobs.ts", concurrency: 2 },
} });
`,
      "web.ts": `import { send } from "twelve";
export default { async fetch() { await send("jobs", { a: 1 }); return new Response(process.env._X_AMZN_TRACE_ID ?? "none"); } };
`,
      "jobs.ts": `export default { async queue() {} };\n`,
    });
    const { outDir } = await buildProject(dir, "aws");
    web = await startLambdaFunction({
      name: "trace-dev-web",
      taskRoot: path.join(outDir, "web"),
      env: { ...awsTestEnv(endpoint), [queueBinding("jobs")]: `${endpoint}/123456789012/trace-dev-jobs` },
    });
  }, 60_000);
  afterAll(async () => {
    await web?.close();
    sqs?.close();
    removeProject(dir);
  });

  it("each invocation's own id, under AWS's runtime interface client", async () => {
    const template = readFixture<HttpEventV2 & Record<string, unknown>>("lambda-urls-request.json");
    const traces: string[] = [];
    for (const _ of [1, 2]) {
      const response = await functionUrlResponse(await web.invoke(await functionUrlEvent(new Request("https://trace.lambda-url.eu-west-1.on.aws/"), template)));
      expect(response.status).toBe(200);
      traces.push(await response.text());
    }
    expect(traces[0]).toMatch(/^Root=1-[0-9a-f]+-[0-9a-f]{24};/);
    expect(traces[1]).not.toBe(traces[0]);
    expect(seen).toEqual(traces.map((trace) => ({ target: "AmazonSQS.SendMessage", trace })));
  });
});
