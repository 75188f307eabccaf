// Runs inside one child process per process of the formation (twelve dev, cloudflare engine):
// the Worker twelve built, in its own workerd (workerd.ts). When twelve dev goes away, however
// it ends, the IPC channel closes and this stops workerd (which would otherwise outlive it and
// keep the port).
import fs from "node:fs";
import http from "node:http";
import { SourceMap } from "node:module";
import path from "node:path";
import { hostReady, onParentGone, requestParent, serveHost } from "../../../src/dev/host-child.ts";
import { queueBinding } from "../../../src/formation/names.ts";
import { DEV_BROKER_BINDING } from "../runtime/send.ts";
import { DEV_CF_BINDING, DEV_IN_FLIGHT_HEADER } from "../runtime/web.ts";
import type { WranglerConfig } from "../wrangler.ts";
import { startWorkerd } from "./workerd.ts";

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

/**
 * What request.cf holds under twelve dev: miniflare's stand-in, which wrangler dev gives offline
 * too, so code that reads request.cf.country runs as it does there (the web wrapper sets it).
 */
const DEV_CF = {
  asOrganization: "", asn: 395747, colo: "DFW", city: "Austin", region: "Texas", regionCode: "TX", metroCode: "635",
  postalCode: "78701", country: "US", continent: "NA", timezone: "America/Chicago", latitude: "30.27130",
  longitude: "-97.74260", clientTcpRtt: 0, httpProtocol: "HTTP/1.1", requestPriority: "weight=192;exclusive=0",
  tlsCipher: "AEAD-AES128-GCM-SHA256", tlsVersion: "TLSv1.3", edgeRequestKeepAliveStatus: 0, clientTrustScore: 99,
};
const config = JSON.parse(fs.readFileSync(path.join(spec.dir, "wrangler.json"), "utf8")) as WranglerConfig;

/**
 * The Worker's output with its stack frames where the bundle's source map says (web.ts:12:7,
 * not index.js:2:1721), as wrangler dev shows them, and Node does for the aws engine.
 */
function mapStacks(bundle: string): (text: string) => string {
  let map: SourceMap;
  try {
    map = new SourceMap(JSON.parse(fs.readFileSync(`${bundle}.map`, "utf8")) as ConstructorParameters<typeof SourceMap>[0]);
  } catch {
    return (text) => text;
  }
  const frame = new RegExp(`\\b${path.basename(bundle).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:(\\d+):(\\d+)\\b`, "g");
  return (text) =>
    text.replace(frame, (whole, line: string, column: string) => {
      const entry = map.findEntry(Number(line) - 1, Number(column) - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
      if (entry.originalSource === undefined || entry.originalLine === undefined || entry.originalColumn === undefined) return whole;
      return `${path.resolve(path.dirname(bundle), entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    });
}
const mapped = mapStacks(path.join(spec.dir, config.main));

/**
 * What the Worker's broker binding asks, as a status and a body: a send(), a sendBatch(), or why
 * messages of the batch being delivered failed (the worker wrapper says so before queue() returns).
 */
async function brokerCall(pathname: string, payload: unknown): Promise<{ status: number; body: string }> {
  if (pathname === "/failures") {
    // Their stacks too as the source map says: they are kept with the dead letters.
    const failures = (payload as { failures: Record<string, { error?: unknown }> }).failures;
    for (const failure of Object.values(failures)) if (typeof failure.error === "string") failure.error = mapped(failure.error);
    await requestParent({ failures });
    return { status: 204, body: "" };
  }
  const { worker } = payload as { worker: string };
  if (!spec.sends.includes(worker)) {
    return { status: 400, body: `this Worker has no ${queueBinding(worker)} queue binding (it may send to: ${spec.sends.join(", ") || "none"})` };
  }
  if (pathname === "/send-batch") {
    // sendBatch(): one request to twelve dev, which hands the bodies to the broker in the order given.
    const { bodies, delaySeconds } = payload as { bodies: unknown[]; delaySeconds?: number };
    return { status: 200, body: JSON.stringify(await requestParent({ worker, bodies, delaySeconds })) };
  }
  const { body, delaySeconds } = payload as { body: unknown; delaySeconds?: number };
  try {
    return { status: 200, body: JSON.stringify(await requestParent({ worker, body, delaySeconds })) };
  } catch (error) {
    return { status: 400, body: (error as Error).message };
  }
}

// The broker binding's other end: the Worker's requests to it come here, over HTTP on 127.0.0.1.
const broker = http.createServer((request, response) => {
  let text = "";
  request.setEncoding("utf8");
  request.on("data", (chunk: string) => (text += chunk));
  request.on("end", () => {
    void (async () => {
      const { pathname } = new URL(request.url ?? "/", "http://twelve-dev");
      const answer = await brokerCall(pathname, JSON.parse(text)).catch((error: unknown) => ({ status: 500, body: String((error as Error)?.message ?? error) }));
      response.writeHead(answer.status, answer.status === 200 ? { "content-type": "application/json" } : { "content-type": "text/plain; charset=utf-8" });
      response.end(answer.body);
    })();
  });
});
await new Promise<void>((resolve) => broker.listen(0, "127.0.0.1", resolve));

const workerd = await startWorkerd({
  name: config.name,
  mainModule: path.join(spec.dir, config.main),
  compatibilityDate: config.compatibility_date,
  compatibilityFlags: config.compatibility_flags ?? [],
  text: { ...spec.variables, ...(spec.port !== undefined ? { [DEV_CF_BINDING]: JSON.stringify(DEV_CF) } : {}) },
  services: { [DEV_BROKER_BINDING]: (broker.address() as { port: number }).port },
  port: spec.port,
  // One write per console call: a stack of several lines stays together.
  log: (level, message) => (level === "error" ? process.stderr : process.stdout).write(`${mapped(message)}\n`),
});
let stopping = false;
onParentGone(async () => {
  stopping = true;
  await workerd.dispose();
  broker.close();
});
// workerd gone on its own (it crashed): this host ends too, and twelve dev says so and restarts it.
void workerd.exited.then(({ code, signal }) => {
  if (stopping) return;
  console.error(`workerd ended (${signal ?? `exit ${code}`})`);
  process.exit(1);
});

serveHost({
  // A web Worker counts the requests it serves (runtime/web.ts); asked through workerd itself, past no proxy.
  ...(spec.port !== undefined ? { load: async () => ((await workerd.fetchJson({ [DEV_IN_FLIGHT_HEADER]: "1" })) as { inFlight: number }).inFlight } : {}),
  invoke: async (payload) => {
    const call = payload as HostCall;
    if (call.op === "queue") return workerd.queue(call.queue, call.messages);
    return workerd.scheduled(call.cron, call.scheduledTime);
  },
});
hostReady();
