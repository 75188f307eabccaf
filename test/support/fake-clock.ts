import type { Clock } from "../../src/dev/time.ts";

interface FakeTimer {
  at: number;
  run: () => void;
}

/**
 * Event-loop turns settle() lets pass: each runs the setImmediate callbacks queued and the
 * promise callbacks they lead to. Enough for the chains the broker and the clock make (a pump,
 * the worker's promise, the pump after it), with room to spare; real I/O is not waited for.
 */
const SETTLE_TURNS = 20;

/**
 * A Clock for tests: time stands still until advance() moves it. The timers due on the way run
 * in time order (those due at the same time in the order they were set), and what they set off
 * settles before the next one runs, so a test reads like a timeline without waiting for one.
 */
export class FakeClock implements Clock {
  #now: number;
  #lastId = 0;
  readonly #timers = new Map<number, FakeTimer>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(run: () => void, ms: number): number {
    const id = ++this.#lastId;
    // Node runs a timer of 0, a negative or a NaN delay on the next turn: here, at the same time.
    this.#timers.set(id, { at: this.#now + (ms > 0 ? ms : 0), run });
    return id;
  }

  clearTimeout(timer: unknown): void {
    if (typeof timer === "number") this.#timers.delete(timer);
  }

  /** Timers set and not yet run or cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  /** A promise for test code (a worker holding a batch) that resolves when this clock has moved `ms` on. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Moves time `ms` on, running each timer due on the way at its time, and settling after each. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await this.settle();
    for (let next = this.#nextDue(end); next !== undefined; next = this.#nextDue(end)) {
      const [id, timer] = next;
      this.#timers.delete(id);
      // After a jump() a timer runs late, at the time it is now (as after a suspend).
      this.#now = Math.max(this.#now, timer.at);
      timer.run();
      await this.settle();
    }
    this.#now = end;
    await this.settle();
  }

  /** Moves time `ms` on at once, running no timer: a machine that slept. The next advance() runs what is overdue, late. */
  jump(ms: number): void {
    this.#now += ms;
  }

  /** Lets promises and setImmediate callbacks run (see SETTLE_TURNS), without moving time. */
  async settle(): Promise<void> {
    for (let turn = 0; turn < SETTLE_TURNS; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** The earliest timer due by `end`; ids grow, so of those due at once the first set wins. */
  #nextDue(end: number): [number, FakeTimer] | undefined {
    let best: [number, FakeTimer] | undefined;
    for (const entry of this.#timers) {
      if (entry[1].at <= end && (best === undefined || entry[1].at < best[1].at)) best = entry;
    }
    return best;
  }
}
