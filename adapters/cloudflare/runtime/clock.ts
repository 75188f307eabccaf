import type { ClockRun } from "../../../src/adapter.ts";
import { parseCrontab } from "../../../src/formation/crontab.ts";
import { zonedMinute } from "../../../src/formation/timezone.ts";
import { requireHandler } from "../../../src/runtime/module.ts";
import type { ProcessMeta, ScheduledController } from "../../../src/runtime/types.ts";
import { shouldRun } from "./clock-gate.ts";
import { LATE_LIMIT_MS } from "../../../src/runtime/late.ts";
import { LEASE_BINDING, type LastRunAnswer, type TakeAnswer, type TakeRequest } from "./clock-lease.ts";
import { describeError } from "../../../src/runtime/failure.ts";
import { DEV_BROKER_BINDING, installQueueTransport } from "./send.ts";

export { TwelveClockLease } from "./clock-lease.ts";

/** The key under which a clock's failed run reports its error to twelve dev (runtime/worker.ts's failure report). */
export const CLOCK_RUN_ID = "twelve:clock-run";

/**
 * The cron a run fired by twelve dev names (its own clock, or `twelve run`): twelve dev already
 * keeps the schedule's time zone, so such a run is not gated again. Cloudflare never fires a
 * cron of this text; a run it fires is always gated, even when its UTC cron reads like the
 * schedule (`0 * * * *` in Europe/Berlin is deployed as `0 * * * *` UTC).
 */
export const MANUAL_RUN_CRON = "twelve:run";

/** The secret the deployed clock's route asks for (set by twelve deploy; see ../resources/worker.ts). */
export const RUN_TOKEN_SECRET = "TWELVE_RUN_TOKEN";
/** The clock Worker's own routes: `twelve run --stage` and `twelve ps --stage`. Anything else is 404. */
export const RUN_PATH = "/__twelve/run";
export const LAST_RUN_PATH = "/__twelve/last-run";
/** How often a run waiting for the lease asks again. */
const POLL_MS = 1000;

interface DurableObjectStubLike {
  fetch(url: string, init?: RequestInit): Promise<Response>;
}
interface LeaseNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): DurableObjectStubLike;
}

/**
 * A clock on Workers. Cron Triggers are UTC-only, so a clock in another time zone is deployed
 * with UTC crons that cover every instant its local schedule can fall on (see ../schedule.ts),
 * and this wrapper runs the process only when the local time matches.
 *
 * One run at a time, as on every runtime: deployed, a run first takes the clock's lease in its
 * Durable Object (./clock-lease.ts); a run due while another is going is skipped and logged
 * with its scheduled time. Under twelve dev (no lease binding) twelve dev's clock keeps the rule.
 */
