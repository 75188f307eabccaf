// Runs inside one child process per process of the formation (twelve dev, aws engine): loads
// the bundle the build made, as Lambda's Node 22 runtime would, and serves it. A web process
// answers HTTP on its port, refusing requests over its cap with 429 as Lambda throttles; the
// others are invoked by twelve dev (src/dev/host-parent.ts).
import http from "node:http";
import { pathToFileURL } from "node:url";
import { hostReady, serveHost } from "../../../src/dev/host-child.ts";
import { getRequestListener } from "@hono/node-server";

export interface HostSpec {
  bundle: string;
  name: string;
  type: "web" | "worker" | "clock";
  port?: number;
  concurrency: number;
  timeout: number;
}

const spec = JSON.parse(process.env.TWELVE_DEV_HOST ?? "{}") as HostSpec;
let invocations = 0;
const context = () => ({
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  awsRequestId: String(++invocations),
  getRemainingTimeInMillis: () => spec.timeout * 1000,
});

const { handler } = (await import(pathToFileURL(spec.bundle).href)) as {
  handler: ((event: unknown, context: unknown) => Promise<unknown>) & { fetch?: (request: Request) => Response | Promise<Response> };
};

if (spec.type === "web") {
  let inFlight = 0;
  // Straight to the bundle's fetch(), which twelve's web wrapper exposes: a Lambda event round
  // trip would cost more than serving the request (its translation is covered by the
  // conformance tests).
  if (!handler.fetch) throw new Error(`${spec.bundle} has no fetch(): it was not built by this twelve; run twelve build`);
  const serve = getRequestListener(handler.fetch, { errorHandler: failed });
  const server = http.createServer((req, res) => {
    if (inFlight >= spec.concurrency) {
      res.writeHead(429, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: `Too Many Requests: ${spec.name} is at its concurrency cap of ${spec.concurrency}` }));
      return;
    }
    inFlight++;
    res.once("close", () => inFlight--);
    void serve(req, res);
  });
  server.keepAliveTimeout = 5000;
  serveHost({
    load: () => inFlight,
    shutdown: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  });
  server.listen(spec.port, "127.0.0.1", hostReady);
} else {
  serveHost({ invoke: (event) => handler(event, context()) });
  hostReady();
}

/** What a Function URL answers when the function fails: 502, with the error in the log. */
function failed(error: unknown): Response {
  console.error(error);
  return Response.json({ message: "Internal Server Error" }, { status: 502 });
}
