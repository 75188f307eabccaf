import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { PassThrough, type Readable } from "node:stream";

// One Lambda execution environment on 127.0.0.1: the Runtime API as Lambda serves it
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html and its response-streaming
// section), and a function process started the way Lambda starts a Node function, under AWS's own
// runtime interface client (aws-lambda-ric). Invocations are one at a time, as in one environment.

const ROOT = path.resolve(import.meta.dirname, "../..");
const RIC = path.join(ROOT, "node_modules/aws-lambda-ric/index.mjs");
const RAPID_CLIENT_STAND_IN = path.join(import.meta.dirname, "lambda-rapid-client.cjs");
const PREFIX = "/2018-06-01/runtime";
/** Lambda's cap on a buffered invocation result (the Runtime API answers 413 beyond it). */
export const BUFFERED_RESPONSE_LIMIT = 6 * 1024 * 1024;

export interface FunctionError {
  errorType: string;
  errorMessage: string;
}

export type InvocationOutcome =
  /** POST .../response without streaming: the JSON the handler returned. */
  | { kind: "buffered"; payload: Buffer }
  /** A streamed response: its Content-Type, the body as it arrives, and the error trailers, if any. */
  | { kind: "streamed"; contentType: string; body: Readable; ended: Promise<FunctionError | undefined> }
  /** POST .../error, POST .../init/error, a response Lambda refuses, or the process dying. */
  | { kind: "error"; error: FunctionError };

export interface LambdaFunctionOptions {
  name: string;
  /** The unzipped deployment package (index.mjs). */
  taskRoot: string;
  handler?: string;
  env?: Record<string, string | undefined>;
  timeoutSeconds?: number;
  memoryMb?: number;
}

interface Pending {
  id: string;
  event: unknown;
  settle(outcome: InvocationOutcome): void;
}

export interface LambdaFunction {
  invoke(event: unknown): Promise<InvocationOutcome>;
  /** Invokes and returns the handler's JSON result, or throws the function's error. */
  invokeJson<T>(event: unknown): Promise<T>;
  /** What the function process printed (its logs). */
  output(): string;
  close(): Promise<void>;
}

