import type { DevBrokerApi } from "../../../src/adapter.ts";

/**
 * The part of SQS's JSON API that twelve's AWS bundles call, served by twelve dev so those
 * bundles run unchanged: SendMessage (send()), SendMessageBatch (sendBatch()) and ChangeMessageVisibility[Batch] (the worker
 * wrapper's retry delay). Signatures are not checked: nothing here leaves 127.0.0.1.
 */
export class SqsApi {
  /** Retry delays the worker wrapper asked for, by receipt handle, until its batch returns. */
  readonly #delays = new Map<string, number>();

  delayFor(receiptHandle: string): number | undefined {
    const delay = this.#delays.get(receiptHandle);
    this.#delays.delete(receiptHandle);
    return delay;
  }

  async handle(target: string | undefined, body: string, broker: DevBrokerApi): Promise<{ status: number; body: string; contentType: string } | undefined> {
    if (!target?.startsWith("AmazonSQS.")) return undefined;
    const action = target.slice("AmazonSQS.".length);
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return error(400, "InvalidParameterValue", "the request body is not JSON");
    }
    if (action === "SendMessage") {
      const queueUrl = String(input.QueueUrl ?? "");
      const worker = broker.workerOfQueue(queueUrl.split("/").at(-1) ?? "");
      if (!worker) return error(400, "QueueDoesNotExist", `no worker queue at ${queueUrl} in this formation`);
      let message: unknown = input.MessageBody;
      // twelve's send() marks JSON bodies; anything else stays the string it is.
      const attributes = input.MessageAttributes as Record<string, { StringValue?: string }> | undefined;
      if (attributes?.["twelve-content-type"]?.StringValue === "application/json") message = JSON.parse(String(input.MessageBody));
      const { id } = await broker.send(worker, message, input.DelaySeconds as number | undefined);
      return ok({ MessageId: id });
    }
    if (action === "SendMessageBatch") {
      const queueUrl = String(input.QueueUrl ?? "");
      const worker = broker.workerOfQueue(queueUrl.split("/").at(-1) ?? "");
      if (!worker) return error(400, "QueueDoesNotExist", `no worker queue at ${queueUrl} in this formation`);
      const entries = (input.Entries as { Id: string; MessageBody: string; DelaySeconds?: number; MessageAttributes?: Record<string, { StringValue?: string }> }[] | undefined) ?? [];
      if (entries.length === 0) return error(400, "EmptyBatchRequest", "the batch has no entries");
      if (entries.length > 10) return error(400, "TooManyEntriesInBatchRequest", `${entries.length} entries; at most 10`);
      // Handed to the broker in the entries' order, all at once (on disk in one write): one
      // entry the broker refuses fails alone.
      const results = await Promise.allSettled(
        entries.map((e) => {
          const json = e.MessageAttributes?.["twelve-content-type"]?.StringValue === "application/json";
          try {
            return broker.send(worker, json ? JSON.parse(e.MessageBody) : e.MessageBody, e.DelaySeconds);
          } catch (err) {
            return Promise.reject(err);
          }
        }),
      );
      const successful = results.flatMap((r, i) => (r.status === "fulfilled" ? [{ Id: entries[i]!.Id, MessageId: r.value.id }] : []));
      const failed = results.flatMap((r, i) => (r.status === "rejected" ? [{ Id: entries[i]!.Id, Code: "InvalidParameterValue", Message: (r.reason as Error).message, SenderFault: true }] : []));
      return ok({ Successful: successful, Failed: failed });
    }
    if (action === "ChangeMessageVisibility") {
      this.#delays.set(String(input.ReceiptHandle), Number(input.VisibilityTimeout ?? 0));
      return ok({});
    }
    if (action === "ChangeMessageVisibilityBatch") {
      const entries = (input.Entries as { Id: string; ReceiptHandle: string; VisibilityTimeout: number }[]) ?? [];
      for (const e of entries) this.#delays.set(e.ReceiptHandle, Number(e.VisibilityTimeout ?? 0));
      return ok({ Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] });
    }
    return error(400, "UnsupportedOperation", `twelve dev does not emulate SQS ${action}`);
  }
}

const ok = (value: unknown) => ({ status: 200, body: JSON.stringify(value), contentType: "application/x-amz-json-1.0" });
const error = (status: number, type: string, message: string) => ({
  status,
  body: JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message }),
  contentType: "application/x-amz-json-1.0",
});
