export interface WaitOptions {
  /** Time between checks (default 100 ms). */
  intervalMs?: number;
  /**
   * Why what is waited for can no longer come (the process exited, the pump was stopped), or
   * undefined while it still can: the wait then fails at once with that reason instead of
   * running out the clock.
   */
  gone?: () => string | undefined;
  /** More to say when the wait fails: the log so far, the last answer seen. */
  detail?: () => string;
}

/**
 * Polls `check` until it gives a value (anything but undefined) and resolves with it. Fails,
 * naming `what` was awaited, once `timeoutMs` has passed or `options.gone` says it never will.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  what: string,
  options: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const failure = (message: string) => {
    const detail = options.detail?.();
    return new Error(detail ? `${message}\n${detail}` : message);
  };
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    const gone = options.gone?.();
    if (gone !== undefined) throw failure(`gave up waiting for ${what}: ${gone}`);
    if (Date.now() > deadline) throw failure(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
