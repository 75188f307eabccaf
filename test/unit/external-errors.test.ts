import { describe, expect, it } from "vitest";
import { asUserFacing } from "../../src/cli/external-errors.ts";
import { TwelveError } from "../../src/errors.ts";

describe("cloud API errors as the CLI shows them", () => {
  it("an AWS service error becomes a failure (exit 1) with the service's words and a hint, not a crash", () => {
    const denied = Object.assign(new Error("User: arn:aws:iam::1:user/ci is not authorized to perform: lambda:ListFunctions"), {
      name: "AccessDeniedException",
      $metadata: { httpStatusCode: 403 },
      $fault: "client",
    });
    const shown = asUserFacing(denied) as TwelveError;
    expect(shown).toBeInstanceOf(TwelveError);
    expect(shown.exitCode).toBe(1);
    expect(shown.message).toBe("AWS answered AccessDeniedException (HTTP 403): User: arn:aws:iam::1:user/ci is not authorized to perform: lambda:ListFunctions");
    expect(shown.hint).toContain("lack a permission");
  });

  it("leaves twelve's own errors and real bugs as they are", () => {
    const own = new TwelveError("x");
    expect(asUserFacing(own)).toBe(own);
    const bug = new TypeError("undefined is not a function");
    expect(asUserFacing(bug)).toBe(bug);
  });
});
