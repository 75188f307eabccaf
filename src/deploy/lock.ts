import os from "node:os";
import { processAlive } from "../alive.ts";
import { failure } from "../errors.ts";

/** A lock older than this is from a deploy that died: taken over, and said so. */
export const STALE_LOCK_MS = 30 * 60 * 1000;

/** Who holds a stage's deploy lock, as far as the platform's lock can tell. */
export interface LockHolder {
  /** When it was taken (ms). */
  since: number;
  /** "user@host pid 123", when the lock records it. */
  holder?: string;
  host?: string;
  pid?: number;
}

/**
 * A platform's one-deploy-at-a-time lock on a stage: something it can create atomically
 * (an IAM role, a queue), so a second creation fails.
 */
export interface DeployLock {
  /** Creates the lock; undefined when it was created, else who holds it. */
  create(me: LockHolder): Promise<LockHolder | undefined>;
  /** Removes the lock (at the end, or to take over a stale one). */
  remove(): Promise<void>;
  /** How to remove it by hand, for the message when it is held: "delete the IAM role x". */
  removeByHand: string;
}

/** This process, as it would hold a lock. */
export function lockHolder(now = Date.now()): LockHolder {
  return { since: now, holder: `${os.userInfo().username}@${os.hostname()} pid ${process.pid}`, host: os.hostname(), pid: process.pid };
}

/**
 * Whether a held lock may be taken over: it is older than 30 minutes, or it was taken on this
 * machine by a process that is gone (killed: no need to wait it out).
 */
export function isStale(lock: LockHolder, now = Date.now(), host = os.hostname()): boolean {
  if (now - lock.since >= STALE_LOCK_MS) return true;
  return lock.host === host && lock.pid !== undefined && !processAlive(lock.pid);
}

export interface LockedApply<P> {
  /** Reads the deployed state (again). */
  read(): Promise<void>;
  /** The plan from the state last read. */
  plan(): P;
  /** Whether the plan changes anything: a plan with nothing to do takes no lock. */
  hasWork(plan: P): boolean;
  lock: DeployLock;
  apply(plan: P): Promise<void>;
  app: string;
  stage: string;
  note(line: string): void;
}

/**
 * The one apply flow of every platform: nothing to do is done without a single mutating call,
 * not even the lock's; otherwise, holding the stage's lock, read the state again (another
 * deploy may have finished since this one planned), plan from it and apply that plan.
 */
export async function applyWithLock<P>(steps: LockedApply<P>): Promise<P> {
  if (!steps.hasWork(steps.plan())) return steps.plan();
  const me = lockHolder();
  let held = await steps.lock.create(me);
  if (held) {
    const who = held.holder ?? "another deploy";
    if (!isStale(held)) {
      throw failure(
        `another deploy of ${steps.app} (${steps.stage}) is running (${held.holder ? `${held.holder}, since` : "it took the lock at"} ${new Date(held.since).toISOString()})`,
        `Wait for it to finish. If it died, its lock expires after 30 minutes, or ${steps.lock.removeByHand}.`,
      );
    }
    steps.note(`taking over the lock of a deploy that started at ${new Date(held.since).toISOString()} and did not finish${held.holder ? ` (${who})` : ""}`);
    await steps.lock.remove().catch(() => {});
    held = await steps.lock.create(me);
    if (held) throw failure(`another deploy of ${steps.app} (${steps.stage}) took the lock first`, "Run deploy again when it is done.");
  }
  try {
    await steps.read();
    const plan = steps.plan();
    await steps.apply(plan);
    return plan;
  } finally {
    await steps.lock.remove().catch(() => {});
  }
}
