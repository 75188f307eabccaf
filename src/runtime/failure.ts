/**
 * Why a message failed, kept beside the message for the platform wrapper that delivered it:
 * defineWorker notes the error a handler threw (and a schema's refusal, which is final: the
 * message is dead at once, never retried); a wrapper reads it back after queue() returns, to
 * report the reason (twelve dev's dead-letter store) or to move a message on its last attempt
 * to the dead-letter queue itself with the error attached (deployed).
 *
 * The registry lives on globalThis under a registered symbol, so the copy of this module in a
 * user's bundle and the wrapper's copy (they may be bundled from different paths) share it.
 */

export interface Failure {
  /** The error in one line: "TypeError: cannot read properties of undefined (reading 'id')". */
  error: string;
  /** true: do not retry; dead now (a schema refused the body). */
  final: boolean;
}

const KEY = Symbol.for("twelve.runtime.failures");
const registry = ((globalThis as Record<symbol, unknown>)[KEY] ??= new WeakMap<object, Failure>()) as WeakMap<object, Failure>;

/** The longest error kept: SQS message attributes and dev's dead-letter lines stay small. */
export const MAX_ERROR_CHARS = 1024;

export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message}` : String(error);
  const line = text.split("\n")[0] ?? "";
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS - 1)}…` : line;
}

/** Notes why `message` failed; the last note wins (a later attempt's error replaces an earlier one). */
export function noteFailure(message: object, error: unknown, final = false): void {
  registry.set(message, { error: describeError(error), final });
}

export function failureOf(message: object): Failure | undefined {
  return registry.get(message);
}
