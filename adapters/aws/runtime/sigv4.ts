// AWS Signature Version 4, header form.
//
// PORTABLE: this file ships inside Lambda bundles, so it imports no `node:` module (it uses
// Node's crypto only when the runtime hands it over, else WebCrypto) and stays small enough
// that the bundle does not need the AWS SDK just to send a queue message.

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignRequestInput {
  method: string;
  url: string;
  /** Headers that are sent and signed (content-type, x-amz-target, ...). */
  headers: Record<string, string>;
  body: string;
  service: string;
  region: string;
  credentials: AwsCredentials;
  now?: Date;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const encoder = new TextEncoder();

/**
 * Node's own crypto where there is one (Lambda, twelve dev), found at run time so the bundle
 * names no `node:` module: its hashes are synchronous and cost a few microseconds, where each
 * WebCrypto call is a job on the thread pool (three per signed request). Elsewhere, WebCrypto.
 */
const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process?.getBuiltinModule?.("node:crypto") as
  | { createHash(algorithm: string): NodeHash; createHmac(algorithm: string, key: Uint8Array | string): NodeHash }
  | undefined;
interface NodeHash {
  update(data: string | Uint8Array): NodeHash;
  digest(): Uint8Array;
  digest(encoding: "hex"): string;
}

/**
 * Returns every header to send: the caller's headers lower-cased, plus host,
 * x-amz-date, x-amz-security-token (when the credentials carry one) and
 * authorization. The session token is signed, which every service accepts.
 */
export async function signRequest(req: SignRequestInput): Promise<Record<string, string>> {
  const url = new URL(req.url);
  const amzDate = toAmzDate(req.now ?? new Date());
  const dateStamp = amzDate.slice(0, 8);

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    const lower = name.toLowerCase();
    // Anything the signer owns is recomputed, never trusted from the caller.
    if (lower === "authorization" || lower === "host" || lower === "x-amz-date" || lower === "x-amz-security-token") continue;
    headers[lower] = value;
  }
  headers["host"] = url.host; // includes a non-default port, as the wire Host does
  headers["x-amz-date"] = amzDate;
  if (req.credentials.sessionToken) headers["x-amz-security-token"] = req.credentials.sessionToken;

  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(";");
  const canonicalHeaders = names.map((n) => `${n}:${canonicalHeaderValue(headers[n]!)}\n`).join("");
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalUri(url.pathname, req.service),
    canonicalQuery(url.search),
    canonicalHeaders,
    signedHeaders,
    nodeCrypto ? nodeCrypto.createHash("sha256").update(req.body).digest("hex") : await sha256Hex(req.body),
  ].join("\n");

  const scope = `${dateStamp}/${req.region}/${req.service}/aws4_request`;
  let signature: string;
  if (nodeCrypto) {
    const stringToSign = [ALGORITHM, amzDate, scope, nodeCrypto.createHash("sha256").update(canonicalRequest).digest("hex")].join("\n");
    signature = nodeCrypto.createHmac("sha256", nodeSigningKey(req.credentials.secretAccessKey, dateStamp, req.region, req.service)).update(stringToSign).digest("hex");
  } else {
    const stringToSign = [ALGORITHM, amzDate, scope, await sha256Hex(canonicalRequest)].join("\n");
    const key = await signingKey(req.credentials.secretAccessKey, dateStamp, req.region, req.service);
    signature = toHex(await crypto.subtle.sign("HMAC", key, encoder.encode(stringToSign)));
  }

  headers["authorization"] =
    `${ALGORITHM} Credential=${req.credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

function toAmzDate(d: Date): string {
  // 2015-08-30T12:36:00.000Z -> 20150830T123600Z
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

function canonicalHeaderValue(v: string): string {
  return v.trim().replace(/\s+/g, " ");
}

/** RFC 3986 encoding: everything but unreserved characters, as SigV4 wants. */
function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// Non-S3 services compare against the wire path encoded once more (so a
// %3A on the wire is %253A here); S3 uses the wire path as-is, normalised.
function canonicalUri(pathname: string, service: string): string {
  if (pathname === "" || pathname === "/") return "/";
  const segments = pathname.split("/").map((seg) =>
    service === "s3" ? encodeRfc3986(safeDecode(seg)) : encodeRfc3986(encodeRfc3986(safeDecode(seg))),
  );
  return segments.join("/");
}

function canonicalQuery(search: string): string {
  if (search.length <= 1) return "";
  const pairs = search
    .slice(1)
    .split("&")
    .filter((p) => p !== "")
    .map((p) => {
      const eq = p.indexOf("=");
      const k = eq < 0 ? p : p.slice(0, eq);
      const v = eq < 0 ? "" : p.slice(eq + 1);
      return [encodeRfc3986(safeDecode(k)), encodeRfc3986(safeDecode(v))] as const;
    });
  // Sort by code point on the encoded key, then value (not locale order).
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

async function sha256Hex(s: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", encoder.encode(s)));
}

function toHex(buf: ArrayBuffer): string {
  let out = "";
  for (const b of new Uint8Array(buf)) out += b.toString(16).padStart(2, "0");
  return out;
}

async function hmac(key: BufferSource, data: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", k, encoder.encode(data));
}

// The derived key only changes per day/region/service, and deriving it costs
// four HMACs; a warm Lambda signing many messages reuses it. Bounded so a
// long-lived process rotating credentials cannot grow it without limit.
const keyCache = new Map<string, CryptoKey>();
const KEY_CACHE_MAX = 32;

async function signingKey(secret: string, date: string, region: string, service: string): Promise<CryptoKey> {
  const cacheKey = `${secret}\n${date}\n${region}\n${service}`;
  const cached = keyCache.get(cacheKey);
  if (cached) return cached;
  const kDate = await hmac(encoder.encode(`AWS4${secret}`), date);
  const kRegion = await hmac(kDate, region);
  const kService = await hmac(kRegion, service);
  const kSigning = await hmac(kService, "aws4_request");
  const key = await crypto.subtle.importKey("raw", kSigning, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
  keyCache.set(cacheKey, key);
  return key;
}

const nodeKeyCache = new Map<string, Uint8Array>();

/** The same derived key, with Node's crypto (see nodeCrypto). */
function nodeSigningKey(secret: string, date: string, region: string, service: string): Uint8Array {
  const cacheKey = `${secret}\n${date}\n${region}\n${service}`;
  const cached = nodeKeyCache.get(cacheKey);
  if (cached) return cached;
  const step = (key: Uint8Array | string, data: string) => nodeCrypto!.createHmac("sha256", key).update(data).digest();
  const key = step(step(step(step(`AWS4${secret}`, date), region), service), "aws4_request");
  if (nodeKeyCache.size >= KEY_CACHE_MAX) nodeKeyCache.clear();
  nodeKeyCache.set(cacheKey, key);
  return key;
}
