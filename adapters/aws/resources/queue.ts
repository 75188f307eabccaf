import { fieldRules, type Change } from "../../../src/deploy/plan.ts";
import { deadLetterQueueName, queueName } from "../../../src/formation/names.ts";
import type { Process } from "../../../src/formation/types.ts";
import { gone, mustBeOurs, notFound, takenUnlessOurs, type AwsContext, type DesiredInput, type Tags } from "./common.ts";

/** An SQS queue: a worker's, or a dead-letter queue (a worker's redrive, a clock's Scheduler). */
export interface QueueResource {
  kind: "queue";
  name: string;
  attributes: { VisibilityTimeout: string; MessageRetentionPeriod: string; RedrivePolicy?: string };
  tags: Tags;
  /** Read back: its URL, which changes and deletes need. */
  url?: string;
  /** Read back: messages waiting (visible, in flight or delayed). */
  messages?: number;
}

export const queueRules = fieldRules<QueueResource>({ ignore: ["url", "messages"], maps: ["tags"] });

/** How long SQS keeps a message: 4 days, its default, stated so that plan sees drift. */
const RETENTION_SECONDS = 4 * 24 * 3600;

export const isDeadLetterQueue = (queue: QueueResource) => queue.name.endsWith("-dlq");

/** A worker's queue and its dead-letter queue; a clock's dead-letter queue; none for web. */
export function processQueues(input: DesiredInput, process: Process): QueueResource[] {
  if (process.type === "web") return [];
  const tags = input.tags(process.name);
  const dlq = deadLetterQueueName(input.app, input.stage, process.name);
  const queues: QueueResource[] = [{ kind: "queue", name: dlq, attributes: { VisibilityTimeout: "30", MessageRetentionPeriod: String(14 * 24 * 3600) }, tags }];
  if (process.type === "worker") {
    queues.push({
      kind: "queue",
      name: queueName(input.app, input.stage, process.name),
      attributes: {
        // AWS asks for at least 6x the function timeout, so a batch is not redelivered while it runs.
        VisibilityTimeout: String(6 * process.timeout),
        MessageRetentionPeriod: String(RETENTION_SECONDS),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: input.arn.queue(dlq), maxReceiveCount: process.maxRetries + 1 }),
      },
      tags,
    });
  }
  return queues;
}

/** The queues named `<app>-<stage>-*` and tagged as the app's, with their depth and URL. */
export async function readQueues(ctx: AwsContext): Promise<QueueResource[]> {
  const { sqs, sdk } = ctx.clients;
  const urls: string[] = [];
  let token: string | undefined;
  do {
    const page = await sqs.send(new sdk.sqs.ListQueuesCommand({ QueueNamePrefix: ctx.prefix, NextToken: token, MaxResults: 1000 }));
    urls.push(...(page.QueueUrls ?? []));
    token = page.NextToken;
  } while (token);

  const read = await Promise.all(
    urls.map(async (url) => {
      const [attributes, tags] = await Promise.all([
        sqs.send(new sdk.sqs.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] })),
        queueTags(ctx, url),
      ]);
      return { url, attributes: attributes.Attributes ?? {}, tags };
    }),
  );
  return read
    .filter((q) => ctx.ours(q.tags))
    .map((q): QueueResource => {
      const a = q.attributes;
      return {
        kind: "queue",
        name: q.url.split("/").at(-1) ?? "",
        attributes: {
          VisibilityTimeout: a.VisibilityTimeout ?? "",
          MessageRetentionPeriod: a.MessageRetentionPeriod ?? "",
          ...(a.RedrivePolicy ? { RedrivePolicy: canonicalRedrive(a.RedrivePolicy) } : {}),
        },
        tags: q.tags,
        url: q.url,
        messages: Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      };
    });
}

async function queueTags(ctx: AwsContext, url: string): Promise<Tags> {
  return (await ctx.clients.sqs.send(new ctx.clients.sdk.sqs.ListQueueTagsCommand({ QueueUrl: url }))).Tags ?? {};
}

/** RedrivePolicy as twelve writes it: AWS may return it re-serialised, with a string count. */
export function canonicalRedrive(text: string): string {
  const parsed = JSON.parse(text) as { deadLetterTargetArn: string; maxReceiveCount: number | string };
  return JSON.stringify({ deadLetterTargetArn: parsed.deadLetterTargetArn, maxReceiveCount: Number(parsed.maxReceiveCount) });
}

export async function applyQueue(ctx: AwsContext, change: Change<QueueResource>): Promise<void> {
  const { sqs, sdk } = ctx.clients;
  const queue = change.resource;
  if (change.action === "create") {
    // CreateQueue of a name that is taken, with the same attributes, answers with that queue
    // (moto even re-tags it): whose it is is asked first.
    const taken = await sqs.send(new sdk.sqs.GetQueueUrlCommand({ QueueName: queue.name })).then((r) => r.QueueUrl, notFound(undefined));
    if (taken) {
      mustBeOurs(ctx, "SQS queue", queue.name, await queueTags(ctx, taken));
      await sqs.send(new sdk.sqs.SetQueueAttributesCommand({ QueueUrl: taken, Attributes: { ...queue.attributes } }));
      return;
    }
    const tagsOf = async () => {
      const url = await sqs.send(new sdk.sqs.GetQueueUrlCommand({ QueueName: queue.name })).then((r) => r.QueueUrl, notFound(undefined));
      return url ? queueTags(ctx, url) : undefined;
    };
    await sqs.send(new sdk.sqs.CreateQueueCommand({ QueueName: queue.name, Attributes: { ...queue.attributes }, tags: queue.tags })).catch(takenUnlessOurs(ctx, "SQS queue", queue.name, tagsOf));
    return;
  }
  if (change.action === "delete") {
    if (queue.url) await sqs.send(new sdk.sqs.DeleteQueueCommand({ QueueUrl: queue.url })).catch(gone());
    return;
  }
  const url = change.current.url ?? "";
  const fields = new Set(change.fields.map((f) => f.field.split(".")[0]));
  if (fields.has("attributes")) await sqs.send(new sdk.sqs.SetQueueAttributesCommand({ QueueUrl: url, Attributes: { ...queue.attributes } }));
  if (fields.has("tags")) await sqs.send(new sdk.sqs.TagQueueCommand({ QueueUrl: url, Tags: queue.tags }));
}
