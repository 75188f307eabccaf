import { afterEach, describe, expect, it, vi } from "vitest";
import { LEASE_MS, TwelveClockLease, type LastRunAnswer, type TakeAnswer } from "../../adapters/cloudflare/runtime/clock-lease.ts";

// The lease's Durable Object on its own, with an in-memory storage and a fake clock: what the
// workerd tests cannot wait for (a lease that runs out after 15 minutes, by its alarm or on the
// next take) and a late word from a run whose lease was taken again.
function leaseObject() {
  const data = new Map<string, unknown>();
  let alarm: number | null = null;
  const state = {
    storage: {
      get: async <T,>(key: string) => data.get(key) as T | undefined,
      put: async (entries: Record<string, unknown>) => void Object.entries(entries).forEach(([k, v]) => data.set(k, structuredClone(v))),
      delete: async (key: string) => data.delete(key),
      setAlarm: async (at: number) => void (alarm = at),
      deleteAlarm: async () => void (alarm = null),
    },
    blockConcurrencyWhile: <T,>(run: () => Promise<T>) => run(),
  };
  const object = new TwelveClockLease(state, {});
  const call = async <T,>(method: string, path: string, body?: unknown) => (await (await object.fetch(new Request(`https://lease${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }))).json()) as T;
  return {
    object,
    alarm: () => alarm,
    take: (scheduledTime: number) => call<TakeAnswer>("POST", "/take", { scheduledTime }),
    end: (id: string, run: unknown) => call("POST", "/end", { id, run }),
    last: () => call<LastRunAnswer>("GET", "/last"),
  };
}

const T0 = Date.parse("2026-07-01T10:00:00Z");

describe("the clock lease (runtime/clock-lease.ts)", () => {
  afterEach(() => vi.useRealTimers());

  it("runs out after LEASE_MS when its run never hands it back: by the alarm, recorded as failed", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    const lease = leaseObject();
    const first = await lease.take(T0);
    expect(first.taken).toBe(true);
    expect(lease.alarm()).toBe(T0 + LEASE_MS);
    vi.setSystemTime(T0 + 60_000);
    expect((await lease.take(T0 + 60_000)).taken).toBe(false);
    vi.setSystemTime(T0 + LEASE_MS);
    await lease.object.alarm();
    expect(await lease.last()).toEqual({ going: null, last: expect.objectContaining({ scheduledTime: T0, outcome: "failed", detail: expect.stringContaining("no word from the run within 15 minutes") }) });
    expect((await lease.take(T0 + LEASE_MS)).taken).toBe(true);
  });

  it("runs out on the next take when the alarm comes late, and a late word from the old run leaves the new lease be", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    const lease = leaseObject();
    const old = (await lease.take(T0)) as Extract<TakeAnswer, { taken: true }>;
    vi.setSystemTime(T0 + LEASE_MS + 1);
    const next = await lease.take(T0 + LEASE_MS);
    expect(next.taken).toBe(true);
    await lease.end(old.id, { scheduledTime: T0, startedAt: T0, outcome: "ok", durationMs: LEASE_MS + 1, detail: null });
    // Still held by the new run: another take is skipped.
    expect((await lease.take(T0 + LEASE_MS + 60_000)).taken).toBe(false);
    expect((await lease.last()).going).toEqual({ scheduledTime: T0 + LEASE_MS, startedAt: T0 + LEASE_MS + 1 });
  });
});
