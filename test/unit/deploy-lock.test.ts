import os from "node:os";
import { describe, expect, it } from "vitest";
import { applyWithLock, isStale, STALE_LOCK_MS, type DeployLock, type LockHolder } from "../../src/deploy/lock.ts";

// The one apply flow of every platform, with a lock that only records what is asked of it.
function recordingLock(held: LockHolder[] = []) {
  const calls: string[] = [];
  const lock: DeployLock = {
    removeByHand: "delete the thing by hand",
    async create() {
      calls.push("create");
      return held.shift();
    },
    async remove() {
      calls.push("remove");
    },
  };
  return { lock, calls };
}

function flow(lock: DeployLock, calls: string[], work = true, apply = async () => void calls.push("apply")) {
  return applyWithLock({
    app: "shop",
    stage: "prod",
    lock,
    note: (line) => calls.push(`note: ${line}`),
    read: async () => void calls.push("read"),
    plan: () => ({ work }),
    hasWork: (plan) => plan.work,
    apply,
  });
}

describe("applyWithLock", () => {
  it("with nothing to do, makes no call at all: no lock, no second read", async () => {
    const { lock, calls } = recordingLock();
    await flow(lock, calls, false);
    expect(calls).toEqual([]);
  });

  it("takes the lock, reads the state again, applies the plan from it, and gives the lock back", async () => {
    const { lock, calls } = recordingLock();
    await flow(lock, calls);
    expect(calls).toEqual(["create", "read", "apply", "remove"]);
  });

  it("gives the lock back when applying fails", async () => {
    const { lock, calls } = recordingLock();
    await expect(flow(lock, calls, true, async () => Promise.reject(new Error("AWS said no")))).rejects.toThrow("AWS said no");
    expect(calls).toEqual(["create", "read", "remove"]);
  });

  it("stops before any change while another deploy holds a fresh lock, naming it and how to remove it", async () => {
    const since = Date.now() - 60_000;
    const { lock, calls } = recordingLock([{ since, holder: "ana@ci pid 7", host: "another-host", pid: 7 }]);
    const error = await flow(lock, calls).then(() => undefined, (e: Error & { hint?: string }) => e);
    expect(error?.message).toBe(`another deploy of shop (prod) is running (ana@ci pid 7, since ${new Date(since).toISOString()})`);
    expect(error?.hint).toBe("Wait for it to finish. If it died, its lock expires after 30 minutes, or delete the thing by hand.");
    expect(calls).toEqual(["create"]);
  });

  it("takes over a lock older than 30 minutes, or one whose holder on this machine is gone, and says so", async () => {
    const old = { since: Date.now() - STALE_LOCK_MS - 1000 };
    const first = recordingLock([old]);
    await flow(first.lock, first.calls);
    expect(first.calls).toEqual(["create", `note: taking over the lock of a deploy that started at ${new Date(old.since).toISOString()} and did not finish`, "remove", "create", "read", "apply", "remove"]);

    const dead = { since: Date.now(), holder: "me pid 999999", host: os.hostname(), pid: 999_999 };
    const second = recordingLock([dead]);
    await flow(second.lock, second.calls);
    expect(second.calls[1]).toMatch(/^note: taking over .* \(me pid 999999\)$/);
    expect(second.calls.at(-2)).toBe("apply");
  });

  it("the takeover rule: stale by age anywhere, by a gone process only on its own machine", () => {
    const now = Date.now();
    expect(isStale({ since: now - STALE_LOCK_MS }, now)).toBe(true);
    expect(isStale({ since: now - STALE_LOCK_MS + 1 }, now)).toBe(false);
    expect(isStale({ since: now, host: "here", pid: 999_999 }, now, "here")).toBe(true);
    expect(isStale({ since: now, host: "elsewhere", pid: 999_999 }, now, "here")).toBe(false);
    expect(isStale({ since: now, host: "here", pid: process.pid }, now, "here")).toBe(false);
  });
});
