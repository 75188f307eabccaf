import { afterEach, describe, expect, it, vi } from "vitest";
import nodeCrypto from "node:crypto";
import { signRequest, type SignRequestInput } from "../../adapters/aws/runtime/sigv4.ts";

// Expected values are from AWS's published SigV4 test suite
// (aws-sig-v4-test-suite: get-vanilla, post-vanilla, post-x-www-form-urlencoded,
// get-vanilla-query-order-key-case, post-sts-token/post-sts-header-before).
const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const now = new Date("2015-08-30T12:36:00Z");
const base = { service: "service", region: "us-east-1", credentials, now };
const scope = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
const STS_TOKEN =
  "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

describe("signRequest (AWS SigV4 test suite)", () => {
  it("get-vanilla", async () => {
    const h = await signRequest({ ...base, method: "GET", url: "https://example.amazonaws.com/", headers: {}, body: "" });
    expect(h["authorization"]).toBe(
      `${scope}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
    );
    expect(h["host"]).toBe("example.amazonaws.com");
    expect(h["x-amz-date"]).toBe("20150830T123600Z");
    expect(h["x-amz-security-token"]).toBeUndefined();
    expect(h["x-amz-content-sha256"]).toBeUndefined();
  });

  it("post-vanilla", async () => {
    const h = await signRequest({ ...base, method: "POST", url: "https://example.amazonaws.com/", headers: {}, body: "" });
    expect(h["authorization"]).toBe(
      `${scope}, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b`,
    );
  });

  it("post-x-www-form-urlencoded (body is hashed, header names lower-cased)", async () => {
    const h = await signRequest({
      ...base,
      method: "POST",
      url: "https://example.amazonaws.com/",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "Param1=value1",
    });
    expect(h["authorization"]).toBe(
      `${scope}, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a`,
    );
    expect(h["content-type"]).toBe("application/x-www-form-urlencoded");
  });

  it("get-vanilla-query-order-key-case (query is sorted)", async () => {
    const h = await signRequest({
      ...base,
      method: "GET",
      url: "https://example.amazonaws.com/?Param2=value2&Param1=value1",
      headers: {},
      body: "",
    });
    expect(h["authorization"]).toBe(
      `${scope}, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500`,
    );
  });

  it("post-sts-header-before (session token is signed)", async () => {
    const h = await signRequest({
      ...base,
      credentials: { ...credentials, sessionToken: STS_TOKEN },
      method: "POST",
      url: "https://example.amazonaws.com/",
      headers: {},
      body: "",
    });
    expect(h["x-amz-security-token"]).toBe(STS_TOKEN);
    expect(h["authorization"]).toBe(
      `${scope}, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead`,
    );
  });

  it("puts a non-default port in host", async () => {
    const h = await signRequest({ ...base, method: "POST", url: "http://127.0.0.1:5000/", headers: {}, body: "{}" });
    expect(h["host"]).toBe("127.0.0.1:5000");
  });
});

// The derived signing key is cached per secret, date, region and service, in module state.
// Each test takes a freshly evaluated module, so the cache starts empty and nothing another
// test signed leaks in.
// Under Node the signer uses Node's crypto (found through process.getBuiltinModule); elsewhere
// WebCrypto. Both paths must sign alike and cache alike.
describe.each(["node", "webcrypto"] as const)("signRequest's signing-key cache (%s)", (path) => {
  const get = { ...base, method: "GET", url: "https://example.amazonaws.com/", headers: {}, body: "" };
  const GET_VANILLA = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
  const signature = (h: Record<string, string>) => /Signature=([0-9a-f]{64})$/.exec(h["authorization"] ?? "")?.[1];
  const freshSigner = async () => {
    vi.resetModules();
    if (path === "node") return (await import("../../adapters/aws/runtime/sigv4.ts")).signRequest;
    // Without getBuiltinModule (a runtime that is not Node) the module falls back to WebCrypto.
    const builtin = process.getBuiltinModule;
    (process as { getBuiltinModule?: unknown }).getBuiltinModule = undefined;
    try {
      return (await import("../../adapters/aws/runtime/sigv4.ts")).signRequest;
    } finally {
      process.getBuiltinModule = builtin;
    }
  };
  /** How many keys a signing derives or imports: WebCrypto importKey calls, or Node createHmac calls beyond the signature's one. */
  const keyWork = () => {
    if (path === "webcrypto") {
      const spy = vi.spyOn(crypto.subtle, "importKey");
      return { clear: () => spy.mockClear(), count: () => spy.mock.calls.length };
    }
    const spy = vi.spyOn(nodeCrypto, "createHmac");
    return { clear: () => spy.mockClear(), count: () => spy.mock.calls.length - 1 };
  };
  // Another day (the same time of day), region, service or secret: each needs its own key.
  const others: [string, Partial<SignRequestInput>][] = [
    ["the next day", { now: new Date("2015-08-31T12:36:00Z") }],
    ["another region", { region: "eu-west-1" }],
    ["another service", { service: "sqs" }],
    ["another secret", { credentials: { ...credentials, secretAccessKey: "another-secret" } }],
  ];

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("derives a key once for a secret, date, region and service, and again for each other one", async () => {
    const sign = await freshSigner();
    // Deriving a key imports HMAC keys; signing with a cached one imports none.
    const work = keyWork();
    const imports = async (req: SignRequestInput) => {
      work.clear();
      await sign(req);
      return work.count();
    };

    expect(await imports(get)).toBeGreaterThan(0);
    expect(await imports(get)).toBe(0);
    // Later the same day, another request: still the same key.
    expect(await imports({ ...get, method: "POST", body: "{}", now: new Date("2015-08-30T23:59:59Z") })).toBe(0);
    for (const [what, change] of others) expect(await imports({ ...get, ...change }), what).toBeGreaterThan(0);
    for (const [what, change] of others) expect(await imports({ ...get, ...change }), `${what}, again`).toBe(0);
    expect(await imports(get), "the first key, still cached").toBe(0);
  });

  it("never signs with a key cached for another day, region, service or secret", async () => {
    // What a signer with an empty cache gives for each request.
    const cold: (string | undefined)[] = [];
    for (const [, change] of others) cold.push(signature(await (await freshSigner())({ ...get, ...change })));

    const sign = await freshSigner();
    expect(signature(await sign(get))).toBe(GET_VANILLA);
    for (const [i, [what, change]] of others.entries()) {
      const h = await sign({ ...get, ...change });
      expect(signature(h), what).toBe(cold[i]);
      expect(signature(h), what).not.toBe(GET_VANILLA);
    }
    expect(signature(await sign(get)), "the first request, signed again").toBe(GET_VANILLA);
  });
});
