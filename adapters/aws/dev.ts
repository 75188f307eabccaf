import path from "node:path";
import { ownModule } from "../../src/build/twelve-paths.ts";
import { queueBinding, queueName, resourceName } from "../../src/formation/names.ts";
import type { BrokerMessage, Outcome } from "../../src/dev/broker.ts";
import type { DevEngine, DevProcess, DevStartInput } from "../../src/adapter.ts";
import { forkHost } from "../../src/dev/host-parent.ts";
import type { HostSpec } from "./dev/host.ts";
import type { SqsBatchResponse, SqsEvent } from "./runtime/events.ts";
import { SqsApi } from "./dev/sqs-api.ts";

const HOST = ownModule("adapters/aws/dev/host");
const ACCOUNT = "000000000000";

/**
 * The aws engine of twelve dev: each process in its own Node 22 child, loading the bundle
 * `twelve build --target aws` made, with the environment Lambda would give it. Its SQS calls
 * reach twelve dev's server, which speaks enough of SQS's API for them.
 */
export function awsDevEngine(): DevEngine {
  const sqs = new SqsApi();
  return {
    handle: (request, broker) => sqs.handle(request.target, request.body, broker),
    start: (input) => startHost(input, sqs),
  };
}

async function startHost(input: DevStartInput, sqs: SqsApi): Promise<DevProcess> {
  const { formation, process: proc, stage, built } = input;
  const region = formation.aws.region ?? "us-east-1";
  const queueUrl = (worker: string) => `${input.serverUrl}/${ACCOUNT}/${queueName(formation.app, stage, worker)}`;
  const spec: HostSpec = {
    bundle: path.join(input.outDir, built.artifacts.bundle!.path),
    name: proc.name,
    type: proc.type,
    port: input.port,
    concurrency: proc.concurrency,
    timeout: proc.timeout,
  };
  const queues = Object.fromEntries(
    [...built.sends, ...(proc.type === "worker" ? [proc.name] : [])].map((w) => [queueBinding(w), queueUrl(w)]),
  );
  const host = await forkHost({
    script: HOST,
    name: proc.name,
    log: input.log,
    // A clean environment, as Lambda gives: nothing of the developer's shell leaks in.
    env: {
      PATH: process.env.PATH,
      TZ: "UTC",
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: "twelve-dev",
      AWS_SECRET_ACCESS_KEY: "twelve-dev",
      AWS_ENDPOINT_URL_SQS: input.serverUrl,
      AWS_LAMBDA_FUNCTION_NAME: resourceName(formation.app, stage, proc.name),
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(proc.memory),
      ...queues,
      ...input.variables,
      // The worker wrapper reports why messages failed instead of moving them to a dead-letter queue.
      TWELVE_DEV: "1",
      TWELVE_DEV_HOST: JSON.stringify(spec),
    },
  });
  const invoke = (event: unknown) => host.invoke(event, proc.timeout);

  const devProcess: DevProcess = { ended: host.ended, stop: host.stop };
  if (proc.type === "web") {
    devProcess.url = `http://localhost:${input.port}`;
    devProcess.inFlight = host.load;
  }
  if (proc.type === "worker") {
    devProcess.deliver = async (queue: string, batch: BrokerMessage[]): Promise<Outcome[]> => {
      const handles = new Map(batch.map((m) => [m.id, `${m.id}.${m.attempts}.${Math.random().toString(36).slice(2)}`]));
      const event: SqsEvent = {
        Records: batch.map((m) => ({
          messageId: m.id,
          receiptHandle: handles.get(m.id)!,
          body: JSON.stringify(m.body),
          attributes: { ApproximateReceiveCount: String(m.attempts), SentTimestamp: String(m.sentAt) },
          messageAttributes: { "twelve-content-type": { stringValue: "application/json", dataType: "String" } },
          eventSourceARN: `arn:aws:sqs:${region}:${ACCOUNT}:${queue}`,
        })),
      };
      const result = (await invoke(event)) as SqsBatchResponse | undefined;
      const failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      const why = result?.twelveFailures ?? {};
      return batch.map((m): Outcome => {
        const delay = sqs.delayFor(handles.get(m.id)!);
        if (!failed.has(m.id)) return { id: m.id, action: "ack" };
        const failure = why[m.id];
        if (failure?.final) return { id: m.id, action: "dead", reason: failure.error };
        return { id: m.id, action: "retry", delaySeconds: delay ?? 0, ...(failure ? { reason: failure.error } : {}) };
      });
    };
  }
  if (proc.type === "clock") {
    devProcess.fire = async (scheduledTime: number) => {
      await invoke({ twelve: "scheduled", scheduledTime: new Date(scheduledTime).toISOString() });
    };
  }
  return devProcess;
}
