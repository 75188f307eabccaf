import type { DeadLetter, DeadLetters, DeadLetterSummary } from "../../src/adapter.ts";
import { failure } from "../../src/errors.ts";
import { deadLetterQueueName, queueName } from "../../src/formation/names.ts";
import type { Formation, WorkerProcess } from "../../src/formation/types.ts";
import type { MessageAckParams, MessagePullResponse } from "cloudflare/resources/queues/messages";
import type { CloudflareApi } from "./client.ts";
import { PULL_BATCH_SIZE, PULL_VISIBILITY_TIMEOUT_MS, pullConsumer } from "./resources/pull-consumer.ts";
import { findQueue, queueBacklog, type NamedQueue } from "./resources/queue.ts";
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

/** Lease ids released (or acked) per ack call, so that no one call is huge. */
const ACK_CHUNK = 1000;

type Pulled = MessagePullResponse.Message;

/**
 * `twelve dlq --stage` on Cloudflare: each worker's dead-letter queue `A-S-<worker>-dlq`, read
 * with Queues' peek, which leases nothing and counts no delivery, and emptied with purge by
 * the peeked messages' refs (which counts no delivery either). Peek sees only a queue's first
 * 100 messages, and has no cursor: `--redrive` and `--purge` of all go through the whole
 * queue, 100 at a time (each page leaves, and the next 100 come to the front), and a listing
 * of a longer queue pulls through the queue's HTTP pull consumer (resources/pull-consumer.ts):
 * each pull leases the next 100, so the listing reaches them all, and when it ends (done,
 * failed or broken off) every lease is released at once, nothing acked. A pull counts a
 * delivery in Cloudflare's counter, not in twelve's envelope (the attempts `twelve dlq`
 * shows), and a message at its last delivery is sent to the queue again before it would go.
 * Clocks have no dead-letter queue on Cloudflare (a failed cron run is not kept).
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

  /**
   * Every message of the queue, page by page, each page's dead letters yielded as it comes;
   * only lease ids (and Cloudflare's message ids, to know a message seen twice) are kept.
   * Every lease is released in the end, whatever ends the listing: the generator's return()
   * (a caller's break) and a failed call run the finally block too.
   */
  async function* pullAll(queue: NamedQueue, backlog: number | null, maxRetries: number, progress: (done: number, total: number | null) => void) {
    const leases: string[] = [];
    const seen = new Set<string>();
    let done = 0;
    try {
      for (;;) {
        const pulled = await api.send<MessagePullResponse>("POST", `/queues/${queue.queue_id}/messages/pull`, { batch_size: PULL_BATCH_SIZE, visibility_timeout_ms: PULL_VISIBILITY_TIMEOUT_MS });
        const page: DeadLetter[] = [];
        for (const m of pulled.messages ?? []) {
          const message = decoded(m);
          // At its last delivery: a release would delete it, so it goes to the queue again (a new
          // message, the same body) before its lease is acked; delayed past this listing's leases,
          // so that this listing does not meet it twice.
          if ((m.attempts ?? 0) >= maxRetries) {
            await api.send("POST", `/queues/${queue.queue_id}/messages`, { ...resentBody(message), delay_seconds: PULL_VISIBILITY_TIMEOUT_MS / 1000 });
            await api.send("POST", `/queues/${queue.queue_id}/messages/ack`, { acks: [{ lease_id: m.lease_id }], retries: [] } satisfies Omit<MessageAckParams, "account_id">);
          } else if (m.lease_id) leases.push(m.lease_id);
          // A lease that ran out (a listing slower than PULL_VISIBILITY_TIMEOUT_MS) brings a message back.
          if (seen.has(m.id ?? "")) continue;
          seen.add(m.id ?? "");
          page.push(deadLetterOf(message));
        }
        if (page.length === 0) break;
        done += page.length;
        progress(done, backlog ?? pulled.message_backlog_count ?? null);
        yield* page;
      }
    } finally {
      await release(queue.queue_id, leases);
    }
  }
  /** Back in the queue at once, in place, with no delay; no delivery acked. */
  async function release(queueId: string, leases: string[]) {
    for (let i = 0; i < leases.length; i += ACK_CHUNK) {
      const retries = leases.slice(i, i + ACK_CHUNK).map((lease_id) => ({ lease_id, delay_seconds: 0 }));
      await api.send("POST", `/queues/${queueId}/messages/ack`, { acks: [], retries } satisfies Omit<MessageAckParams, "account_id">);
    }
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
      const backlog = await queueBacklog(api, queue.queue_id);
      const consumer = pullConsumer(queue);
      // Peek where it sees everything (it counts no delivery); pull past its first 100.
      if (consumer && (backlog === null || backlog > PEEK_MAX)) {
        yield* pullAll(queue, backlog, consumer.settings?.max_retries ?? 3, progress);
        return;
      }
      const page = await peek(queue.queue_id);
      yield* page.map(deadLetterOf);
      progress(page.length, backlog);
      if (backlog !== null && backlog > page.length) {
        console.error(`note Cloudflare's peek shows a queue's first ${PEEK_MAX} messages: ${backlog - page.length} more dead letters of ${process.name} are not listed; twelve deploy gives ${queue.queue_name} the HTTP pull consumer a listing of them all needs (--redrive or --purge without --id reaches them all now)`);
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

function envelopeOf(body: unknown): (DeadLetterEnvelope & { diedAt?: number }) | undefined {
  return body !== null && typeof body === "object" && (body as Record<string, unknown>)["twelve:dead-letter"] === 1 ? (body as DeadLetterEnvelope) : undefined;
}

/**
 * A pulled message as a peeked one: a pull consumer gets json and bytes bodies base64-encoded
 * ("Your consumer will need to decode the json and bytes types",
 * developers.cloudflare.com/queues/configuration/pull-consumers/); one that is not is taken as is.
 */
function decoded(m: Pulled): Peeked {
  const type = String((m.metadata as Record<string, unknown> | undefined)?.["CF-Content-Type"] ?? "json");
  const { lease_id: _lease, metadata, ...rest } = m;
  const base = { ...rest, ...(metadata ? { metadata: metadata as Record<string, unknown> } : {}) };
  if (type !== "json" && type !== "bytes") return base;
  const text = Buffer.from(m.body ?? "", "base64").toString("utf8");
  if (type === "bytes") return { ...base, body: text };
  try {
    JSON.parse(text);
    return { ...base, body: text };
  } catch {
    return base;
  }
}

/** A message sent to its queue again as it is, an envelope keeping when it died. */
function resentBody(m: Peeked): { body: unknown; content_type: "json" | "text" } {
  const body = parsedBody(m);
  const envelope = envelopeOf(body);
  if (envelope) return { body: { ...envelope, diedAt: envelope.diedAt ?? m.timestamp_ms ?? null }, content_type: "json" };
  return contentType(m) === "json" ? { body, content_type: "json" } : { body: String(m.body ?? ""), content_type: "text" };
}

function idOf(m: Peeked): string {
  return envelopeOf(parsedBody(m))?.id ?? m.id ?? "";
}

export function deadLetterOf(m: Peeked): DeadLetter {
  const body = parsedBody(m);
  const envelope = envelopeOf(body);
  // diedAt: kept in the envelope by a message sent again at its last pull (resentBody).
  if (envelope) return { id: envelope.id, sentAt: envelope.sentAt, diedAt: envelope.diedAt ?? m.timestamp_ms ?? null, attempts: envelope.attempts, body: envelope.body, error: envelope.error };
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
