import type { Message as SqsMessage, MessageAttributeValue } from "@aws-sdk/client-sqs";
import type { DeadLetter, DeadLetterProgress, DeadLetters, DeadLetterSummary } from "../../src/adapter.ts";
import { failure } from "../../src/errors.ts";
import { deadLetterQueueName, queueName } from "../../src/formation/names.ts";
import type { ClockProcess, Formation, WorkerProcess } from "../../src/formation/types.ts";
import type { awsClients } from "./client.ts";
import { DEAD_LETTER_ATTRIBUTES } from "./runtime/worker.ts";
import { CONTENT_TYPE_ATTRIBUTE, JSON_CONTENT_TYPE } from "./runtime/send.ts";

type Clients = Awaited<ReturnType<typeof awsClients>>;

/**
 * How long a message received while reading a dead-letter queue stays hidden. Everything read is
 * made visible again (visibility 0) when the read ends, however it ends; this only bounds how
 * long a read that died half-way (the machine, the network) hides them.
 */
const READ_VISIBILITY_S = 120;
/** The summary reads a queue this short to find its oldest message; a longer one is only counted. */
const SCAN_FOR_OLDEST = 1000;
/** Consecutive empty receives that end a read (short polling samples a subset of SQS's hosts). */
const EMPTY_RECEIVES = 3;
const TRIES = 3;

/** What a clock's dead-letter queue holds: the Scheduler's undelivered invocations, or Lambda's records of dropped runs. */
interface DestinationRecord {
  requestContext?: { condition?: string; approximateInvokeCount?: number };
  requestPayload?: { scheduledTime?: string };
  responsePayload?: { errorMessage?: string; errorType?: string };
}

/**
 * `twelve dlq --stage` on AWS: the SQS dead-letter queue of each worker (`A-S-<worker>-dlq`)
 * and of each clock's schedule. SQS has no way to look at a message without receiving it, so a
 * read receives with a visibility timeout, never deletes, and makes every message it received
 * visible again at once when it ends: nothing is consumed, and no attempt is counted (the
 * attempts shown are the worker's, recorded when it died, not the receive count of the read).
 * Redrive sends each message to the worker's queue before it deletes it from the dead-letter
 * queue. SQS's own message move tasks would be faster, but cannot redrive chosen ids and keep
 * twelve's attributes on the copy (and have no stand-in to test them against): twelve does not use them.
 */
