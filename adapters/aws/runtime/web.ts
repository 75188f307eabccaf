import type { ProcessMeta } from "../../../src/runtime/types.ts";
import { requireHandler } from "../../../src/runtime/module.ts";
import { lambdaExecutionContext, processEnv } from "./context.ts";
import type { HttpEventV2, HttpResultV2, LambdaContext, ResponseStream } from "./events.ts";
import { toRequest, toResult } from "./http-event.ts";
import { installSqsTransport } from "./send.ts";
import { lambdaStreaming, streamResponse } from "./stream.ts";

type App = { fetch(request: Request, env: unknown, ctx: unknown): Response | Promise<Response> };

/**
 * The Lambda handler of a web process: a Function URL or HTTP API (payload 2.0) event becomes
 * a Request for the process's fetch(). Under Lambda's runtime the Response is streamed (twelve
 * gives web functions the RESPONSE_STREAM invoke mode), so server-sent events and long bodies
 * flow as they are produced, and a response may reach 200 MB instead of a buffered one's 6 MB.
 * Imported anywhere else (no `awslambda` global), it is the buffered handler, which returns
 * the structured result.
 */
export function webHandler(mod: unknown, meta: ProcessMeta) {
  const app = requireHandler(mod, "fetch", meta) as unknown as App;
  const env = processEnv(meta);
  installSqsTransport(meta);

  // twelve dev serves requests straight to this, skipping the Lambda event round trip (whose
  // translation costs more than serving the request); the same env, the same code.
  const fetch = (request: Request): Response | Promise<Response> => {
    const { ctx, settle } = lambdaExecutionContext();
    const response = app.fetch(request, env, ctx);
    void settle();
    return response;
  };

  const awslambda = lambdaStreaming();
  if (awslambda) {
    const streaming = async (event: HttpEventV2, responseStream: ResponseStream, _context?: LambdaContext): Promise<void> => {
      const { ctx, settle } = lambdaExecutionContext();
      try {
        await streamResponse(awslambda, await app.fetch(toRequest(event), env, ctx), responseStream);
      } finally {
        // Lambda freezes the process once the handler returns, so waitUntil() work ends first.
        await settle();
      }
    };
    return Object.assign(awslambda.streamifyResponse(streaming), { fetch });
  }

  const buffered = async (event: HttpEventV2, _context?: LambdaContext): Promise<HttpResultV2> => {
    const { ctx, settle } = lambdaExecutionContext();
    const response = await app.fetch(toRequest(event), env, ctx);
    const result = await toResult(response);
    await settle();
    return result;
  };
  return Object.assign(buffered, { fetch });
}
