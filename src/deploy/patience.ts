import { usageError } from "../errors.ts";

/**
 * How long twelve waits on one call to a cloud API before giving up on that attempt (each
 * platform's client then retries with backoff), and how often it says it is still waiting.
 * TWELVE_CALL_TIMEOUT (seconds) raises it for a slow network or lowers it in a test.
 */
export interface Patience {
  /** One attempt's bound, connection and answer included. */
  callMs: number;
  /** After this long, and as often again, a call still waiting is reported. */
  noticeMs: number;
}

const DEFAULT_CALL_SECONDS = 30;
const NOTICE_MS = 10_000;

export function patience(env: NodeJS.ProcessEnv): Patience {
  const raw = env.TWELVE_CALL_TIMEOUT;
  const seconds = raw === undefined || raw === "" ? DEFAULT_CALL_SECONDS : Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw usageError(`TWELVE_CALL_TIMEOUT: expected a number of seconds above 0, got "${raw}"`, `Unset it for the default (${DEFAULT_CALL_SECONDS} s).`);
  }
  const callMs = seconds * 1000;
  return { callMs, noticeMs: Math.min(NOTICE_MS, callMs) };
}

/**
 * Runs `call`, telling `waiting` what it waits for each time another `noticeMs` passes
 * without an answer, so a stuck deploy says what it is stuck on.
 */
export async function reportingWait<T>(what: string, call: () => Promise<T>, noticeMs: number, waiting: ((line: string) => void) | undefined): Promise<T> {
  if (!waiting) return call();
  const started = Date.now();
  const timer = setInterval(() => waiting(`still waiting for ${what} (${Math.round((Date.now() - started) / 1000)} s)`), noticeMs);
  try {
    return await call();
  } finally {
    clearInterval(timer);
  }
}
