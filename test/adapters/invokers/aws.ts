import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { HttpEventV2, HttpResultV2, SqsEvent, SqsBatchResponse, ClockEvent } from "../../../adapters/aws/runtime/events.ts";
import { buildProject } from "../../support/project.ts";
import { queueBinding, queueName } from "../../../src/formation/names.ts";
import { functionUrlEvent, functionUrlResponse } from "../../support/function-url.ts";
import { startLambdaFunction, type LambdaFunction } from "../../support/lambda-runtime-api.ts";
import { awsTestEnv, startMoto } from "../../support/moto.ts";
import { copyFixture, removeProject } from "../../support/project.ts";
import { startReportServer } from "../../support/report-server.ts";
import { pumpQueue, testSqs } from "../../support/sqs.ts";
import type { Manifest } from "../../../src/build/manifest.ts";
import type { Invoker } from "./types.ts";

// The real AWS payloads: the project's shared/ copy when it sits beside the repository, else
// the one vendored in test/fixtures (same files, see its README). Events copied from other AWS
// repositories (aws-sam-cli, more of aws-lambda-go) are only in test/fixtures.
const SHARED = path.resolve(import.meta.dirname, "../../../../shared/fixtures/aws-events");
const VENDORED = path.resolve(import.meta.dirname, "../../fixtures/aws-events");
export const FIXTURES = fs.existsSync(SHARED) ? SHARED : VENDORED;
export const readFixture = <T>(name: string): T => {
  const file = [path.join(FIXTURES, name), path.join(VENDORED, name)].find((f) => fs.existsSync(f));
  if (!file) throw new Error(`no AWS event fixture ${name} in ${FIXTURES} or ${VENDORED}`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as T;
};

type Handler<E, R> = (event: E, context?: unknown) => Promise<R>;
/** The bundles imported into the test process: the buffered handlers, and process.env at hand. */
export interface ImportedHandlers {
  web: Handler<HttpEventV2, HttpResultV2>;
  jobs: Handler<SqsEvent, SqsBatchResponse>;
  tick: Handler<ClockEvent | undefined, unknown>;
}
const PROCESSES = ["web", "jobs", "mailer", "tick"] as const;
type ProcessName = (typeof PROCESSES)[number];

/**
 * The conformance app built for AWS, each function in its own process under AWS's runtime
 * interface client and a local Runtime API (test/support/lambda-runtime-api.ts), web requests
 * through a Function URL's translation, SQS in moto_server, and a small event source mapping per
 * worker queue (test/support/sqs.ts).
 */
export async function awsInvoker(): Promise<
  Invoker & {
    manifest: Manifest;
    functions: Record<ProcessName, LambdaFunction>;
    /** A payload 2.0 event through the web function, answered as the Function URL answers. */
    url(event: unknown): Promise<Response>;
    imported(): Promise<ImportedHandlers>;
    sqs: ReturnType<typeof testSqs>;
    queueUrls: Record<string, string>;
  }
> {
  const dir = copyFixture("conformance");
  const [moto, reports] = await Promise.all([startMoto(), startReportServer()]);
  const env = awsTestEnv(moto.endpoint);
  const sqs = testSqs({ region: env.AWS_REGION, endpoint: moto.endpoint, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });

  const { outDir, manifest } = await buildProject(dir, "aws");
  const queueUrls: Record<string, string> = {};
  const functionEnv: Record<string, string> = { ...env, REPORT_URL: reports.url };
  for (const worker of ["jobs", "mailer"]) {
    queueUrls[worker] = await sqs.createQueue(queueName("conf", "dev", worker));
    functionEnv[queueBinding(worker)] = queueUrls[worker];
  }
  const started = await Promise.all(
    PROCESSES.map((name) => startLambdaFunction({ name: `conf-dev-${name}`, taskRoot: path.join(outDir, name), env: functionEnv })),
  );
  const functions = Object.fromEntries(PROCESSES.map((name, i) => [name, started[i]!])) as Record<ProcessName, LambdaFunction>;
  const pumps = (["jobs", "mailer"] as const).map((w) => pumpQueue(sqs, queueUrls[w]!, 5, (event) => functions[w].invokeJson(event)));
  const url = async (event: unknown) => functionUrlResponse(await functions.web.invoke(event));

  return {
    target: "aws",
    manifest,
    functions,
    url,
    sqs,
    queueUrls,
    reports,
    async imported() {
      Object.assign(process.env, functionEnv);
      const load = async (name: string) => ((await import(pathToFileURL(path.join(outDir, name, "index.mjs")).href)) as { handler: never }).handler;
      return { web: await load("web"), jobs: await load("jobs"), tick: await load("tick") };
    },
    async fetch(urlPath, init) {
      const request = new Request(`https://abc123.lambda-url.eu-west-1.on.aws${urlPath}`, init);
      return url(await functionUrlEvent(request, readFixture("lambda-urls-request.json")));
    },
    async fireClock(scheduledTime) {
      // The Input twelve gives its EventBridge schedules.
      await functions.tick.invokeJson({ twelve: "scheduled", scheduledTime: new Date(scheduledTime).toISOString() });
    },
    async close() {
      await Promise.all(pumps.map((p) => p.stop()));
      await Promise.all([...Object.values(functions).map((f) => f.close()), moto.stop(), reports.close()]);
      removeProject(dir);
    },
  };
}
