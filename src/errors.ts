/**
 * A mistake the user can fix: bad config, bad arguments, a missing credential.
 * Anything that is not a TwelveError is a bug in twelve and is shown with its stack.
 */
export class TwelveError extends Error {
  override readonly name = "TwelveError";
  /** What to do about it, one line. */
  readonly hint: string | undefined;
  /** 2 for usage and config errors, 1 for failures of the work itself. */
  readonly exitCode: 1 | 2;
  /** Extra lines, one per problem, when one error gathers several. */
  readonly details: string[];

  constructor(message: string, options: { hint?: string; exitCode?: 1 | 2; details?: string[]; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 2;
    this.details = options.details ?? [];
  }
}

/** A usage or config error: exit status 2. */
export function usageError(message: string, hint?: string, details?: string[]): TwelveError {
  return new TwelveError(message, { hint, details, exitCode: 2 });
}

/** The work itself failed (a build, a deploy step): exit status 1. */
export function failure(message: string, hint?: string, cause?: unknown): TwelveError {
  return new TwelveError(message, { hint, cause, exitCode: 1 });
}