export async function startLambdaFunction(options: LambdaFunctionOptions): Promise<LambdaFunction> {
  const queue: Pending[] = [];
  const inFlight = new Map<string, Pending>();
  let waitingForNext: ((p: Pending) => void) | undefined;
  let initError: FunctionError | undefined;
  let log = "";
  // Lambda counts init apart from the first invocation; so do tests, by waiting for it here.
  let initialized: () => void;
  const ready = new Promise<void>((resolve) => (initialized = resolve));

  const handOut = (pending: Pending, res: http.ServerResponse) => {
    inFlight.set(pending.id, pending);
    res.writeHead(200, {
      "content-type": "application/json",
      "lambda-runtime-aws-request-id": pending.id,
      "lambda-runtime-deadline-ms": String(Date.now() + (options.timeoutSeconds ?? 30) * 1000),
      "lambda-runtime-invoked-function-arn": `arn:aws:lambda:eu-west-1:123456789012:function:${options.name}`,
      "lambda-runtime-trace-id": `Root=1-${Date.now().toString(16)}-${randomUUID().replaceAll("-", "").slice(0, 24)};Parent=0;Sampled=0`,
    });
    res.end(JSON.stringify(pending.event));
  };

  const server = http.createServer(async (req, res) => {
    const url = req.url ?? "";
    const reply = (status: number, body: unknown = { status: "OK" }) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (req.method === "GET" && url === `${PREFIX}/invocation/next`) {
      initialized();
      const pending = queue.shift();
      if (pending) return handOut(pending, res);
      waitingForNext = (p) => handOut(p, res);
      return;
    }
    if (req.method === "POST" && url === `${PREFIX}/init/error`) {
      initError = parseError(await readBody(req), req.headers);
      reply(202);
      for (const p of [...queue.splice(0), ...inFlight.values()]) p.settle({ kind: "error", error: initError });
      inFlight.clear();
      return;
    }
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    const pending = match && req.method === "POST" ? inFlight.get(decodeURIComponent(match[1]!)) : undefined;
    if (!match || !pending) {
      await readBody(req);
      return reply(match ? 400 : 404, { errorType: match ? "InvalidRequestID" : "NotFound", errorMessage: `no such invocation: ${url}` });
    }
    inFlight.delete(pending.id);
    if (match[2] === "error") {
      pending.settle({ kind: "error", error: parseError(await readBody(req), req.headers) });
      return reply(202);
    }
    if (req.headers["lambda-runtime-function-response-mode"] === "streaming") {
      // The body flows to the caller as it comes; errors arrive in the trailers at its end.
      const body = new PassThrough();
      const ended = new Promise<FunctionError | undefined>((resolve) => {
        req.on("end", () => {
          const type = req.trailers["lambda-runtime-function-error-type"];
          const encoded = req.trailers["lambda-runtime-function-error-body"];
          resolve(type ? { errorType: type, ...decodeErrorBody(encoded) } : undefined);
          reply(202);
        });
        req.on("aborted", () => resolve({ errorType: "Runtime.StreamAborted", errorMessage: "the response stream was cut" }));
      });
      req.pipe(body);
      pending.settle({ kind: "streamed", contentType: String(req.headers["content-type"] ?? ""), body, ended });
      return;
    }
    const payload = await readBody(req);
    if (payload.length > BUFFERED_RESPONSE_LIMIT) {
      pending.settle({
        kind: "error",
        error: { errorType: "Function.ResponseSizeTooLarge", errorMessage: `Response payload size (${payload.length} bytes) exceeded maximum allowed payload size (${BUFFERED_RESPONSE_LIMIT} bytes).` },
      });
      return reply(413, { errorType: "RequestEntityTooLarge", errorMessage: "response too large" });
    }
    pending.settle({ kind: "buffered", payload });
    reply(202);
  });
  // The runtime keeps one connection for its long polls of /next, idle for as long as an
  // invocation runs; Node's default 5 s keep-alive timeout would close it under the runtime's
  // feet (ECONNRESET, and the function process dies). Lambda's Runtime API does not.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const child: ChildProcess = spawn(process.execPath, ["--require", RAPID_CLIENT_STAND_IN, RIC], {
    cwd: options.taskRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      // What Lambda sets for every Node function (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
      _HANDLER: options.handler ?? "index.handler",
      LAMBDA_TASK_ROOT: options.taskRoot,
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
      AWS_LAMBDA_FUNCTION_NAME: options.name,
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb ?? 512),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${options.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `2026/12/02/[$LATEST]${randomUUID().replaceAll("-", "")}`,
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      TZ: ":UTC",
      LANG: "en_US.UTF-8",
      // The ric's own http client for fetching invocations (see lambda-rapid-client.cjs).
      AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1: "true",
      ...options.env,
    },
  });
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  child.on("exit", (code, signal) => {
    const error = initError ?? { errorType: "Runtime.ExitError", errorMessage: `the function process exited (${signal ?? code})\n${log}` };
    initError = error;
    initialized();
    for (const p of [...queue.splice(0), ...inFlight.values()]) p.settle({ kind: "error", error });
    inFlight.clear();
  });

  await ready;

  const invoke = (event: unknown) =>
    new Promise<InvocationOutcome>((settle) => {
      if (initError) return settle({ kind: "error", error: initError });
      const pending: Pending = { id: randomUUID(), event, settle };
      const take = waitingForNext;
      waitingForNext = undefined;
      if (take) take(pending);
      else queue.push(pending);
    });

  return {
    invoke,
    async invokeJson<T>(event: unknown): Promise<T> {
      const outcome = await invoke(event);
      if (outcome.kind === "buffered") return JSON.parse(outcome.payload.toString("utf8")) as T;
      if (outcome.kind === "error") throw new Error(`${options.name}: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
      throw new Error(`${options.name}: expected a buffered result, got a stream (${outcome.contentType})`);
    },
    output: () => log,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill();
        await exited;
      }
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function parseError(body: Buffer, headers: http.IncomingHttpHeaders): FunctionError {
  const parsed = JSON.parse(body.toString("utf8") || "{}") as Partial<FunctionError>;
  return {
    errorType: parsed.errorType ?? String(headers["lambda-runtime-function-error-type"] ?? "Unknown"),
    errorMessage: parsed.errorMessage ?? "",
  };
}

function decodeErrorBody(encoded: string | undefined): { errorMessage: string } {
  if (!encoded) return { errorMessage: "" };
  return { errorMessage: (JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as FunctionError).errorMessage ?? "" };
}
