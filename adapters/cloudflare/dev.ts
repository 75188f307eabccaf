import path from "node:path";
import { ownModule } from "../../src/build/twelve-paths.ts";
import type { BrokerMessage, Outcome } from "../../src/dev/broker.ts";
import { forkHost } from "../../src/dev/host-parent.ts";
import type { DevEngine, DevProcess, DevStartInput } from "../../src/adapter.ts";
import type { HostCall, HostSpec } from "./dev/host.ts";
import type { Failure } from "../../src/runtime/failure.ts";
import { CLOCK_RUN_ID, MANUAL_RUN_CRON } from "./runtime/clock.ts";

const HOST = ownModule("adapters/cloudflare/dev/host");

/** What workerd's Fetcher.queue() reports about a batch (@cloudflare/workers-types). */
interface QueueResult {
  outcome: string;
  retryBatch: { retry: boolean; delaySeconds?: number };
  explicitAcks: string[];
  retryMessages: { msgId: string; delaySeconds?: number }[];
}

/**
 * The cloudflare engine of twelve dev: each process in its own workerd (driven by a host child,
 * dev/host.ts), from the bundle and wrangler.json `twelve build --target cloudflare` made, so
 * code that would fail on Workers fails here too. A web Worker serves its own port; sends go
 * to twelve dev's durable broker, which delivers batches with Fetcher.queue().
 */
export function cloudflareDevEngine(): DevEngine {
  return { start: startWorker };
}

async function startWorker(input: DevStartInput): Promise<DevProcess> {
  const { process: proc, built } = input;
  /** Why messages failed, as the worker wrapper reported them, until their batch's outcomes take them. */
  const failures = new Map<string, Failure>();
  const spec: HostSpec = { dir: path.join(input.outDir, proc.name), port: input.port, variables: input.variables, sends: built.sends };
  const host = await forkHost({
    script: HOST,
    name: proc.name,
    log: input.log,
    env: { ...process.env, TWELVE_DEV_HOST: JSON.stringify(spec) },
    onRequest: async (payload) => {
      if ("failures" in (payload as object)) {
        for (const [id, failure] of Object.entries((payload as { failures: Record<string, Failure> }).failures)) failures.set(id, failure);
        return null;
      }
      if ("bodies" in (payload as object)) {
        // sendBatch(), and the send()s of one turn: in their order, one write; each refusal by its index.
        const { worker, bodies, delaySeconds } = payload as { worker: string; bodies: unknown[]; delaySeconds?: number };
        const results = await Promise.allSettled(bodies.map((body) => input.send(worker, body, delaySeconds)));
        return { failures: results.flatMap((r, index) => (r.status === "rejected" ? [{ index, error: (r.reason as Error)?.message ?? String(r.reason) }] : [])) };
      }
      const { worker, body, delaySeconds } = payload as { worker: string; body: unknown; delaySeconds?: number };
      return input.send(worker, body, delaySeconds);
    },
  });
  const call = (c: HostCall) => host.invoke(c, proc.timeout);

  const devProcess: DevProcess = { ended: host.ended, stop: host.stop };
  if (proc.type === "web") {
    devProcess.url = `http://localhost:${input.port}`;
    devProcess.inFlight = host.load;
  }
  if (proc.type === "worker") {
    devProcess.deliver = async (queue: string, batch: BrokerMessage[]): Promise<Outcome[]> => {
      const messages = batch.map((m) => ({ id: m.id, timestamp: m.sentAt, body: m.body, attempts: m.attempts }));
      try {
        return withReasons(outcomes(batch, (await call({ op: "queue", queue, messages })) as QueueResult), failures);
      } finally {
        for (const m of batch) failures.delete(m.id);
      }
    };
  }
  if (proc.type === "clock") {
    devProcess.fire = async (scheduledTime: number) => {
      // twelve dev's clock already keeps the schedule's time zone: the Worker's gate lets this through.
      failures.delete(CLOCK_RUN_ID);
      const result = (await call({ op: "scheduled", cron: MANUAL_RUN_CRON, scheduledTime })) as { outcome: string };
      const error = failures.get(CLOCK_RUN_ID)?.error;
      failures.delete(CLOCK_RUN_ID);
      if (result.outcome !== "ok") throw new Error(error ?? `scheduled() ended with outcome "${result.outcome}"`);
    };
  }
  return devProcess;
}

/** The wrapper's reasons on the retried messages; a final refusal is dead now. */
function withReasons(decided: Outcome[], failures: ReadonlyMap<string, Failure>): Outcome[] {
  return decided.map((o): Outcome => {
    const failure = o.action === "retry" ? failures.get(o.id) : undefined;
    if (o.action !== "retry" || !failure) return o;
    return failure.final ? { id: o.id, action: "dead", reason: failure.error } : { ...o, reason: failure.error };
  });
}

/** Cloudflare's rules: a call on a message wins; on an exception, every message not acked retries. */
export function outcomes(batch: BrokerMessage[], result: QueueResult): Outcome[] {
  const acked = new Set(result.explicitAcks);
  const retried = new Map(result.retryMessages.map((r) => [r.msgId, r.delaySeconds]));
  return batch.map((m): Outcome => {
    if (acked.has(m.id)) return { id: m.id, action: "ack" };
    if (retried.has(m.id)) return { id: m.id, action: "retry", delaySeconds: retried.get(m.id) ?? result.retryBatch.delaySeconds ?? 0 };
    if (result.outcome !== "ok") return { id: m.id, action: "retry", delaySeconds: result.retryBatch.delaySeconds ?? 0, reason: `queue() ended with outcome "${result.outcome}" (a throw: see its output above)` };
    if (result.retryBatch.retry) return { id: m.id, action: "retry", delaySeconds: result.retryBatch.delaySeconds ?? 0, reason: "retried by the worker (retryAll())" };
    return { id: m.id, action: "ack" };
  });
}
