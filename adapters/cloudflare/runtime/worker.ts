import { describeError, failureOf, type Failure } from "../../../src/runtime/failure.ts";
import { requireHandler } from "../../../src/runtime/module.ts";
import type { Message, MessageBatch, ProcessMeta, RetryOptions } from "../../../src/runtime/types.ts";
import { DEV_BROKER_BINDING, installQueueTransport } from "./send.ts";

/** The producer binding of a worker's own dead-letter queue (`<queue>-dlq`), for the moves below. */
export const DEAD_LETTER_BINDING = "TWELVE_DEAD_LETTERS";

/** What a dead letter the wrapper moved holds: the body as it was, and why it died. */
export interface DeadLetterEnvelope {
  "twelve:dead-letter": 1;
  id: string;
  /** When the message was first sent (ms). */
  sentAt: number;
  attempts: number;
  error: string;
  body: unknown;
}

interface Producer {
  send(body: unknown, options?: { contentType?: string }): Promise<void>;
}

/**
 * A worker process on Workers. Cloudflare's MessageBatch is already twelve's shape; the
 * wrapper watches what the code decides about each message, so that one which fails for good
 * (its last delivery, or a schema's refusal) goes to the dead-letter queue from here with its
 * error, instead of being moved by Queues without a word of why. Under twelve dev it tells the
 * broker why each message failed instead (the broker keeps the dead letters).
 */
export function queueWorker(mod: unknown, meta: ProcessMeta) {
  const worker = requireHandler(mod, "queue", meta) as unknown as {
    queue(batch: MessageBatch, env: Record<string, unknown>, ctx: unknown): unknown;
  };
  const bind = installQueueTransport(meta);
  return {
    async queue(batch: MessageBatch, env: Record<string, unknown>, ctx: unknown) {
      bind(env);
      const decided = new Map<string, "ack" | { retry: RetryOptions | undefined }>();
      let whole: "ack" | { retry: RetryOptions | undefined } | undefined;
      // The code sees messages that record its decisions; nothing reaches Cloudflare until it is done.
      const messages: Message[] = batch.messages.map((m) => ({
        id: m.id,
        body: m.body,
        attempts: m.attempts,
        timestamp: m.timestamp,
        ack: () => void (decided.has(m.id) || decided.set(m.id, "ack")),
        retry: (options?: RetryOptions) => void (decided.has(m.id) || decided.set(m.id, { retry: options })),
      }));
      const watched: MessageBatch = {
        queue: batch.queue,
        messages,
        ackAll: () => void (whole ??= "ack"),
        retryAll: (options?: RetryOptions) => void (whole ??= { retry: options }),
      };
      let thrown: unknown;
      let threw = false;
      try {
        await worker.queue(watched, env, ctx);
      } catch (error) {
        threw = true;
        thrown = error;
        console.error(`worker "${meta.process}": queue() threw; every message not acknowledged will be retried:`, error);
      }

      const failures: Record<string, Failure> = {};
      const dead: { original: Message; failure: Failure }[] = [];
      batch.messages.forEach((original, i) => {
        const decision = decided.get(original.id) ?? whole ?? (threw ? { retry: undefined } : "ack");
        if (decision === "ack") return original.ack();
        const failure = failureOf(messages[i]!) ?? { error: threw ? describeError(thrown) : "retried by the worker", final: false };
        failures[original.id] = failure;
        if (failure.final || original.attempts > (meta.maxRetries ?? Number.POSITIVE_INFINITY)) dead.push({ original, failure });
        else original.retry(decision.retry);
      });

      const devBroker = env[DEV_BROKER_BINDING] as { fetch(url: string, init: RequestInit): Promise<Response> } | undefined;
      if (devBroker) {
        for (const { original } of dead) original.retry();
        if (Object.keys(failures).length) await devBroker.fetch("http://twelve-dev/failures", { method: "POST", body: JSON.stringify({ failures }) });
      } else {
        await Promise.all(dead.map(({ original, failure }) => moveToDeadLetters(env, original, failure)));
      }
      // Every message is decided by now; the throw still shows in the invocation's outcome.
      if (threw) throw thrown;
    },
  };
}

/** One message to the dead-letter queue with its error, then acknowledged; if that fails, retried (Queues then moves it, without its error). */
async function moveToDeadLetters(env: Record<string, unknown>, message: Message, failure: Failure): Promise<void> {
  const producer = env[DEAD_LETTER_BINDING] as Producer | undefined;
  const envelope: DeadLetterEnvelope = {
    "twelve:dead-letter": 1,
    id: message.id,
    sentAt: message.timestamp.getTime(),
    attempts: message.attempts,
    error: failure.error,
    body: message.body,
  };
  try {
    if (!producer) throw new Error(`no ${DEAD_LETTER_BINDING} binding`);
    await producer.send(envelope, { contentType: "json" });
    console.error(`message ${message.id} is dead after ${message.attempts} deliveries (${failure.error}); moved to the dead-letter queue`);
    message.ack();
  } catch (error) {
    console.error(`message ${message.id} could not be moved to the dead-letter queue; Queues moves it instead:`, error);
    message.retry();
  }
}
