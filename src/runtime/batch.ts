import type { Message, MessageBatch, RetryOptions } from "./types.ts";

/** A message as a platform delivered it, before twelve gives it the Workers shape. */
export interface IncomingMessage {
  id: string;
  body: unknown;
  attempts: number;
  timestamp: Date;
}

export type Outcome = { id: string; action: "ack" } | { id: string; action: "retry"; delaySeconds: number | undefined };

/**
 * A MessageBatch for platforms without one (Lambda's SQS events, the dev broker), with
 * Cloudflare Queues' rules: a call on a message wins over ackAll()/retryAll(), the first
 * call wins, and a message nobody decided about is acknowledged when queue() returns and
 * retried when it throws.
 */
export function createBatch(queue: string, incoming: readonly IncomingMessage[]) {
  const decided = new Map<string, Outcome>();
  let batchDecision: ((id: string) => Outcome) | undefined;

  const decide = (outcome: Outcome) => {
    if (!decided.has(outcome.id)) decided.set(outcome.id, outcome);
  };
  const retryOutcome = (id: string, options: RetryOptions | undefined): Outcome => ({
    id,
    action: "retry",
    delaySeconds: options?.delaySeconds,
  });

  const messages: Message[] = incoming.map((m) => ({
    id: m.id,
    body: m.body,
    attempts: m.attempts,
    timestamp: m.timestamp,
    ack: () => decide({ id: m.id, action: "ack" }),
    retry: (options?: RetryOptions) => decide(retryOutcome(m.id, options)),
  }));

  const batch: MessageBatch = {
    queue,
    messages,
    ackAll: () => {
      batchDecision ??= (id) => ({ id, action: "ack" });
    },
    retryAll: (options?: RetryOptions) => {
      batchDecision ??= (id) => retryOutcome(id, options);
    },
  };

  /** What happens to every message, once queue() has returned (`threw` false) or thrown. */
  const outcomes = (threw: boolean): Outcome[] =>
    incoming.map(
      (m) =>
        decided.get(m.id) ??
        batchDecision?.(m.id) ??
        (threw ? retryOutcome(m.id, undefined) : { id: m.id, action: "ack" }),
    );

  return { batch, outcomes };
}
