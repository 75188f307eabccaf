import type { IncomingMessage, ServerResponse } from "node:http";
import type { HttpEventV2, HttpResultV2 } from "../runtime/events.ts";

/** A Node request as a Function URL would deliver it to Lambda (payload 2.0). */
export function eventFromRequest(req: IncomingMessage, body: Buffer): HttpEventV2 {
  const url = new URL(req.url ?? "/", "http://localhost");
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === "cookie") cookies = (Array.isArray(value) ? value.join("; ") : value).split(/;\s*/).filter(Boolean);
    else headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  headers["x-forwarded-proto"] ??= "http";
  return {
    version: "2.0",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies ? { cookies } : {}),
    headers,
    requestContext: {
      domainName: headers.host ?? "localhost",
      http: { method: req.method ?? "GET", path: url.pathname, sourceIp: req.socket.remoteAddress ?? "127.0.0.1" },
    },
    ...(body.length ? { body: body.toString("base64") } : {}),
    isBase64Encoded: body.length > 0,
  };
}

/** Writes a handler's result as the Function URL would send it. */
export function writeResult(res: ServerResponse, result: HttpResultV2): void {
  const headers: Record<string, string | string[]> = { ...result.headers };
  if (result.cookies?.length) headers["set-cookie"] = result.cookies;
  // A text body stays a string: Node then sends headers and body in one write, not a writev.
  const body = !result.body ? undefined : result.isBase64Encoded ? Buffer.from(result.body, "base64") : result.body;
  // A Function URL sends a buffered body with its length; so does this (no chunked encoding).
  if (!("content-length" in headers) && !("transfer-encoding" in headers)) headers["content-length"] = String(body ? Buffer.byteLength(body) : 0);
  res.writeHead(result.statusCode, headers);
  res.end(body);
}
