import { describe, expect, it } from "vitest";
import { explainAwsError } from "../../adapters/aws/errors.ts";
import { TwelveError } from "../../src/errors.ts";

describe("cloud API errors as the CLI shows them", () => {
  it("an AWS service error becomes a failure (exit 1) with the service's words and a hint, not a crash", () => {
    const denied = Object.assign(new Error("User: arn:aws:iam::1:user/ci is not authorized to perform: lambda:ListFunctions"), {
      name: "AccessDeniedException",
      $metadata: { httpStatusCode: 403 },
      $fault: "client",
    });
    const shown = explainAwsError(denied) as TwelveError;
    expect(shown).toBeInstanceOf(TwelveError);
    expect(shown.exitCode).toBe(1);
    expect(shown.message).toBe("AWS answered AccessDeniedException (HTTP 403): User: arn:aws:iam::1:user/ci is not authorized to perform: lambda:ListFunctions");
    expect(shown.hint).toContain("lack a permission");
  });

  it("is not AWS's to explain: twelve's own errors and real bugs", () => {
    expect(explainAwsError(new TwelveError("x"))).toBeUndefined();
    expect(explainAwsError(new TypeError("undefined is not a function"))).toBeUndefined();
  });
});
