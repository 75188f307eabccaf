import { sqsCaller, type SqsClientOptions } from "../../adapters/aws/runtime/sqs.ts";
import type { SqsEvent, SqsRecord } from "../../adapters/aws/runtime/events.ts";
import { waitFor } from "./wait.ts";

/** What tests need of SQS beyond what ships in functions: queues, receiving, deleting. */
export function testSqs(options: SqsClientOptions) {
  const call = sqsCaller(options);
  return {
    async createQueue(name: string, attributes?: Record<string, string>): Promise<string> {
      const out = await call("CreateQueue", { QueueName: name, ...(attributes ? { Attributes: attributes } : {}) }, name);
      return String(out.QueueUrl);
    },
    /** Messages as an SQS event source mapping would hand them to Lambda. */
    async receive(queueUrl: string, opts: { max?: number; waitSeconds?: number; visibilityTimeout?: number } = {}): Promise<SqsRecord[]> {
      const out = await call("ReceiveMessage", {
        QueueUrl: queueUrl,
        MaxNumberOfMessages: opts.max ?? 10,
        WaitTimeSeconds: opts.waitSeconds ?? 0,
        VisibilityTimeout: opts.visibilityTimeout ?? 30,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }, queueUrl);
      const arn = `arn:aws:sqs:${options.region}:123456789012:${queueUrl.split("/").at(-1)}`;
      return ((out.Messages as RawMessage[] | undefined) ?? []).map((m) => ({
        messageId: m.MessageId,
        receiptHandle: m.ReceiptHandle,
        body: m.Body,
        attributes: m.Attributes ?? {},
        messageAttributes: Object.fromEntries(
          Object.entries(m.MessageAttributes ?? {}).map(([k, a]) => [k, { stringValue: a.StringValue, dataType: a.DataType }]),
        ),
        eventSourceARN: arn,
      }));
    },
    async delete(queueUrl: string, receiptHandle: string): Promise<void> {
      await call("DeleteMessage", { QueueUrl: queueUrl, ReceiptHandle: receiptHandle }, queueUrl);
    },
    async attributes(queueUrl: string): Promise<Record<string, string>> {
      const out = await call("GetQueueAttributes", { QueueUrl: queueUrl, AttributeNames: ["All"] }, queueUrl);
      return (out.Attributes as Record<string, string>) ?? {};
    },
  };
}

interface RawMessage {
  MessageId: string;
  ReceiptHandle: string;
  Body: string;
  Attributes?: Record<string, string>;
  MessageAttributes?: Record<string, { DataType: string; StringValue?: string }>;
}

/**
 * What Lambda's event source mapping does, in small: polls the queue, invokes the handler with
 * an SQS event, deletes what succeeded and leaves the batchItemFailures to come back.
 */
export function pumpQueue(
  sqs: ReturnType<typeof testSqs>,
  queueUrl: string,
  batchSize: number,
  handler: (event: SqsEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>,
) {
  let running = true;
  // The next batch, for as long as it takes; none once stopped.
  const nextBatch = () =>
    waitFor(
      async () => {
        if (!running) return [];
        const records = await sqs.receive(queueUrl, { max: Math.min(batchSize, 10) });
        return records.length > 0 ? records : undefined;
      },
      Infinity,
      `messages on ${queueUrl}`,
      { intervalMs: 50 },
    );
  const loop = (async () => {
    for (;;) {
      const records = await nextBatch();
      if (records.length === 0) return; // stopped
      const result = await handler({ Records: records });
      const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      for (const r of records) if (!failed.has(r.messageId)) await sqs.delete(queueUrl, r.receiptHandle);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}
