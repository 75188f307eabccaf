import type { ProcessStatus } from "../../src/adapter.ts";
import { failure, type TwelveError } from "../../src/errors.ts";
import type { AwsClients } from "./client.ts";
import type { ClockRunLine } from "./runtime/events.ts";

// A deployed clock's runs as twelve can know them on AWS: the line the wrapper logs at the end
// of each run it makes (runtime/clock.ts), and what `twelve run` hears when a run is going.

/** How far back `twelve ps` looks for a clock's last run, widening until it finds one (the logs' longest default retention is 30 days). */
const LOOKBACK_MS = [3_600_000, 86_400_000, 31 * 86_400_000];

/** The newest clock-run line in the function's log group, or null (it never ran, or its log is gone). */
export async function lastClockRun(clients: AwsClients, functionName: string, now = Date.now()): Promise<ProcessStatus["lastRun"]> {
  for (const back of LOOKBACK_MS) {
    const newest = await newestRun(clients, `/aws/lambda/${functionName}`, now - back);
    if (newest !== undefined) return newest;
  }
  return null;
}

async function newestRun(clients: AwsClients, group: string, since: number): Promise<ProcessStatus["lastRun"] | undefined> {
  let newest: { at: number; line: ClockRunLine } | undefined;
  let token: string | undefined;
  do {
    const page = await clients.logs
      .send(new clients.sdk.logs.FilterLogEventsCommand({ logGroupName: group, startTime: since, filterPattern: '"clock-run"', nextToken: token }))
      .catch((error: Error) => {
        // A function that never ran has no log group yet.
        if (error.name === "ResourceNotFoundException") return { events: [], nextToken: undefined };
        throw error;
      });
    for (const e of page.events ?? []) {
      const line = parseRunLine(e.message ?? "");
      if (line && (!newest || (e.timestamp ?? 0) >= newest.at)) newest = { at: e.timestamp ?? 0, line };
    }
    token = page.nextToken;
  } while (token);
  if (!newest) return undefined;
  const { line } = newest;
  return { scheduledTime: line.scheduledTime, outcome: line.outcome, durationMs: line.durationMs, detail: line.detail };
}

/** A clock-run line out of a log message: Lambda puts its time, request id and level before the JSON. */
export function parseRunLine(message: string): ClockRunLine | undefined {
  const start = message.indexOf("{");
  if (start < 0) return undefined;
  try {
    const line = JSON.parse(message.slice(start)) as Partial<ClockRunLine>;
    if (line.twelve !== "clock-run" || typeof line.scheduledTime !== "string" || (line.outcome !== "ok" && line.outcome !== "failed")) return undefined;
    return { twelve: "clock-run", process: String(line.process ?? ""), scheduledTime: line.scheduledTime, startedAt: String(line.startedAt ?? ""), outcome: line.outcome, durationMs: typeof line.durationMs === "number" ? line.durationMs : 0, detail: typeof line.detail === "string" ? line.detail : null };
  } catch {
    return undefined;
  }
}

/**
 * What `twelve run CLOCK --stage` says when Lambda refuses the invocation: a clock's reserved
 * concurrency is 1, so TooManyRequestsException for it (Reason
 * ReservedFunctionConcurrentInvocationLimitExceeded) means its previous run is still going, and
 * this one is skipped, as a scheduled run would be. The account's own limits are said as such.
 */
export function invokeRefusal(process: string, functionName: string, error: Error & { Reason?: string }): TwelveError {
  if (error.name === "TooManyRequestsException" && (error.Reason === undefined || error.Reason === "ReservedFunctionConcurrentInvocationLimitExceeded")) {
    return failure(`${process} did not run: skipped: the previous run is still going (one run at a time)`, `Run it again when that run is done: twelve ps shows the last run, twelve logs ${process} what it is doing.`);
  }
  if (error.name === "TooManyRequestsException") {
    return failure(`${process} did not run: Lambda throttled it (${error.Reason}): ${error.message}`, "The account's concurrency or request rate is used up: run it again in a moment.");
  }
  return failure(`could not invoke ${functionName}: ${error.message}`, error.name === "ResourceNotFoundException" ? "Run twelve deploy first." : undefined);
}
