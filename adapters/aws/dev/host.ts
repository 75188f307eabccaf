// Runs inside one child process per process of the formation (twelve dev, aws engine): loads
// the bundle the build made, as Lambda's Node 22 runtime would, and serves it. A web process
// answers HTTP on its port, refusing requests over its cap with 429 as Lambda throttles; the
// others are invoked by twelve dev (src/dev/host-parent.ts).
import http from "node:http";
import { pathToFileURL } from "node:url";
import { hostReady, serveHost } from "../../../src/dev/host-child.ts";
import type { HttpEventV2, HttpResultV2 } from "../runtime/events.ts";
import { eventFromRequest, writeResult } from "./http-event.ts";

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

const { handler } = (await import(pathToFileURL(spec.bundle).href)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };

if (spec.type === "web") {
  let inFlight = 0;
  const server = http.createServer((req, res) => {
    if (inFlight >= spec.concurrency) {
      res.writeHead(429, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: `Too Many Requests: ${spec.name} is at its concurrency cap of ${spec.concurrency}` }));
      return;
    }
    inFlight++;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      try {
        const result = (await handler(eventFromRequest(req, Buffer.concat(chunks)) as HttpEventV2, context())) as HttpResultV2;
        writeResult(res, result);
      } catch (error) {
        // What a Function URL answers when the function fails.
        console.error(error);
        res.writeHead(502, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "Internal Server Error" }));
      } finally {
        inFlight--;
      }
    });
  });
  server.keepAliveTimeout = 5000;
  serveHost({
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
