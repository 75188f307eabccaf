import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { TWELVE_ROOT } from "../../src/build/twelve-paths.ts";
import { queueBinding, queueName } from "../../src/formation/names.ts";
import type { BrokerMessage, Outcome } from "../../src/dev/broker.ts";
import type { DevEngine, DevProcess, DevStartInput } from "../types.ts";
import type { HostMessage, HostSpec } from "./dev/host.ts";
import type { SqsBatchResponse, SqsEvent } from "./runtime/events.ts";
import { SqsApi } from "./dev/sqs-api.ts";

const HOST = path.join(TWELVE_ROOT, "adapters", "aws", "dev", "host.ts");
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
  const child = fork(HOST, [], {
    execArgv: ["--enable-source-maps"],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    // A clean environment, as Lambda gives: nothing of the developer's shell leaks in.
    env: {
      PATH: process.env.PATH,
      TZ: "UTC",
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: "twelve-dev",
      AWS_SECRET_ACCESS_KEY: "twelve-dev",
      AWS_ENDPOINT_URL_SQS: input.serverUrl,
      AWS_LAMBDA_FUNCTION_NAME: `${formation.app}-${stage}-${proc.name}`,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(proc.memory),
      ...queues,
      ...input.variables,
      TWELVE_DEV_HOST: JSON.stringify(spec),
    },
  });
  child.stdout?.on("data", lineSplitter(input.log));
  child.stderr?.on("data", lineSplitter(input.log));

  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  let stopping = false;
  const ended = new Promise<string>((resolve) => {
    child.on("exit", (code, signal) => {
      for (const p of pending.values()) p.reject(new Error(`${proc.name} exited (${signal ?? `code ${code}`})`));
      pending.clear();
      if (!stopping) resolve(signal ? `killed by ${signal}` : `exited with code ${code}`);
    });
  });
  child.on("message", (message: HostMessage) => {
    if (message.kind !== "result") return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.ok) waiter?.resolve(message.value);
    else waiter?.reject(new Error(message.error));
  });
  await ready(child, ended);

  /** One invocation, killed like Lambda kills a function that runs past its timeout. */
  const invoke = (event: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${proc.name} timed out after ${proc.timeout} s; restarting it`));
        child.kill("SIGKILL");
      }, proc.timeout * 1000);
      pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      child.send({ kind: "invoke", id, event });
    });

  const devProcess: DevProcess = {
    ended,
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.disconnect?.();
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
      await gone;
      clearTimeout(timer);
    },
  };
  if (proc.type === "web") devProcess.url = `http://localhost:${input.port}`;
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
      return batch.map((m) => {
        const delay = sqs.delayFor(handles.get(m.id)!);
        return failed.has(m.id) ? { id: m.id, action: "retry", delaySeconds: delay ?? 0 } : { id: m.id, action: "ack" };
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

function ready(child: ChildProcess, ended: Promise<string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: HostMessage) => {
      if (message.kind === "ready") {
        child.off("message", onMessage);
        resolve();
      }
    };
    child.on("message", onMessage);
    void ended.then((reason) => reject(new Error(`it ${reason} while starting`)));
  });
}

function lineSplitter(log: (line: string) => void): (chunk: Buffer) => void {
  let rest = "";
  return (chunk) => {
    const parts = (rest + chunk.toString()).split("\n");
    rest = parts.pop() ?? "";
    for (const line of parts) log(line.replace(/\r$/, ""));
  };
}
