// Runs inside one child process per process of the formation (twelve dev, cloudflare engine):
// the Worker twelve built, in its own workerd through miniflare. When twelve dev goes away,
// however it ends, the IPC channel closes and this disposes workerd (which would otherwise
// outlive it and keep the port).
import fs from "node:fs";
import path from "node:path";
// Miniflare's own Request and Response (undici's), which a fetcher binding's handler takes and returns.
import { Miniflare, Response, type MiniflareWorkerConfig, type Request } from "miniflare";
import { hostReady, onParentGone, requestParent, serveHost } from "../../../src/dev/host-child.ts";
import { queueBinding } from "../../../src/formation/names.ts";
import { DEV_BROKER_BINDING } from "../runtime/send.ts";
import { DEV_IN_FLIGHT_HEADER } from "../runtime/web.ts";
import type { WranglerConfig } from "../wrangler.ts";

export interface HostSpec {
  dir: string;
  port: number | undefined;
  variables: Record<string, string>;
  sends: string[];
}

export type HostCall =
  | { op: "queue"; queue: string; messages: { id: string; timestamp: number; body: unknown; attempts: number }[] }
  | { op: "scheduled"; cron: string; scheduledTime: number };

const spec = JSON.parse(process.env.TWELVE_DEV_HOST ?? "{}") as HostSpec;
const config = JSON.parse(fs.readFileSync(path.join(spec.dir, "wrangler.json"), "utf8")) as WranglerConfig;

const env: NonNullable<MiniflareWorkerConfig["env"]> = {};
for (const [name, value] of Object.entries(spec.variables)) env[name] = { type: "text", value };
// One Fetcher into twelve dev's broker stands for the producer bindings, for the same queues.
env[DEV_BROKER_BINDING] = {
  type: "fetcher",
  handler: async (request: Request) => {
    // Why messages of the batch being delivered failed (the worker wrapper says so before queue() returns).
    if (new URL(request.url).pathname === "/failures") {
      await requestParent({ failures: ((await request.json()) as { failures: unknown }).failures });
      return new Response(null, { status: 204 });
    }
    if (new URL(request.url).pathname === "/send-batch") return sendBatch((await request.json()) as { worker: string; bodies: unknown[]; delaySeconds?: number });
    const { worker, body, delaySeconds } = (await request.json()) as { worker: string; body: unknown; delaySeconds?: number };
    if (!spec.sends.includes(worker)) {
      return new Response(`this Worker has no ${queueBinding(worker)} queue binding (it may send to: ${spec.sends.join(", ") || "none"})`, { status: 400 });
    }
    try {
      return Response.json(await requestParent({ worker, body, delaySeconds }));
    } catch (error) {
      return new Response((error as Error).message, { status: 400 });
    }
  },
};

/** sendBatch() under twelve dev: each body to the broker; one it refuses is reported by its index. */
async function sendBatch({ worker, bodies, delaySeconds }: { worker: string; bodies: unknown[]; delaySeconds?: number }): Promise<Response> {
  if (!spec.sends.includes(worker)) {
    return new Response(`this Worker has no ${queueBinding(worker)} queue binding (it may send to: ${spec.sends.join(", ") || "none"})`, { status: 400 });
  }
  // One request to twelve dev, which hands them to the broker in the order given.
  return Response.json(await requestParent({ worker, bodies, delaySeconds }));
}

const mf = new Miniflare({
  cf: false,
  enableDevRegistry: false,
  host: "127.0.0.1",
  port: spec.port ?? 0,
  handleStructuredLogs: (log) => (log.level === "error" ? console.error : console.log)(log.message),
  workers: [{
    config: {
      name: config.name,
      compatibilityDate: config.compatibility_date,
      compatibilityFlags: config.compatibility_flags,
      manifest: { mainModule: config.main, modules: { [config.main]: { type: "esm", contents: fs.readFileSync(path.join(spec.dir, config.main), "utf8") } } },
      env,
    },
  }],
});
// From here workerd runs: it goes when twelve dev does, even if that is before it is ready.
onParentGone(() => mf.dispose());
await mf.ready;
const worker = await mf.getWorker(config.name);

serveHost({
  // A web Worker counts the requests it serves (runtime/web.ts); asked through workerd itself, past no proxy.
  ...(spec.port !== undefined ? { load: async () => ((await (await worker.fetch("http://twelve-dev/", { headers: { [DEV_IN_FLIGHT_HEADER]: "1" } })).json()) as { inFlight: number }).inFlight } : {}),
  invoke: async (payload) => {
    const call = payload as HostCall;
    if (call.op === "queue") {
      return worker.queue(call.queue, call.messages.map((m) => ({ ...m, timestamp: new Date(m.timestamp) })));
    }
    return worker.scheduled({ cron: call.cron, scheduledTime: new Date(call.scheduledTime) });
  },
});
hostReady();
