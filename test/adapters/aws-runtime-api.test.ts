import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { functionUrlResponse } from "../support/function-url.ts";
import { BUFFERED_RESPONSE_LIMIT, startLambdaFunction, type LambdaFunction } from "../support/lambda-runtime-api.ts";

// The local Runtime API with plain handlers written against AWS's documented interface (no
// twelve code), so the harness the AWS tests stand on is checked by aws-lambda-ric itself.
describe("the local Lambda Runtime API under aws-lambda-ric", () => {
  const roots: string[] = [];
  const started: LambdaFunction[] = [];
  const start = async (name: string, code: string) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-ric-"));
    fs.writeFileSync(path.join(root, "index.mjs"), code);
    roots.push(root);
    const fn = await startLambdaFunction({ name, taskRoot: root });
    started.push(fn);
    return fn;
  };

  afterAll(async () => {
    await Promise.all(started.map((f) => f.close()));
    for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
  });

  it("delivers the event and the context, and takes the result, an error and an oversized result back", async () => {
    const fn = await start(
      "plain",
      `export const handler = async (event, context) => {
         if (event.fail) throw new TypeError("asked to fail");
         if (event.big) return "x".repeat(${BUFFERED_RESPONSE_LIMIT} + 1);
         return { event, name: context.functionName, id: context.awsRequestId, left: context.getRemainingTimeInMillis() > 0 };
       };`,
    );
    const result = await fn.invokeJson<Record<string, unknown>>({ hello: "wörld" });
    expect(result).toMatchObject({ event: { hello: "wörld" }, name: "plain", left: true });
    expect(result.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await fn.invoke({ fail: true })).toEqual({ kind: "error", error: { errorType: "TypeError", errorMessage: "asked to fail" } });
    expect(await fn.invoke({ big: true })).toMatchObject({ kind: "error", error: { errorType: "Function.ResponseSizeTooLarge" } });
  });

  it("reports a module that throws while loading as an init error", async () => {
    const fn = await start("broken", `throw new Error("cannot start");`).catch((error: Error) => error);
    expect(fn).not.toBeInstanceOf(Error);
    expect(await (fn as LambdaFunction).invoke({})).toMatchObject({ kind: "error", error: { errorMessage: "cannot start" } });
  });

  it("reads a response streamed with awslambda.HttpResponseStream as the Function URL does", async () => {
    const fn = await start(
      "streaming",
      `export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
         const stream = awslambda.HttpResponseStream.from(responseStream, {
           statusCode: 418, headers: { "content-type": "text/plain", "x-a": "b" }, cookies: ["c=1", "d=2"],
         });
         stream.write("short ");
         await new Promise((resolve) => setTimeout(resolve, 50));
         stream.write("and stout");
         stream.end();
       });`,
    );
    const response = await functionUrlResponse(await fn.invoke({}));
    expect(response.status).toBe(418);
    expect(response.headers.get("x-a")).toBe("b");
    expect(response.headers.getSetCookie()).toEqual(["c=1", "d=2"]);
    expect(await response.text()).toBe("short and stout");
  });
});
