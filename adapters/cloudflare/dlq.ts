import type { DeadLetter, DeadLetters, DeadLetterSummary } from "../../src/adapter.ts";
import { failure } from "../../src/errors.ts";
import { deadLetterQueueName, queueName } from "../../src/formation/names.ts";
import type { Formation, WorkerProcess } from "../../src/formation/types.ts";
import type { CloudflareApi } from "./client.ts";
import { findQueue, queueBacklog } from "./resources/queue.ts";
import type { DeadLetterEnvelope } from "./runtime/worker.ts";

/** Cloudflare's peek returns at most this many messages, always the queue's first ones. */
export const PEEK_MAX = 100;

interface Peeked {
  id?: string;
  attempts?: number;
  body?: string;
  metadata?: Record<string, unknown>;
  ref?: string;
  timestamp_ms?: number;
}

/**
 * `twelve dlq --stage` on Cloudflare: each worker's dead-letter queue `A-S-<worker>-dlq`, read
 * with Queues' peek, which leases nothing and counts no delivery, and emptied with purge by
 * the peeked messages' refs (which counts no delivery either). Peek sees only a queue's first
 * 100 messages, and has no cursor: a listing of a longer queue shows those and says how many
 * more there are; `--redrive` and `--purge` of all go through the whole queue, 100 at a time
 * (each page leaves, and the next 100 come to the front). Pulling would reach the rest, but a
 * pull leases and counts an attempt, and would need a pull consumer on the queue: twelve does
 * not. Clocks have no dead-letter queue on Cloudflare (a failed cron run is not kept).
 */
export function cloudflareDeadLetters(api: CloudflareApi, formation: Formation, stage: string): DeadLetters {
  const dlqOf = (process: { name: string }) => deadLetterQueueName(formation.app, stage, process.name);
  const queueOf = async (name: string) => {
    const queue = await findQueue(api, name);
    if (!queue) throw failure(`the queue ${name} is not deployed to stage ${stage}`, "Run twelve deploy first.");
    return queue;
  };
  const peek = async (queueId: string) => (await api.send<{ messages?: Peeked[] }>("POST", `/queues/${queueId}/messages/peek`, { batch_size: PEEK_MAX })).messages ?? [];
  const purgeRefs = async (queueId: string, messages: Peeked[]) => {
    if (messages.length) await api.send("POST", `/queues/${queueId}/messages/purge`, { refs: messages.map((m) => ({ ref: m.ref })) });
  };
  /** Goes through the queue 100 at a time, `act` on each page taking what it wants out of it; ends when a page has nothing left to take. */
  async function drain(queueId: string, ids: string[] | undefined, act: (page: Peeked[]) => Promise<void>, progress: (done: number, total: number | null) => void) {
    const wanted = ids && new Set(ids);
    const found = new Set<string>();
    let done = 0;
    const total = ids?.length ?? (await queueBacklog(api, queueId));
    for (;;) {
      const page = (await peek(queueId)).filter((m) => !wanted || wanted.has(idOf(m)));
      if (page.length === 0) break;
      await act(page);
      for (const m of page) found.add(idOf(m));
      done += page.length;
      progress(done, total);
      // Only the chosen ids: the first page holds all of them that peek can reach.
      if (wanted) break;
    }
    return { done, missing: (ids ?? []).filter((id) => !found.has(id)) };
  }

  return {
    async summary() {
      return Promise.all(
        formation.processes.filter((p) => p.type !== "web").map(async (p): Promise<DeadLetterSummary> => {
          if (p.type === "clock") return { process: p.name, type: "clock", count: null, oldestSentAt: null, where: "none", note: "Cloudflare keeps no failed Cron Trigger runs (see twelve logs --follow)" };
          const where = `queue ${dlqOf(p)}`;
          const queue = await findQueue(api, dlqOf(p));
          if (!queue) return { process: p.name, type: "worker", count: null, oldestSentAt: null, where, note: "not deployed" };
          const [count, first] = await Promise.all([queueBacklog(api, queue.queue_id), peek(queue.queue_id)]);
          const sent = first.map((m) => deadLetterOf(m).sentAt).filter((t): t is number => t !== null);
          return { process: p.name, type: "worker", count: count ?? first.length, oldestSentAt: sent.length ? Math.min(...sent) : null, where };
        }),
      );
    },

    async *list(process, progress) {
      if (process.type === "clock") return;
      const queue = await queueOf(dlqOf(process));
      const [page, backlog] = await Promise.all([peek(queue.queue_id), queueBacklog(api, queue.queue_id)]);
      yield* page.map(deadLetterOf);
      progress(page.length, backlog);
      if (backlog !== null && backlog > page.length) {
        console.error(`note Cloudflare's peek shows a queue's first ${PEEK_MAX} messages: ${backlog - page.length} more dead letters of ${process.name} are not listed (--redrive or --purge without --id reaches them all)`);
      }
    },

    async redrive(process, ids, progress) {
      const [dead, target] = await Promise.all([queueOf(dlqOf(process)), queueOf(queueName(formation.app, stage, process.name))]);
      const { done, missing } = await drain(dead.queue_id, ids, async (page) => {
        // On the worker's queue first, each as it was sent; then out of the dead-letter queue.
        await Promise.all(page.map((m) => api.send("POST", `/queues/${target.queue_id}/messages`, pushBody(m))));
        await purgeRefs(dead.queue_id, page);
      }, progress);
      return { redriven: done, missing };
    },

    async purge(process, ids, progress) {
      if (process.type === "clock") return { purged: 0, missing: ids ?? [] };
      const dead = await queueOf(dlqOf(process as WorkerProcess));
      const { done, missing } = await drain(dead.queue_id, ids, (page) => purgeRefs(dead.queue_id, page), progress);
      return { purged: done, missing };
    },
  };
}

const contentType = (m: Peeked) => String(m.metadata?.["CF-Content-Type"] ?? "json");

function parsedBody(m: Peeked): unknown {
  if (contentType(m) !== "json") return m.body ?? "";
  try {
    return JSON.parse(m.body ?? "null");
  } catch {
    return m.body ?? "";
  }
}

function envelopeOf(body: unknown): DeadLetterEnvelope | undefined {
  return body !== null && typeof body === "object" && (body as Record<string, unknown>)["twelve:dead-letter"] === 1 ? (body as DeadLetterEnvelope) : undefined;
}

function idOf(m: Peeked): string {
  return envelopeOf(parsedBody(m))?.id ?? m.id ?? "";
}

export function deadLetterOf(m: Peeked): DeadLetter {
  const body = parsedBody(m);
  const envelope = envelopeOf(body);
  if (envelope) return { id: envelope.id, sentAt: envelope.sentAt, diedAt: m.timestamp_ms ?? null, attempts: envelope.attempts, body: envelope.body, error: envelope.error };
  // Moved by Queues itself (the Worker crashed or ran out of time on the last attempt): no reason kept.
  return { id: m.id ?? "", sentAt: m.timestamp_ms ?? null, diedAt: null, attempts: null, body, error: null };
}

/** The message as the worker's queue first had it: the body unwrapped from twelve's envelope, its content type kept. */
function pushBody(m: Peeked): { body: unknown; content_type: string } {
  const body = parsedBody(m);
  const envelope = envelopeOf(body);
  if (envelope) return { body: envelope.body, content_type: "json" };
  return { body, content_type: contentType(m) };
}
