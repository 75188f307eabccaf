import { describe, expect, it } from "vitest";
import { signRequest } from "../../adapters/aws/runtime/sigv4.ts";

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

  it("uses the cached key consistently and a new one for another date", async () => {
    const req = { ...base, method: "GET", url: "https://example.amazonaws.com/", headers: {}, body: "" };
    const first = await signRequest(req);
    const again = await signRequest(req);
    expect(again["authorization"]).toBe(first["authorization"]);
    const nextDay = await signRequest({ ...req, now: new Date("2015-08-31T12:36:00Z") });
    expect(nextDay["authorization"]).toContain("/20150831/us-east-1/service/aws4_request");
    expect(nextDay["authorization"]).not.toBe(first["authorization"]);
  });

  it("puts a non-default port in host", async () => {
    const h = await signRequest({ ...base, method: "POST", url: "http://127.0.0.1:5000/", headers: {}, body: "{}" });
    expect(h["host"]).toBe("127.0.0.1:5000");
  });
});
