import type { DevProcess } from "../adapter.ts";
import type { ManifestProcess } from "../build/manifest.ts";
import type { Process } from "../formation/types.ts";
import { systemClock, type Clock } from "./time.ts";

/**
 * Thrown to whoever waits for a slot's process that will never come up: the slot was stopped
 * (twelve dev stops, the process left the formation) or replaced by a reload. A waiter that
 * wants the process anyway asks the slot that replaced it.
 */
export class SlotGone extends Error {
  override readonly name = "SlotGone";
}

/**
 * A process that cannot run as it was built: its module loads but lacks the handler of its
 * type. Starting it again would fail the same way, so its slot waits for a reload (an edit
 * that rebuilds it) instead of restarting.
 */
export class Unusable extends Error {
  override readonly name = "Unusable";
}

/** What a slot runs: the process, as configured and as built, and its environment. */
export interface SlotSpec {
  process: Process;
  built: ManifestProcess;
  variables: Record<string, string>;
  port: number | undefined;
}

export interface SlotEvents {
  ready(slot: ProcessSlot): void;
  /** The process ended by itself, or did not start; it starts again after `delayMs`. */
  crash(slot: ProcessSlot, reason: string, delayMs: number): void;
  /** The process cannot run as built (Unusable): it is not started again until a reload replaces the slot. */
  unusable?(slot: ProcessSlot, reason: string): void;
}

/** A process that ran this long before it crashed starts over at the shortest delay. */
const HEALTHY_MS = 30_000;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 10_000;

/**
 * One process of the formation under twelve dev, with an explicit lifecycle:
 *
 *   starting ──▶ up ──(ends by itself)──▶ crashed ──(backoff)──▶ starting ...
 *   starting ──(Unusable)──▶ unusable (until a reload replaces the slot)
 *   any state ──stop()──▶ stopped (for good: a reload makes a new slot)
 *
 * `whenUp()` resolves with the running process, waiting through starts and restarts, and
 * rejects with SlotGone once the slot is stopped: a promise that waits for a state can also
 * say "never", so a stopped or replaced process cannot deadlock what waited for it. An
 * unusable slot's waiters wait for the reload that replaces it: its batches are neither
 * charged an attempt nor handed back to be offered again at once.
 */
export class ProcessSlot {
  readonly spec: SlotSpec;
  state: "starting" | "up" | "crashed" | "unusable" | "stopped" = "starting";
  current: DevProcess | undefined;
  restarts = 0;
  /** When a crashed process starts again (its backoff), else null. */
  restartAt: number | null = null;
  readonly #launch: (spec: SlotSpec) => Promise<DevProcess>;
  readonly #events: SlotEvents;
  readonly #clock: Clock;
  #startedAt = 0;
  #restartTimer: unknown;
  #waiters: { resolve(p: DevProcess): void; reject(error: Error): void }[] = [];

  constructor(spec: SlotSpec, launch: (spec: SlotSpec) => Promise<DevProcess>, events: SlotEvents, clock: Clock = systemClock) {
    this.spec = spec;
    this.#launch = launch;
    this.#events = events;
    this.#clock = clock;
  }

  get stopped(): boolean {
    return this.state === "stopped";
  }

  get name(): string {
    return this.spec.process.name;
  }

  whenUp(): Promise<DevProcess> {
    if (this.state === "up" && this.current) return Promise.resolve(this.current);
    if (this.state === "stopped") return Promise.reject(new SlotGone(`${this.name} was stopped`));
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Starts the process (again); a failure to start counts as a crash. */
  async start(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "starting";
    this.restartAt = null;
    this.#startedAt = this.#clock.now();
    let instance: DevProcess;
    try {
      instance = await this.#launch(this.spec);
    } catch (error) {
      if (error instanceof Unusable && !this.stopped) {
        this.state = "unusable";
        return this.#events.unusable?.(this, error.message);
      }
      return this.#crashed(`failed to start: ${(error as Error).message}`);
    }
    // Stopped while it started: it never counts as up.
    if (this.stopped) return void (await instance.stop());
    this.current = instance;
    this.state = "up";
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(instance);
    this.#events.ready(this);
    void instance.ended.then((reason) => {
      if (this.current === instance) this.#crashed(reason);
    });
  }

  #crashed(reason: string): void {
    if (this.state === "stopped") return;
    this.current = undefined;
    this.state = "crashed";
    // A process that ran a while starts over at a short delay; one that keeps dying backs off.
    if (this.#clock.now() - this.#startedAt > HEALTHY_MS) this.restarts = 0;
    const delay = Math.min(FIRST_DELAY_MS * 2 ** this.restarts, MAX_DELAY_MS);
    this.restarts++;
    this.restartAt = this.#clock.now() + delay;
    this.#events.crash(this, reason, delay);
    this.#restartTimer = this.#clock.setTimeout(() => void this.start(), delay);
  }

  /**
   * Stops for good: waiters are told SlotGone, a restart due is cancelled, the process stops
   * (given `graceMs` to finish what it serves, else its engine's default).
   */
  async stop(why: "stopped" | "replaced" = "stopped", graceMs?: number): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopped";
    this.#clock.clearTimeout(this.#restartTimer);
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new SlotGone(`${this.name} was ${why}`));
    const instance = this.current;
    this.current = undefined;
    await instance?.stop(graceMs);
  }
}
