// Runs inside the clock's Worker, on Cloudflare: the one-run-at-a-time rule of every runtime.
// Cloudflare fires a Cron Trigger whether or not the previous invocation of the same Worker is
// still going, so the Worker asks a Durable Object (one named instance per clock) for a lease
// before it runs, and hands it back when the run ends. The object also keeps the clock's last
// run, which `twelve ps --stage` reads through the Worker's own route (./clock.ts).
//
// A plain class with fetch() and alarm() (no `cloudflare:workers` import): the wrapper talks to
// it over its stub's fetch, and the module loads in Node for unit tests too.
import type { ClockRun } from "../../../src/adapter.ts";
import { LATE_LIMIT_MS, skippedRun } from "../../../src/runtime/late.ts";

/** The Durable Object class the clock Worker exports, and its binding (wrangler.ts). */
export const LEASE_CLASS = "TwelveClockLease";
export const LEASE_BINDING = "TWELVE_CLOCK_LEASE";

/**
 * How long a lease holds without a word from its run: Cloudflare ends a Cron Trigger's
 * invocation after 15 minutes of wall time (developers.cloudflare.com/workers/platform/limits/,
 * "Duration"), so a run that has not handed its lease back by then is gone (its isolate died,
 * or it went past the limit), and the next run may start.
 */
export const LEASE_MS = 15 * 60_000;

export interface Lease {
  id: string;
  scheduledTime: number;
  startedAt: number;
  deadline: number;
}

/** A run asking for the lease; `final` false: it asks again if refused, so the refusal is not its skip yet. */
export interface TakeRequest {
  scheduledTime: number;
  final?: boolean;
  waited?: boolean;
}
export type TakeAnswer = { taken: true; id: string; startedAt: number } | { taken: false; run: ClockRun; going: { scheduledTime: number; startedAt: number } };
export interface LastRunAnswer {
  last: ClockRun | null;
  going: { scheduledTime: number; startedAt: number } | null;
}

/** What the object uses of Cloudflare's DurableObjectState (either storage backend has it). */
interface LeaseState {
  storage: {
    get<T>(key: string): Promise<T | undefined>;
    put(entries: Record<string, unknown>): Promise<void>;
    delete(key: string): Promise<boolean>;
    setAlarm(at: number): Promise<void>;
    deleteAlarm(): Promise<void>;
  };
  blockConcurrencyWhile<T>(run: () => Promise<T>): Promise<T>;
}

/** A run whose lease ran out: it never said how it ended. */
function lostRun(lease: Lease): ClockRun {
  return {
    scheduledTime: lease.scheduledTime,
    startedAt: lease.startedAt,
    outcome: "failed",
    durationMs: null,
    detail: `no word from the run within ${LEASE_MS / 60_000} minutes (Cloudflare's limit on a Cron Trigger's run): its Worker was ended`,
  };
}

export class TwelveClockLease {
  private readonly state: LeaseState;

  constructor(state: LeaseState, _env: unknown) {
    this.state = state;
  }

  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    // One request at a time: a take reads and writes the lease with no other take between.
    return this.state.blockConcurrencyWhile(async () => {
      if (request.method === "POST" && pathname === "/take") return json(await this.take((await request.json()) as TakeRequest));
      if (request.method === "POST" && pathname === "/end") {
        await this.end((await request.json()) as { id: string; run: ClockRun });
        return json({ ended: true });
      }
      if (request.method === "GET" && pathname === "/last") return json(await this.lastRun());
      return new Response("not found", { status: 404 });
    });
  }

  /** The lease's deadline passed with no word from its run: it is let go, and said so. */
  async alarm(): Promise<void> {
    await this.state.blockConcurrencyWhile(async () => {
      const lease = await this.state.storage.get<Lease>("lease");
      if (lease && lease.deadline <= Date.now()) await this.expire(lease);
      else if (lease) await this.state.storage.setAlarm(lease.deadline);
    });
  }

  private async take({ scheduledTime, final = true, waited = false }: TakeRequest): Promise<TakeAnswer> {
    const now = Date.now();
    let lease = await this.state.storage.get<Lease>("lease");
    // Checked here as well as by the alarm: an alarm may come late.
    if (lease && lease.deadline <= now) {
      await this.expire(lease);
      lease = undefined;
    }
    if (lease) {
      const going = { scheduledTime: lease.scheduledTime, startedAt: lease.startedAt };
      const run = skippedRun(scheduledTime, going, now, waited);
      // A run that will ask again (it waits for this one) is not skipped yet.
      if (final) await this.state.storage.put({ last: run });
      return { taken: false, run, going };
    }
    const taken: Lease = { id: crypto.randomUUID(), scheduledTime, startedAt: now, deadline: now + LEASE_MS };
    await this.state.storage.put({ lease: taken });
    await this.state.storage.setAlarm(taken.deadline);
    return { taken: true, id: taken.id, startedAt: now };
  }

  /** A run ended (ok or failed): its lease goes, and it is the last run. */
  private async end({ id, run }: { id: string; run: ClockRun }): Promise<void> {
    const lease = await this.state.storage.get<Lease>("lease");
    await this.state.storage.put({ last: run });
    // A late word from a run whose lease ran out (and was taken again) leaves the new lease be.
    if (lease?.id === id) {
      await this.state.storage.delete("lease");
      await this.state.storage.deleteAlarm();
    }
  }

  private async expire(lease: Lease): Promise<void> {
    await this.state.storage.put({ last: lostRun(lease) });
    await this.state.storage.delete("lease");
  }

  private async lastRun(): Promise<LastRunAnswer> {
    const [last, lease] = await Promise.all([this.state.storage.get<ClockRun>("last"), this.state.storage.get<Lease>("lease")]);
    const going = lease && lease.deadline > Date.now() ? { scheduledTime: lease.scheduledTime, startedAt: lease.startedAt } : null;
    return { last: last ?? null, going };
  }
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
