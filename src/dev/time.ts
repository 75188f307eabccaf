/**
 * Where the dev emulator reads the time and sets its timers. The broker and the clock take one,
 * so their tests can move time forward instead of waiting for it (test/support/fake-clock.ts).
 */
export interface Clock {
  /** Milliseconds since the epoch, like Date.now(). */
  now(): number;
  /** Calls `run` once, `ms` from now. The handle is only good for this clock's clearTimeout. */
  setTimeout(run: () => void, ms: number): unknown;
  /** Cancels a timer; undefined and timers that already ran are ignored. */
  clearTimeout(timer: unknown): void;
}

/**
 * The real time and Node's timers. They are not unref'd: `twelve dev` stays up because of its
 * server anyway, and a broker or clock in a script should not let Node exit with work pending.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
};
