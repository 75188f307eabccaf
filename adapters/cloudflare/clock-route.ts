import type { ClockRun, ProcessStatus } from "../../src/adapter.ts";
import { failure, type TwelveError } from "../../src/errors.ts";
import { LAST_RUN_PATH, RUN_PATH } from "./runtime/clock.ts";
import { LEASE_MS, type LastRunAnswer } from "./runtime/clock-lease.ts";
import { workersDevUrl, type WorkerResource } from "./resources/worker.ts";

// The deployer's side of a clock Worker's own routes (runtime/clock.ts): `twelve run --stage`
// fires it now, `twelve ps --stage` reads its last run, both with the stage's run token
// (resources/run-token.ts), at the Worker's workers.dev URL.

/**
 * Where a clock Worker answers: its workers.dev URL, or TWELVE_CLOUDFLARE_WORKER_URL (for tests
 * against a local workerd, or a route of your own): a URL, with `{worker}` for the Worker's name.
 */
export function clockWorkerUrl(worker: string, subdomain: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const override = env.TWELVE_CLOUDFLARE_WORKER_URL;
  if (override) return override.replaceAll("{worker}", worker).replace(/\/+$/, "");
  return subdomain ? workersDevUrl(worker, subdomain) : undefined;
}

/** One run now, under the clock's lease: its record, or a failure that says why it did not run (or failed). */
export async function runClockNow(process: string, url: string, token: string): Promise<ClockRun> {
  // A run may take as long as its lease (15 minutes); the request waits for it.
  const response = await call(process, `${url}${RUN_PATH}`, { method: "POST", token, timeoutMs: LEASE_MS + 60_000 });
  const { run } = (await response.json().catch(() => ({}))) as { run?: ClockRun };
  if (!run) throw refused(process, response.status);
  if (run.outcome === "skipped") throw failure(`${process} did not run: ${run.detail}`, `One run at a time: run it again when that run ends (twelve ps --stage shows it).`);
  if (run.outcome === "failed") throw failure(`${process} failed after ${((run.durationMs ?? 0) / 1000).toFixed(1)} s: ${run.detail}`, "Its output: twelve logs --follow --stage (live), or the dashboard's Workers Logs.");
  return run;
}

/**
 * A clock's last run, from its Worker (the lease's record); what cannot be read is a note of ps,
 * never its failure.
 */
export async function clockLastRun(process: string, worker: WorkerResource, subdomain: string | undefined, env: NodeJS.ProcessEnv, notes: string[]): Promise<ProcessStatus["lastRun"]> {
  const url = clockWorkerUrl(worker.name, subdomain, env);
  if (!worker.runToken || !url) {
    notes.push(`${process}: its last run is not known: ${worker.runToken ? "the account has no workers.dev subdomain" : "its Worker has no run token yet (twelve deploy sets one)"}`);
    return null;
  }
  try {
    return await readLastRun(process, url, worker.runToken);
  } catch (error) {
    notes.push(`${process}: its last run could not be read: ${(error as Error).message}`);
    return null;
  }
}

/** The clock's last run as ps shows it; a run going now reads as `running`. */
export async function readLastRun(process: string, url: string, token: string): Promise<ProcessStatus["lastRun"]> {
  const response = await call(process, `${url}${LAST_RUN_PATH}`, { method: "GET", token, timeoutMs: 15_000 });
  if (!response.ok) throw refused(process, response.status);
  const { last, going } = (await response.json()) as LastRunAnswer;
  if (going) return { scheduledTime: new Date(going.scheduledTime).toISOString(), outcome: "running", durationMs: null, detail: `started ${new Date(going.startedAt).toISOString()}` };
  return last ? { scheduledTime: new Date(last.scheduledTime).toISOString(), outcome: last.outcome, durationMs: last.durationMs, detail: last.detail } : null;
}

async function call(process: string, url: string, options: { method: string; token: string; timeoutMs: number }): Promise<Response> {
  try {
    return await fetch(url, { method: options.method, headers: { authorization: `Bearer ${options.token}` }, signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (error) {
    throw failure(`could not reach ${process}'s Worker at ${new URL(url).origin}: ${(error as Error).message}`, "Check the network (or TWELVE_CLOUDFLARE_WORKER_URL, when set), then run the command again.", error);
  }
}

/** The Worker answered, but not as twelve's clock route does: not this stage's token, or code of an older twelve. */
function refused(process: string, status: number): TwelveError {
  return failure(
    `${process}'s Worker refused the run token (HTTP ${status})`,
    "Its code or its run token is not this deploy's: run twelve deploy --stage again (it sets the token when the Worker lacks it).",
  );
}
