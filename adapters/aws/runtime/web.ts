import type { ProcessMeta } from "../../../src/runtime/types.ts";
import { requireHandler } from "../../../src/runtime/module.ts";
import { lambdaExecutionContext, processEnv } from "./context.ts";
import type { HttpEventV2, HttpResultV2, LambdaContext } from "./events.ts";
import { installSqsTransport } from "./send.ts";

/**
 * The Lambda handler of a web process: a Function URL or HTTP API (payload 2.0) event
 * becomes a Request for the process's fetch(), and its Response becomes the result.
 */
export function webHandler(mod: unknown, meta: ProcessMeta) {
  const app = requireHandler(mod, "fetch", meta) as unknown as {
    fetch(request: Request, env: unknown, ctx: unknown): Response | Promise<Response>;
  };
  const env = processEnv(meta);
  installSqsTransport(meta);

  async function handler(event: HttpEventV2, _context?: LambdaContext): Promise<HttpResultV2> {
    const { ctx, settle } = lambdaExecutionContext();
    const response = await app.fetch(toRequest(event), env, ctx);
    const result = await toResult(response);
    await settle();
    return result;
  }
  // twelve dev serves requests straight to this, skipping the Lambda event round trip (whose
  // translation costs more than serving the request); the same env, the same code.
  return Object.assign(handler, {
    fetch(request: Request): Response | Promise<Response> {
      const { ctx, settle } = lambdaExecutionContext();
      const response = app.fetch(request, env, ctx);
      void settle();
      return response;
    },
  });
}

export function toRequest(event: HttpEventV2): Request {
  if (!event?.requestContext?.http) {
    throw new Error("web handler: expected a Function URL or API Gateway HTTP API (payload 2.0) event");
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers.set(name, value);
  }
  // Payload 2.0 moves cookies out of the headers into their own array.
  if (event.cookies?.length) headers.set("cookie", event.cookies.join("; "));

  const query = event.rawQueryString ? `?${event.rawQueryString}` : "";
  const method = event.requestContext.http.method;
  const hasBody = method !== "GET" && method !== "HEAD" && event.body !== undefined;
  const body = hasBody ? Buffer.from(event.body as string, event.isBase64Encoded ? "base64" : "utf8") : undefined;
  return new Request(`${origin(headers, event)}${event.rawPath || "/"}${query}`, { method, headers, body });
}

/** The request's origin, from Host (always sent by clients) or the domain AWS saw. */
function origin(headers: Headers, event: HttpEventV2): string {
  const scheme = headers.get("x-forwarded-proto") === "http" ? "http" : "https";
  for (const host of [headers.get("host"), event.requestContext.domainName]) {
    if (host && URL.canParse(`${scheme}://${host}`)) return `${scheme}://${host}`;
  }
  // Only hand-made events lack both; a placeholder host keeps the path and query usable.
  return "https://localhost";
}

export async function toResult(response: Response): Promise<HttpResultV2> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  const bytes = Buffer.from(await response.arrayBuffer());
  const binary = !isText(response.headers);
  return {
    statusCode: response.status,
    headers,
    ...(cookies.length ? { cookies } : {}),
    body: bytes.toString(binary ? "base64" : "utf8"),
    isBase64Encoded: binary,
  };
}

/** Text bodies travel as they are; everything else as base64, so no byte is mangled. */
function isText(headers: Headers): boolean {
  if (headers.has("content-encoding")) return false;
  const type = headers.get("content-type");
  if (!type) return true;
  return /^text\/|[/+](json|xml|javascript|ecmascript|x-www-form-urlencoded)\b|charset=/i.test(type);
}
