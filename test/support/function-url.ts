import type { HttpEventV2, HttpResultV2 } from "../../adapters/aws/runtime/events.ts";
import type { InvocationOutcome } from "./lambda-runtime-api.ts";

// What a Lambda Function URL does around an invocation: the HTTP request becomes a payload 2.0
// event (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads), and
// the function's answer, buffered or streamed, becomes the HTTP response.

const STREAM_PRELUDE_TYPE = "application/vnd.awslambda.http-integration-response";
const PRELUDE_DELIMITER = Buffer.alloc(8);

/**
 * A Request as a Function URL delivers it: names lowercased, repeated headers joined by commas,
 * header bytes decoded as UTF-8, cookies apart, a text body as text and any other as base64.
 */
export async function functionUrlEvent(request: Request, template: HttpEventV2 & Record<string, unknown>): Promise<HttpEventV2> {
  const url = new URL(request.url);
  const headers: Record<string, string> = { host: url.host, "x-forwarded-proto": "https", "x-forwarded-port": "443" };
  request.headers.forEach((value, name) => {
    if (name !== "cookie") headers[name] = Buffer.from(value, "latin1").toString("utf8");
  });
  const bytes = Buffer.from(await request.arrayBuffer());
  const text = /^text\/|[/+](json|xml)\b|x-www-form-urlencoded/i.test(request.headers.get("content-type") ?? "");
  const cookies = request.headers.get("cookie")?.split("; ");
  const { queryStringParameters: _, body: __, cookies: ___, ...rest } = template;
  const query = [...url.searchParams].reduce<Record<string, string>>((all, [k, v]) => ({ ...all, [k]: k in all ? `${all[k]},${v}` : v }), {});
  return {
    ...rest,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies ? { cookies } : {}),
    headers,
    ...(url.search ? { queryStringParameters: query } : {}),
    requestContext: { ...template.requestContext, domainName: url.host, http: { ...template.requestContext.http, method: request.method, path: url.pathname } },
    ...(bytes.length ? { body: text ? bytes.toString("utf8") : bytes.toString("base64") } : {}),
    isBase64Encoded: bytes.length > 0 && !text,
  } as HttpEventV2;
}

/** The HTTP response a Function URL sends for an invocation's outcome. */
export async function functionUrlResponse(outcome: InvocationOutcome): Promise<Response> {
  if (outcome.kind === "error") return new Response(JSON.stringify({ Message: "Internal Server Error" }), { status: 502 });
  if (outcome.kind === "buffered") return bufferedResponse(JSON.parse(outcome.payload.toString("utf8")));
  return streamedResponse(outcome);
}

/** A structured result, or (no statusCode) any JSON value as a 200 application/json body. */
export function bufferedResponse(result: unknown): Response {
  if (!isStructured(result)) return Response.json(result);
  const headers = new Headers(result.headers);
  for (const cookie of result.cookies ?? []) headers.append("set-cookie", cookie);
  const body = result.body ? Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8") : null;
  return new Response(body, { status: result.statusCode, headers });
}

function isStructured(result: unknown): result is HttpResultV2 {
  return typeof result === "object" && result !== null && "statusCode" in result;
}

/**
 * A streamed response (InvokeMode RESPONSE_STREAM): with awslambda.HttpResponseStream, the
 * stream opens with a JSON prelude (status, headers, cookies) and 8 NUL bytes; the body follows
 * and reaches the client as it comes. An error before the body is a 502; after, a cut stream.
 */
async function streamedResponse(outcome: Extract<InvocationOutcome, { kind: "streamed" }>): Promise<Response> {
  const chunks = outcome.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const withPrelude = outcome.contentType === STREAM_PRELUDE_TYPE;
  let head = Buffer.alloc(0);
  let prelude: { statusCode?: number; headers?: Record<string, string>; cookies?: string[] } = {};
  for (;;) {
    const next = await chunks.next();
    if (next.done) {
      const error = await outcome.ended;
      if (error || withPrelude) return new Response(JSON.stringify({ Message: "Internal Server Error" }), { status: 502 });
      break;
    }
    head = Buffer.concat([head, next.value]);
    if (!withPrelude) break;
    const end = head.indexOf(PRELUDE_DELIMITER);
    if (end < 0) continue;
    prelude = JSON.parse(head.subarray(0, end).toString("utf8"));
    head = head.subarray(end + PRELUDE_DELIMITER.length);
    break;
  }
  const rest = head;
  const headers = new Headers(prelude.headers ?? { "content-type": outcome.contentType });
  for (const cookie of prelude.cookies ?? []) headers.append("set-cookie", cookie);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (rest.length) controller.enqueue(new Uint8Array(rest));
    },
    async pull(controller) {
      const next = await chunks.next();
      if (!next.done) return controller.enqueue(new Uint8Array(next.value));
      const error = await outcome.ended;
      if (error) controller.error(new Error(`the function failed mid-stream: ${error.errorType}: ${error.errorMessage}`));
      else controller.close();
    },
  });
  const status = prelude.statusCode ?? 200;
  const nullBody = status === 204 || status === 304;
  return new Response(nullBody ? null : body, { status, headers });
}