export function scheduledWorker(mod: unknown, meta: ProcessMeta) {
  const clock = requireHandler(mod, "scheduled", meta) as unknown as {
    scheduled(controller: ScheduledController, env: Record<string, unknown>, ctx: unknown): unknown;
  };
  const bind = installQueueTransport(meta);
  const schedule = meta.schedule ?? "";
  const timeZone = meta.timezone ?? "UTC";
  const tab = parseCrontab(schedule);
  const leaseOf = (env: Record<string, unknown>): DurableObjectStubLike | undefined => {
    const namespace = env[LEASE_BINDING] as LeaseNamespace | undefined;
    return namespace ? namespace.get(namespace.idFromName(meta.process)) : undefined;
  };

  /** One run under the lease: its record, and the error when it failed. */
  /** The lease for a run; `waitUntil`: while another run has it, ask again each second until then. */
  async function takeLease(lease: DurableObjectStubLike, scheduledTime: number, waitUntil: number | undefined): Promise<TakeAnswer> {
    for (;;) {
      const final = waitUntil === undefined || Date.now() + POLL_MS >= waitUntil;
      const request: TakeRequest = { scheduledTime, final, waited: waitUntil !== undefined };
      const answer = (await (await lease.fetch("https://lease/take", { method: "POST", body: JSON.stringify(request) })).json()) as TakeAnswer;
      if (answer.taken || final) return answer;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(POLL_MS, (waitUntil as number) - POLL_MS - Date.now()))));
    }
  }

  async function runOnce(scheduledTime: number, noRetry: () => void, env: Record<string, unknown>, ctx: unknown, waitUntil?: number): Promise<{ run: ClockRun; error?: unknown }> {
    const lease = leaseOf(env);
    let id: string | undefined;
    if (lease) {
      const answer = await takeLease(lease, scheduledTime, waitUntil);
      if (!answer.taken) {
        console.log(`clock "${meta.process}" skipped the run for ${zonedMinute(scheduledTime, timeZone)} (${new Date(scheduledTime).toISOString()}): ${answer.run.detail}`);
        return { run: answer.run };
      }
      id = answer.id;
    }
    // The process sees its own crontab line, not the UTC translation.
    const controller: ScheduledController = { cron: schedule, scheduledTime, noRetry };
    const startedAt = Date.now();
    let run: ClockRun;
    let error: unknown;
    try {
      await clock.scheduled(controller, env, ctx);
      run = { scheduledTime, startedAt, outcome: "ok", durationMs: Date.now() - startedAt, detail: null };
    } catch (thrown) {
      error = thrown;
      run = { scheduledTime, startedAt, outcome: "failed", durationMs: Date.now() - startedAt, detail: describeError(thrown) };
    }
    // Handed back however the run ended; a lease that cannot be handed back runs out (LEASE_MS).
    if (lease && id) await lease.fetch("https://lease/end", { method: "POST", body: JSON.stringify({ id, run }) }).catch((e: unknown) => console.error(`clock "${meta.process}" could not hand back its lease: ${describeError(e)}`));
    return error === undefined ? { run } : { run, error };
  }

  return {
    async scheduled(event: ScheduledController, env: Record<string, unknown>, ctx: unknown) {
      bind(env);
      // Cloudflare fires the UTC crons of ../schedule.ts, a superset of the schedule (even in UTC:
      // its cron dialect differs), so its runs pass the gate; twelve dev's runs are run as asked.
      if (event.cron !== MANUAL_RUN_CRON && !shouldRun(tab, timeZone, event.scheduledTime)) return;
      // A run Cloudflare fired waits for one going at most LATE_LIMIT_MS past its time (one rule
      // with AWS and twelve dev); a run asked for now (twelve run) is skipped at once.
      const waitUntil = event.cron === MANUAL_RUN_CRON ? undefined : event.scheduledTime + LATE_LIMIT_MS;
      const { run, error } = await runOnce(event.scheduledTime, () => event.noRetry(), env, ctx, waitUntil);
      if (run.outcome !== "failed") return;
      // Under twelve dev the run's error goes to twelve dev too, which reports the run with it.
      const devBroker = env[DEV_BROKER_BINDING] as { fetch(url: string, init: RequestInit): Promise<Response> } | undefined;
      await devBroker?.fetch("http://twelve-dev/failures", { method: "POST", body: JSON.stringify({ failures: { [CLOCK_RUN_ID]: { error: describeError(error), final: false } } }) }).catch(() => {});
      throw error;
    },

    /**
     * The deployed clock's two routes, for the deployer only (the stage's run token, a secret):
     * POST /__twelve/run runs it now, under the lease (409 when a run is going); GET
     * /__twelve/last-run reads its last run. Any other request, or a wrong token, is 404.
     */
    async fetch(request: Request, env: Record<string, unknown>, ctx: unknown): Promise<Response> {
      const { pathname } = new URL(request.url);
      const token = env[RUN_TOKEN_SECRET];
      if (typeof token !== "string" || !token || !sameText(request.headers.get("authorization") ?? "", `Bearer ${token}`)) return notFound();
      if (request.method === "POST" && pathname === RUN_PATH) {
        bind(env);
        const { run } = await runOnce(Date.now(), () => {}, env, ctx);
        const status = run.outcome === "ok" ? 200 : run.outcome === "skipped" ? 409 : 500;
        return Response.json({ run }, { status });
      }
      if (request.method === "GET" && pathname === LAST_RUN_PATH) {
        const lease = leaseOf(env);
        const answer: LastRunAnswer = lease ? ((await (await lease.fetch("https://lease/last")).json()) as LastRunAnswer) : { last: null, going: null };
        return Response.json(answer);
      }
      return notFound();
    },
  };
}

function notFound(): Response {
  return new Response("Not Found", { status: 404 });
}

/** Compares the whole of both texts whatever differs first, so the answer's timing does not tell how much of a token was right. */
function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}