export function awsDeadLetters(clients: Clients, formation: Formation, stage: string, options: { readVisibilitySeconds?: number } = {}): DeadLetters {
  const readVisibility = options.readVisibilitySeconds ?? READ_VISIBILITY_S;
  const { sqs, sdk } = clients;
  const urls = new Map<string, Promise<string | undefined>>();
  const urlOf = (name: string) => {
    let url = urls.get(name);
    if (!url) {
      url = sqs.send(new sdk.sqs.GetQueueUrlCommand({ QueueName: name })).then((r) => r.QueueUrl, (error: Error) => (error.name === "QueueDoesNotExist" || error.name === "AWS.SimpleQueueService.NonExistentQueue" ? undefined : Promise.reject(error)));
      urls.set(name, url);
    }
    return url;
  };
  const dlqOf = (process: WorkerProcess | ClockProcess) => deadLetterQueueName(formation.app, stage, process.name);
  const requireDlq = async (process: WorkerProcess | ClockProcess) => {
    const url = await urlOf(dlqOf(process));
    if (!url) throw failure(`${process.name} has no dead-letter queue ${dlqOf(process)} in stage ${stage}`, "Run twelve deploy first.");
    return url;
  };

  /**
   * Receives every message of a queue once (deduplicated by MessageId), hands each to `each`
   * (which may keep it: true means "taken care of", such as deleted), and makes the rest
   * visible again when done, however it ends.
   */
  async function read(url: string, total: number | null, progress: DeadLetterProgress, each: (page: SqsMessage[]) => Promise<Set<string>>): Promise<number> {
    const seen = new Set<string>();
    const hidden = new Map<string, string>();
    let empty = 0;
    /** Receives in a row that brought only messages seen already. */
    let stale = 0;
    try {
      // A read longer than READ_VISIBILITY_S meets its first messages again (their hiding ran
      // out): received again, they are hidden again, and the read goes on past them. It ends on
      // empty receives, or when more receives in a row brought only those than it would take
      // to receive every one seen again.
      let extended = Date.now();
      while (empty < EMPTY_RECEIVES && stale < EMPTY_RECEIVES + Math.ceil(seen.size / 10)) {
        // Halfway through their hiding, what the read holds is hidden for as long again, so a
        // long read (a slow caller, a slow endpoint) does not meet its first messages again.
        if (Date.now() - extended > (readVisibility * 1000) / 2) {
          extended = Date.now();
          await hide(url, [...hidden.values()], readVisibility);
        }
        const { Messages = [] } = await sqs.send(new sdk.sqs.ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: readVisibility, WaitTimeSeconds: 0, AttributeNames: ["All"], MessageAttributeNames: ["All"] }));
        const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId));
        for (const m of Messages) if (m.MessageId && m.ReceiptHandle) hidden.set(m.MessageId, m.ReceiptHandle);
        if (Messages.length === 0) {
          empty++;
          continue;
        }
        empty = 0;
        if (fresh.length === 0) {
          stale++;
          continue;
        }
        stale = 0;
        for (const m of fresh) seen.add(m.MessageId!);
        for (const id of await each(fresh)) hidden.delete(id);
        progress(seen.size, total);
        if (total !== null && seen.size >= total) break;
      }
    } finally {
      await release(url, [...hidden.values()]);
    }
    return seen.size;
  }

  /** Visibility 0 for what a read received: back at once, in the queue as before. */
  function release(url: string, handles: string[]): Promise<void> {
    return hide(url, handles, 0);
  }

  /** Sets the visibility timeout of what a read holds (0: visible again). */
  async function hide(url: string, handles: string[], seconds: number): Promise<void> {
    for (let i = 0; i < handles.length; i += 10) {
      const entries = handles.slice(i, i + 10).map((ReceiptHandle, n) => ({ Id: String(n), ReceiptHandle, VisibilityTimeout: seconds }));
      await sqs.send(new sdk.sqs.ChangeMessageVisibilityBatchCommand({ QueueUrl: url, Entries: entries })).catch(() => {
        // Not fatal: they come back by themselves after READ_VISIBILITY_S.
      });
    }
  }

  const depth = async (url: string) => {
    const { Attributes = {} } = await sqs.send(new sdk.sqs.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));
    return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  };

  const chosen = (ids: string[] | undefined) => {
    const wanted = ids && new Set(ids);
    const found = new Set<string>();
    return {
      has(m: SqsMessage) {
        const id = idOf(m);
        if (wanted && !wanted.has(id)) return false;
        found.add(id);
        return true;
      },
      missing: () => (ids ?? []).filter((id) => !found.has(id)),
    };
  };

  return {
    async summary() {
      const processes = formation.processes.filter((p): p is WorkerProcess | ClockProcess => p.type !== "web");
      return Promise.all(
        processes.map(async (p): Promise<DeadLetterSummary> => {
          const where = `SQS queue ${dlqOf(p)}`;
          const url = await urlOf(dlqOf(p));
          if (!url) return { process: p.name, type: p.type, count: null, oldestSentAt: null, where, note: "not deployed" };
          const count = await depth(url);
          if (count === 0) return { process: p.name, type: p.type, count, oldestSentAt: null, where };
          if (count > SCAN_FOR_OLDEST) return { process: p.name, type: p.type, count, oldestSentAt: null, where, note: `the oldest's age is not read for more than ${SCAN_FOR_OLDEST} dead letters (it takes reading them all): twelve dlq ${p.name} --stage ${stage} lists them` };
          let oldest: number | null = null;
          await read(url, count, () => {}, async (page) => {
            for (const m of page) {
              const sent = deadLetterOf(m, p).sentAt;
              if (sent !== null && (oldest === null || sent < oldest)) oldest = sent;
            }
            return new Set();
          });
          return { process: p.name, type: p.type, count, oldestSentAt: oldest, where };
        }),
      );
    },

    async *list(process, progress) {
      const url = await requireDlq(process);
      const total = await depth(url);
      // The read hands over pages as it receives them; the generator yields them in order.
      const pages: DeadLetter[][] = [];
      let wake: (() => void) | undefined;
      let done = false;
      let failed: unknown;
      const reading = read(url, total, progress, async (page) => {
        pages.push(page.map((m) => deadLetterOf(m, process)));
        wake?.();
        // Back-pressure: at most a few pages wait for the caller, so memory stays bounded.
        while (pages.length > 4 && !done) await new Promise<void>((resolve) => (wake = resolve));
        return new Set();
      }).then(
        () => void (done = true),
        (error: unknown) => {
          failed = error;
          done = true;
        },
      ).finally(() => wake?.());
      try {
        for (;;) {
          const page = pages.shift();
          if (page) {
            wake?.();
            yield* page;
            continue;
          }
          if (done) break;
          await new Promise<void>((resolve) => (wake = resolve));
        }
        if (failed) throw failed;
      } finally {
        done = true;
        wake?.();
        await reading;
      }
    },

    async redrive(process, ids, progress) {
      const from = await requireDlq(process);
      const to = await urlOf(queueName(formation.app, stage, process.name));
      if (!to) throw failure(`${process.name}'s queue is not deployed to stage ${stage}`, "Run twelve deploy first.");
      const want = chosen(ids);
      let redriven = 0;
      const total = ids?.length ?? (await depth(from));
      await read(from, ids ? null : total, () => {}, async (page) => {
        const mine = page.filter((m) => want.has(m));
        // On the worker's queue first; only what SQS took is deleted from the dead-letter queue.
        const sent = await sendAll(to, mine);
        await deleteAll(from, mine.filter((m) => sent.has(m.MessageId!)));
        redriven += sent.size;
        progress(redriven, total);
        return sent;
      });
      return { redriven, missing: want.missing() };
    },

    async purge(process, ids, progress) {
      const url = await requireDlq(process);
      const want = chosen(ids);
      let purged = 0;
      const total = ids?.length ?? (await depth(url));
      await read(url, ids ? null : total, () => {}, async (page) => {
        const deleted = await deleteAll(url, page.filter((m) => want.has(m)));
        purged += deleted.size;
        progress(purged, total);
        return deleted;
      });
      return { purged, missing: want.missing() };
    },
  };

  /** SendMessageBatch of the messages, bodies and twelve's content type as they were; returns the MessageIds SQS took. */
  async function sendAll(url: string, messages: SqsMessage[]): Promise<Set<string>> {
    const taken = new Set<string>();
    let pending = messages;
    for (let attempt = 1; attempt <= TRIES && pending.length > 0; attempt++) {
      const result = await sqs.send(new sdk.sqs.SendMessageBatchCommand({
        QueueUrl: url,
        Entries: pending.map((m, i) => ({ Id: String(i), MessageBody: m.Body ?? "", MessageAttributes: originalAttributes(m.MessageAttributes) })),
      }));
      for (const ok of result.Successful ?? []) taken.add(pending[Number(ok.Id)]!.MessageId!);
      const refused = (result.Failed ?? []).filter((f) => f.SenderFault);
      if (refused.length) throw failure(`SQS refused to take back ${refused.length} dead letter${refused.length === 1 ? "" : "s"}: ${refused[0]?.Code} ${refused[0]?.Message ?? ""}`.trim(), "They are still in the dead-letter queue.");
      pending = pending.filter((m) => !taken.has(m.MessageId!));
    }
    return taken;
  }

  async function deleteAll(url: string, messages: SqsMessage[]): Promise<Set<string>> {
    const deleted = new Set<string>();
    if (messages.length === 0) return deleted;
    const result = await sqs.send(new sdk.sqs.DeleteMessageBatchCommand({ QueueUrl: url, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    for (const ok of result.Successful ?? []) deleted.add(messages[Number(ok.Id)]!.MessageId!);
    return deleted;
  }
}

/** The id twelve shows: the message's id as it was sent (a dead letter the wrapper moved is a copy that names it). */
function idOf(m: SqsMessage): string {
  return m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.messageId]?.StringValue ?? m.MessageId ?? "";
}

/** A message's attributes as its worker's queue had them: twelve's dead-letter facts left out. */
function originalAttributes(attributes: Record<string, MessageAttributeValue> | undefined): Record<string, MessageAttributeValue> | undefined {
  const dead = new Set<string>(Object.values(DEAD_LETTER_ATTRIBUTES));
  const kept = Object.entries(attributes ?? {}).filter(([name]) => !dead.has(name));
  return kept.length ? Object.fromEntries(kept) : undefined;
}

export function deadLetterOf(m: SqsMessage, process: WorkerProcess | ClockProcess): DeadLetter {
  const attribute = (name: string) => m.MessageAttributes?.[name]?.StringValue;
  const number = (text: string | undefined) => (text === undefined || text === "" || Number.isNaN(Number(text)) ? null : Number(text));
  const text = m.Body ?? "";
  let body: unknown = text;
  if (attribute(CONTENT_TYPE_ATTRIBUTE) === JSON_CONTENT_TYPE || process.type === "clock") {
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON after all: shown as the text it is
    }
  }
  const sentAt = number(attribute(DEAD_LETTER_ATTRIBUTES.sentAt)) ?? number(m.Attributes?.SentTimestamp);
  if (process.type === "clock") return clockDeadLetter(m, body, sentAt);
  return {
    id: idOf(m),
    sentAt,
    diedAt: attribute(DEAD_LETTER_ATTRIBUTES.error) !== undefined ? number(m.Attributes?.SentTimestamp) : null,
    // SQS moved it after maxReceiveCount (maxRetries + 1) deliveries; the wrapper says how many it had.
    attempts: number(attribute(DEAD_LETTER_ATTRIBUTES.attempts)) ?? process.maxRetries + 1,
    body,
    error: attribute(DEAD_LETTER_ATTRIBUTES.error) ?? null,
  };
}

