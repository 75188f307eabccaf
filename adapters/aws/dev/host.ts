// Runs inside one child process per process of the formation (twelve dev, aws engine): loads
// the bundle the build made, as Lambda's Node 22 runtime would, and serves it. A web process
// answers HTTP on its port, refusing requests over its cap with 429 as Lambda throttles; the
// others are invoked by the parent over the IPC channel.
import http from "node:http";
import { pathToFileURL } from "node:url";
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

export type HostMessage =
  | { kind: "ready"; port?: number }
  | { kind: "result"; id: number; ok: true; value: unknown }
  | { kind: "result"; id: number; ok: false; error: string };

const spec = JSON.parse(process.env.TWELVE_DEV_HOST ?? "{}") as HostSpec;
const send = (message: HostMessage) => process.send?.(message);
const context = (id: string) => ({
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  awsRequestId: id,
  getRemainingTimeInMillis: () => spec.timeout * 1000,
});

const { handler } = (await import(pathToFileURL(spec.bundle).href)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };

if (spec.type === "web") {
  let inFlight = 0;
  let requests = 0;
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
        const result = (await handler(eventFromRequest(req, Buffer.concat(chunks)) as HttpEventV2, context(String(++requests)))) as HttpResultV2;
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
  server.listen(spec.port, "127.0.0.1", () => send({ kind: "ready", port: spec.port }));
  process.on("disconnect", () => server.close(() => process.exit(0)));
} else {
  process.on("message", async (message: { kind: "invoke"; id: number; event: unknown }) => {
    if (message?.kind !== "invoke") return;
    try {
      send({ kind: "result", id: message.id, ok: true, value: await handler(message.event, context(String(message.id))) });
    } catch (error) {
      console.error(error);
      send({ kind: "result", id: message.id, ok: false, error: String((error as Error)?.stack ?? error) });
    }
  });
  process.on("disconnect", () => process.exit(0));
  send({ kind: "ready" });
}
