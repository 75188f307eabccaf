import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { HttpEventV2, HttpResultV2, SqsEvent, SqsBatchResponse, ClockEvent } from "../../../adapters/aws/runtime/events.ts";
import { buildProject } from "../../support/project.ts";
import { queueBinding, queueName } from "../../../src/formation/names.ts";
import { awsTestEnv, startMoto } from "../../support/moto.ts";
import { copyFixture, removeProject } from "../../support/project.ts";
import { startReportServer } from "../../support/report-server.ts";
import { pumpQueue, testSqs } from "../../support/sqs.ts";
import type { Invoker } from "./types.ts";

// The real AWS payloads: the project's shared/ copy when it sits beside the repository, else
// the one vendored in test/fixtures (same files, see its README).
const SHARED = path.resolve(import.meta.dirname, "../../../../shared/fixtures/aws-events");
export const FIXTURES = fs.existsSync(SHARED) ? SHARED : path.resolve(import.meta.dirname, "../../fixtures/aws-events");
export const readFixture = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as T;

type Handler<E, R> = (event: E, context?: unknown) => Promise<R>;
export interface AwsHandlers {
  web: Handler<HttpEventV2, HttpResultV2>;
  jobs: Handler<SqsEvent, SqsBatchResponse>;
  mailer: Handler<SqsEvent, SqsBatchResponse>;
  tick: Handler<ClockEvent | undefined, unknown>;
}

/**
 * The conformance app built for AWS, its bundles imported as Lambda would, SQS in moto_server,
 * and a small event source mapping per worker queue (test/support/sqs.ts).
 */
export async function awsInvoker(): Promise<Invoker & { handlers: AwsHandlers; sqs: ReturnType<typeof testSqs>; queueUrls: Record<string, string> }> {
  const dir = copyFixture("conformance");
  const [moto, reports] = await Promise.all([startMoto(), startReportServer()]);
  const env = awsTestEnv(moto.endpoint);
  const sqs = testSqs({ region: env.AWS_REGION, endpoint: moto.endpoint, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });

  const { formation, outDir } = await buildProject(dir, "aws");
  const queueUrls: Record<string, string> = {};
  for (const worker of ["jobs", "mailer"]) {
    queueUrls[worker] = await sqs.createQueue(queueName("conf", "dev", worker));
    process.env[queueBinding(worker)] = queueUrls[worker];
  }
  Object.assign(process.env, env, { REPORT_URL: reports.url });

  const load = async (name: string) => ((await import(pathToFileURL(path.join(outDir, name, "index.mjs")).href)) as { handler: never }).handler;
  const handlers = { web: await load("web"), jobs: await load("jobs"), mailer: await load("mailer"), tick: await load("tick") } as AwsHandlers;
  const pumps = [pumpQueue(sqs, queueUrls.jobs!, 5, handlers.jobs), pumpQueue(sqs, queueUrls.mailer!, 5, handlers.mailer)];

  return {
    target: "aws",
    handlers,
    sqs,
    queueUrls,
    reports,
    async fetch(urlPath, init) {
      return fromResult(await handlers.web(await toEvent(new Request(`https://abc123.lambda-url.eu-west-1.on.aws${urlPath}`, init))));
    },
    async fireClock(scheduledTime) {
      // The Input twelve gives its EventBridge schedules.
      await handlers.tick({ twelve: "scheduled", scheduledTime: new Date(scheduledTime).toISOString() });
    },
    async close() {
      await Promise.all(pumps.map((p) => p.stop()));
      await Promise.all([moto.stop(), reports.close()]);
      removeProject(dir);
    },
  };
}

/** A Request as a Function URL delivers it: the real fixture's shape with this request's parts. */
export async function toEvent(request: Request): Promise<HttpEventV2> {
  const event = readFixture<HttpEventV2 & Record<string, unknown>>("lambda-urls-request.json");
  const url = new URL(request.url);
  const headers: Record<string, string> = { host: url.host };
  request.headers.forEach((value, name) => {
    if (name !== "cookie") headers[name] = value;
  });
  const bytes = Buffer.from(await request.arrayBuffer());
  const cookies = request.headers.get("cookie")?.split("; ");
  delete event.queryStringParameters;
  return {
    ...event,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(cookies ? { cookies } : { cookies: undefined }),
    requestContext: { ...event.requestContext, domainName: url.host, http: { ...event.requestContext.http, method: request.method, path: url.pathname } },
    body: bytes.length ? bytes.toString("base64") : undefined,
    isBase64Encoded: bytes.length > 0,
  } as HttpEventV2;
}

/** What a Function URL sends back to the client for a handler's result. */
export function fromResult(result: HttpResultV2): Response {
  const headers = new Headers(result.headers);
  for (const cookie of result.cookies ?? []) headers.append("set-cookie", cookie);
  const body = result.body ? Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8") : null;
  return new Response(body, { status: result.statusCode, headers });
}
