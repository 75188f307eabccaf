import fs from "node:fs";
import path from "node:path";
import type { BrokerMessage, Outcome } from "../../src/dev/broker.ts";
import { queueBinding } from "../../src/formation/names.ts";
import type { DevEngine, DevProcess, DevStartInput } from "../types.ts";
import { DEV_BROKER_BINDING } from "./runtime/send.ts";
import type { WranglerConfig } from "./wrangler.ts";

/** What workerd's Fetcher.queue() reports about a batch (@cloudflare/workers-types). */
interface QueueResult {
  outcome: string;
  retryBatch: { retry: boolean; delaySeconds?: number };
  explicitAcks: string[];
  retryMessages: { msgId: string; delaySeconds?: number }[];
}

/**
 * The cloudflare engine of twelve dev: each process in its own workerd (through miniflare),
 * from the bundle and wrangler.json `twelve build --target cloudflare` made, so code that would
 * fail on Workers fails here too. A web Worker serves its own port. Queue producer bindings are
 * Fetchers into twelve dev's durable broker, which delivers batches with Fetcher.queue().
 */
export function cloudflareDevEngine(): DevEngine {
  return { start: startWorker };
}

async function startWorker(input: DevStartInput): Promise<DevProcess> {
  const { process: proc, built, outDir } = input;
  const dir = path.join(outDir, proc.name);
  const config = JSON.parse(fs.readFileSync(path.join(dir, "wrangler.json"), "utf8")) as WranglerConfig;
  const env: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(input.variables)) env[name] = { type: "text", value };
  // One Fetcher into the broker stands for the producer bindings, limited to the same queues.
  env[DEV_BROKER_BINDING] = {
    type: "fetcher",
    handler: async (request: Request) => {
      const { worker, body, delaySeconds } = (await request.json()) as { worker: string; body: unknown; delaySeconds?: number };
      if (!built.sends.includes(worker)) {
        return new Response(`this Worker has no ${queueBinding(worker)} queue binding (it may send to: ${built.sends.join(", ") || "none"})`, { status: 400 });
      }
      try {
        return Response.json(await input.send(worker, body, delaySeconds));
      } catch (error) {
        return new Response((error as Error).message, { status: 400 });
      }
    },
  };

  // Imported here, not at the top: the prebuilt CLI would otherwise load miniflare for every command.
  const { Miniflare } = await import("miniflare");
  const mf = new Miniflare({
    cf: false,
    enableDevRegistry: false,
    host: "127.0.0.1",
    port: input.port ?? 0,
    handleStructuredLogs: (log: { message: string }) => {
      for (const line of log.message.split("\n")) input.log(line);
    },
    workers: [{
      config: {
        name: config.name,
        compatibilityDate: config.compatibility_date,
        compatibilityFlags: config.compatibility_flags,
        manifest: { mainModule: config.main, modules: { [config.main]: { type: "esm", contents: fs.readFileSync(path.join(dir, config.main), "utf8") } } },
        env,
      },
    }],
  } as never);
  await mf.ready;
  const worker = await mf.getWorker(config.name);
  let stopped = false;
  let end: (reason: string) => void = () => {};
  const ended = new Promise<string>((resolve) => (end = resolve));

  const devProcess: DevProcess = {
    ended,
    async stop() {
      stopped = true;
      await mf.dispose();
    },
  };
  if (proc.type === "web") devProcess.url = `http://localhost:${input.port}`;
  if (proc.type === "worker") {
    devProcess.deliver = async (queue: string, batch: BrokerMessage[]): Promise<Outcome[]> => {
      const messages = batch.map((m) => ({ id: m.id, timestamp: new Date(m.sentAt), body: m.body, attempts: m.attempts }));
      const result = (await withTimeout(worker.queue(queue, messages as never) as unknown as Promise<QueueResult>, proc.timeout, () => {
        if (!stopped) end(`timed out after ${proc.timeout} s`);
      })) as QueueResult;
      return outcomes(batch, result);
    };
  }
  if (proc.type === "clock") {
    devProcess.fire = async (scheduledTime: number) => {
      // twelve dev's clock already keeps the schedule's time zone, so this names the
      // schedule itself, which the Worker's UTC gate lets through.
      const result = (await withTimeout(worker.scheduled({ cron: proc.schedule, scheduledTime: new Date(scheduledTime) }) as Promise<{ outcome: string }>, proc.timeout, () => {
        if (!stopped) end(`timed out after ${proc.timeout} s`);
      })) as { outcome: string };
      if (result.outcome !== "ok") throw new Error(`scheduled() ended with outcome "${result.outcome}"`);
    };
  }
  return devProcess;
}

/** Cloudflare's rules: a call on a message wins; on an exception, every message not acked retries. */
export function outcomes(batch: BrokerMessage[], result: QueueResult): Outcome[] {
  const acked = new Set(result.explicitAcks);
  const retried = new Map(result.retryMessages.map((r) => [r.msgId, r.delaySeconds]));
  return batch.map((m): Outcome => {
    if (acked.has(m.id)) return { id: m.id, action: "ack" };
    if (retried.has(m.id)) return { id: m.id, action: "retry", delaySeconds: retried.get(m.id) ?? result.retryBatch.delaySeconds ?? 0 };
    if (result.outcome !== "ok" || result.retryBatch.retry) return { id: m.id, action: "retry", delaySeconds: result.retryBatch.delaySeconds ?? 0 };
    return { id: m.id, action: "ack" };
  });
}

async function withTimeout<T>(promise: Promise<T>, seconds: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`timed out after ${seconds} s`));
    }, seconds * 1000);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