/** A clock's failed run: the Scheduler's undelivered invocation (its error in attributes), or Lambda's record of a run it dropped. */
function clockDeadLetter(m: SqsMessage, body: unknown, sentAt: number | null): DeadLetter {
  const attribute = (name: string) => m.MessageAttributes?.[name]?.StringValue;
  const record = body as DestinationRecord;
  if (record && typeof record === "object" && record.requestContext) {
    const condition = record.requestContext.condition ?? "";
    const scheduled = record.requestPayload?.scheduledTime;
    const why =
      condition === "EventAgeExceeded" || (condition === "RetriesExhausted" && !record.responsePayload)
        ? `skipped: the run for ${scheduled ?? "?"} could not start (the previous run was still going: one run at a time) and Lambda dropped it (${condition})`
        : `${record.responsePayload?.errorType ?? "failed"}: ${record.responsePayload?.errorMessage ?? condition}`;
    return { id: m.MessageId ?? "", sentAt: scheduled ? Date.parse(scheduled) : sentAt, diedAt: Number(m.Attributes?.SentTimestamp) || null, attempts: record.requestContext.approximateInvokeCount ?? null, body: record.requestPayload ?? body, error: why };
  }
  const scheduled = (body as { scheduledTime?: string } | null)?.scheduledTime;
  const error = [attribute("ERROR_CODE"), attribute("ERROR_MESSAGE")].filter(Boolean).join(": ");
  return { id: m.MessageId ?? "", sentAt: scheduled && !scheduled.startsWith("<") ? Date.parse(scheduled) : sentAt, diedAt: Number(m.Attributes?.SentTimestamp) || null, attempts: Number(attribute("RETRY_ATTEMPTS") ?? NaN) + 1 || null, body, error: error || null };
}
