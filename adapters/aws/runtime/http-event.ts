import type { HttpEventV2, HttpResponseMetadata, HttpResultV2 } from "./events.ts";

/** A Function URL or HTTP API (payload 2.0) event as the Request the process's fetch() gets. */
export function toRequest(event: HttpEventV2): Request {
  if (!event?.requestContext?.http) {
    throw new Error("web handler: expected a Function URL or API Gateway HTTP API (payload 2.0) event");
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (typeof value === "string") headers.set(name, asByteString(value));
  }
  // Payload 2.0 moves cookies out of the headers into their own array.
  if (event.cookies?.length) headers.set("cookie", asByteString(event.cookies.join("; ")));

  const query = event.rawQueryString ? `?${event.rawQueryString}` : "";
  const method = event.requestContext.http.method;
  // aws-lambda-go's and aws-sam-cli's events carry "body": null for a request without one.
  const hasBody = method !== "GET" && method !== "HEAD" && typeof event.body === "string";
  const body = hasBody ? Buffer.from(event.body as string, event.isBase64Encoded ? "base64" : "utf8") : undefined;
  return new Request(`${origin(headers, event)}${event.rawPath || "/"}${query}`, { method, headers, body });
}

/**
 * A header value as the bytes the client sent, one character per byte. AWS decodes header bytes
 * as UTF-8 into the event, but a Headers value in Node must be a byte string (no code point above
 * 255), so `Srīperumbūdūr` would throw before the app runs. Its UTF-8 bytes read as Latin-1 are
 * exactly what the process gets under `twelve dev` (Node's HTTP server), so code tried locally
 * reads it the same way on AWS; `Buffer.from(value, "latin1").toString("utf8")` gives the text
 * back. hono's handle() percent-encodes such a value instead: lossless too, but a value no
 * server delivers. (Workers decode the bytes as UTF-8 themselves; Node cannot hold that.)
 * ASCII, nearly every header, passes unchanged.
 */
function asByteString(value: string): string {
  return /^[\x00-\x7f]*$/.test(value) ? value : Buffer.from(value, "utf8").toString("latin1");
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

/** Status, headers and cookies: what both the buffered result and a streamed response start with. */
export function responseMetadata(response: Response): HttpResponseMetadata {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  return { statusCode: response.status, headers, cookies: response.headers.getSetCookie() };
}

/** A Response as the buffered (structured) result a Function URL turns back into HTTP. */
export async function toResult(response: Response): Promise<HttpResultV2> {
  const { statusCode, headers, cookies } = responseMetadata(response);
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = isText(response.headers) ? utf8(bytes) : undefined;
  return {
    statusCode,
    headers,
    ...(cookies.length ? { cookies } : {}),
    body: text ?? bytes.toString("base64"),
    isBase64Encoded: text === undefined,
  };
}

/**
 * Whether the content type names text. Only the media type counts: a parameter such as
 * `application/pdf; charset=binary` says nothing about the bytes being text, and a response
 * without a content type may be anything. Everything else travels as base64, which is lossless.
 */
function isText(headers: Headers): boolean {
  const encoding = headers.get("content-encoding");
  if (encoding && !/^\s*identity\s*$/i.test(encoding)) return false;
  const mediaType = headers.get("content-type")?.split(";")[0]!.trim() ?? "";
  return /^text\/|^application\/(x-www-form-urlencoded|javascript|ecmascript)$|[/+](json|xml)$/i.test(mediaType);
}

/** The bytes as a string, if they are UTF-8; a text type with other bytes (Latin-1, say) stays base64. */
function utf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
