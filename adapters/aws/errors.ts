import { failure, type TwelveError } from "../../src/errors.ts";

/**
 * An error of an AWS service is not a bug in twelve: it is shown as a failure (exit 1) with
 * the service's own words and what to do, never as a crash with a stack. undefined: not AWS's.
 */
export function explainAwsError(error: unknown): TwelveError | undefined {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $fault?: string };
  if (e && typeof e === "object" && e.$metadata) {
    const status = e.$metadata.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : "";
    const hint =
      e.name === "AccessDeniedException" || e.name === "AccessDenied" || e.name === "UnauthorizedOperation"
        ? "The credentials in use lack a permission: see the README's list of what deploy needs."
        : e.name === "ExpiredTokenException" || e.name === "ExpiredToken"
          ? "The credentials expired: sign in again (aws sso login, or refresh the role)."
          : e.$fault === "server"
            ? "AWS had a problem on its side; run the command again."
            : "Check the message above; twelve changes nothing it has not said it would.";
    return failure(`AWS answered ${e.name ?? "an error"}${status}: ${e.message ?? ""}`, hint, error);
  }
  return undefined;
}
