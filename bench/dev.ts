import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { freePort } from "../src/dev/ports.ts";
import { waitFor } from "../test/support/wait.ts";
import { packedTwelve, ratio } from "./tools.ts";

const REPO = path.resolve(import.meta.dirname, "..");
const NODE = process.execPath;
const HELLO = path.join(REPO, "bench/hello");
const WRANGLER_ENV = { WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", CLOUDFLARE_CF_FETCH_ENABLED: "false", HOME: "/tmp/twelve-bench-home", CI: "true" };

/**
 * issue 3's figures, in one run: HTTP requests per second through twelve dev against the same
 * Hono app on @hono/node-server (aws engine) and against wrangler dev (cloudflare engine, with
 * the time from start to the first 200); the broker's throughput and send→handler latency.
 */
export async function benchDev(options: { wrk: boolean; seconds: number }): Promise<void> {
  if (!options.wrk) throw new Error("this bench needs wrk (apt-get install wrk)");
  const { bin: twelve } = await packedTwelve();
  spawnSync(NODE, [twelve, "build", "--target", "cloudflare"], { cwd: HELLO });

  const results: [string, number, number | undefined][] = [];
  const measure = async (name: string, command: string[], cwd: string, env: NodeJS.ProcessEnv, port: number) => {
    const started = performance.now();
    const child = spawn(command[0]!, command.slice(1), { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, stdio: "ignore", detached: true });
    try {
      const firstOk = await firstOkAfter(`http://127.0.0.1:${port}/`, started, 60_000);
      const rps = wrk(`http://127.0.0.1:${port}/`, options.seconds);
      results.push([name, rps, firstOk]);
    } finally {
      await stop(child);
    }
  };

  const ports = await Promise.all([0, 1, 2, 3].map(() => freePort()));
  await measure("twelve dev (aws engine)", [NODE, twelve, "dev", "--port", String(ports[0])], HELLO, {}, ports[0]!);
  await measure("@hono/node-server", [NODE, path.join(HELLO, "node-server.ts"), String(ports[1])], HELLO, {}, ports[1]!);
  await measure("twelve dev --target cloudflare", [NODE, twelve, "dev", "--target", "cloudflare", "--port", String(ports[2])], HELLO, {}, ports[2]!);
  await measure(
    "wrangler dev (same bundle)",
    [NODE, path.join(REPO, "node_modules/wrangler/bin/wrangler.js"), "dev", "--config", path.join(HELLO, ".twelve/build/cloudflare/web/wrangler.json"), "--ip", "127.0.0.1", "--port", String(ports[3]), "--show-interactive-dev-session=false", "--log-level", "error"],
    HELLO,
    WRANGLER_ENV,
    ports[3]!,
  );

  console.log(`\n## dev HTTP: hello-world Hono app, wrk -t1 -c50 -d${options.seconds}s`);
  for (const [name, rps, firstOk] of results) console.log(`  ${name.padEnd(34)} ${rps.toFixed(0).padStart(8)} req/s   start to first 200: ${firstOk?.toFixed(0) ?? "?"} ms`);
  const get = (name: string) => results.find((r) => r[0] === name)!;
  console.log(`  twelve dev (aws) / @hono/node-server: ${ratio(get("twelve dev (aws engine)")[1], get("@hono/node-server")[1])}   (aim: at least 0.8x)`);
  console.log(`  twelve dev (cloudflare) / wrangler dev: ${ratio(get("twelve dev --target cloudflare")[1], get("wrangler dev (same bundle)")[1])} req/s, ${ratio(get("twelve dev --target cloudflare")[2]!, get("wrangler dev (same bundle)")[2]!)} time to first 200`);

  await benchBrokers();
}

/** issue 18's broker figures: both engines with send() and sendBatch(), miniflare's queue() for comparison, and SQS calls as deployed. */
export async function benchBrokers(): Promise<void> {
  const rates: Record<string, number> = {};
  for (const target of ["aws", "cloudflare"]) for (const mode of ["send", "batch"] as const) rates[`${target} ${mode}`] = await benchBroker(target, 5000, { mode });
  const ceiling = await miniflareQueueCeiling(5, 10);
  console.log(`\n## broker summary (aim: 5,000 messages/s end to end)`);
  for (const [name, rate] of Object.entries(rates)) console.log(`  ${name.padEnd(18)} ${rate.toFixed(0).padStart(6)} messages/s`);
  // What a harness on miniflare reaches (twelve dev's cloudflare engine was one until it drove workerd itself).
  console.log(`  miniflare's own queue() of a no-op consumer, batches of 10, 5 at once: ${ceiling.toFixed(0)} messages/s; cloudflare send / it: ${ratio(rates["cloudflare send"]!, ceiling)}`);
  await sqsCallsPer1000();
}

/** Messages a second through miniflare's Fetcher.queue() alone: `concurrency` calls at once of `batch` messages, to a consumer that acks them. */
async function miniflareQueueCeiling(concurrency: number, batch: number): Promise<number> {
  const { Miniflare } = await import("miniflare");
  const mf = new Miniflare({
    cf: false,
    workers: [{ config: { name: "ceiling", compatibilityDate: "2025-01-01", manifest: { mainModule: "ceiling.mjs", modules: { "ceiling.mjs": { type: "esm", contents: "export default { async queue(batch) { for (const m of batch.messages) m.ack(); } }" } } } } }],
  });
  try {
    const worker = await mf.getWorker("ceiling");
    const messages = (n: number) => Array.from({ length: batch }, (_, i) => ({ id: `m${n}-${i}`, timestamp: new Date(), body: { i, sentAt: Date.now() }, attempts: 1 }));
    for (let i = 0; i < 50; i++) await worker.queue("q", messages(i));
    const calls = 1000;
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < calls) await worker.queue("q", messages(next++));
    }));
    return (calls * batch) / ((performance.now() - started) / 1000);
  } finally {
    await mf.dispose();
  }
}

/**
 * SQS calls per 1,000 messages as deployed: the AWS bundle's own send transport (runtime/send.ts)
 * against a local endpoint that counts the calls and answers as SQS does.
 */
async function sqsCallsPer1000(): Promise<void> {
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const action = String(req.headers["x-amz-target"]).replace("AmazonSQS.", "");
      calls.push(action);
      const input = JSON.parse(body) as { Entries?: { Id: string }[] };
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
      res.end(JSON.stringify(action === "SendMessageBatch" ? { Successful: input.Entries?.map((e) => ({ Id: e.Id, MessageId: e.Id })), Failed: [] } : { MessageId: "m" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "bench", AWS_SECRET_ACCESS_KEY: "bench", AWS_ENDPOINT_URL_SQS: endpoint, TWELVE_QUEUE_SINK: `${endpoint}/000000000000/bench-sink` });
  try {
    const { installSqsTransport } = await import("../adapters/aws/runtime/send.ts");
    const { send, sendBatch } = await import("../src/runtime/send.ts");
    installSqsTransport({ app: "bench", process: "web", type: "web", entry: "web.ts", workers: ["sink"], envKeys: [] });
    const bodies = Array.from({ length: 1000 }, (_, i) => ({ i }));
    const count = async (what: string, run: () => Promise<unknown>) => {
      calls.length = 0;
      await run();
      console.log(`  ${what.padEnd(40)} ${String(calls.length).padStart(5)} calls (${[...new Set(calls)].join(", ")})`);
    };
    console.log(`\n## SQS calls per 1,000 messages sent, as deployed (the AWS bundle's send transport)`);
    await count("send() one at a time (each awaited)", async () => {
      for (const body of bodies) await send("sink", body);
    });
    await count("send() of all at once (Promise.all)", () => Promise.all(bodies.map((body) => send("sink", body))));
    await count("sendBatch() of all", () => sendBatch("sink", bodies));
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    server.close();
  }
}

/**
 * Messages per second end to end with a no-op worker, and send→handler latency. `watch`, when
 * given, opens something on twelve dev's dashboard (its URL) for the run and returns how to close it.
 */
export async function benchBroker(target: string, count: number, options: { mode?: "send" | "batch"; watch?: (dashboard: string) => Promise<() => Promise<void>> } = {}): Promise<number> {
  const { mode = "send", watch } = options;
  const { bin: twelve } = await packedTwelve();
  const latencies: number[] = [];
  let last = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const report = JSON.parse(body) as { latencies: number[]; at: number };
      latencies.push(...report.latencies);
      last = Math.max(last, report.at);
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const reportUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const port = await freePort();
  const app = path.join(REPO, "bench/broker-app");
  spawnSync("rm", ["-rf", path.join(app, ".twelve/dev/broker")]);
  // twelve dev's own output, to read when something goes wrong.
  const logFile = path.join(os.tmpdir(), `twelve-bench-broker-${target}.log`);
  const log = fs.openSync(logFile, "w");
  const child = spawn(NODE, [twelve, "dev", "--target", target, "--port", String(port)], { cwd: app, env: { ...process.env, REPORT_URL: reportUrl, NO_COLOR: "1" }, stdio: ["ignore", log, log], detached: true });
  try {
    await firstOkAfter(`http://127.0.0.1:${port}/`, performance.now(), 60_000, { method: "POST", body: JSON.stringify({ count: 1 }) }).catch((error: Error) => {
      throw new Error(`${error.message}; twelve dev said:\n${fs.readFileSync(logFile, "utf8")}`);
    });
    // Reports arrive only while twelve dev runs: a crash ends the wait instead of hanging it.
    const gone = () => (child.exitCode !== null ? `twelve dev exited with code ${child.exitCode}; its output is in ${logFile}` : undefined);
    const reported = (atLeast: number, timeoutMs: number, intervalMs: number) =>
      waitFor(() => (latencies.length >= atLeast ? true : undefined), timeoutMs, `${atLeast} latency reports`, { intervalMs, gone });
    await reported(1, 10_000, 20);
    const info = JSON.parse(fs.readFileSync(path.join(app, ".twelve/dev/server.json"), "utf8")) as { url: string };
    const unwatch = watch ? await watch(`${info.url}/_twelve`) : undefined;
    latencies.length = 0;
    const start = Date.now();
    // Ten requests of count/10: one Workers invocation may make at most 1000 subrequests.
    const responses = await Promise.all(Array.from({ length: 10 }, () => fetch(`http://127.0.0.1:${port}/${mode === "batch" ? "batch" : ""}`, { method: "POST", body: JSON.stringify({ count: count / 10 }) })));
    for (const r of responses) if (r.status !== 202) throw new Error(`enqueue failed: ${r.status} ${await r.text()}`);
    await reported(count, 120_000, 20);
    const seconds = (last - start) / 1000;
    await unwatch?.();
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))];
    const how = mode === "batch" ? "sendBatch() of 1/10 of them in each of 10 requests" : "send() of each, 10 requests sending at once";
    console.log(`\n## broker under twelve dev --target ${target}${watch ? " (dashboard open)" : ""}: ${count} messages by web (${how}), no-op worker (cap 5, batches of 10)`);
    console.log(`  ${(count / seconds).toFixed(0)} messages/s end to end (${seconds.toFixed(2)} s); send→handler latency p50 ${pct(50)} ms, p99 ${pct(99)} ms (includes waiting behind the backlog)`);
    // One message at a time: the broker's own latency, without a backlog.
    const single: number[] = [];
    for (let i = 0; i < 50; i++) {
      const before = latencies.length;
      await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: JSON.stringify({ count: 1 }) });
      await reported(before + 1, 10_000, 1);
      single.push(latencies.at(-1)!);
    }
    single.sort((a, b) => a - b);
    console.log(`  one message at a time (50 runs): send→handler latency p50 ${single[25]} ms, p99 ${single[49]} ms`);
    return count / seconds;
  } finally {
    await stop(child);
    server.close();
  }
}

function wrk(url: string, seconds: number): number {
  const out = spawnSync("wrk", ["-t1", "-c50", `-d${seconds}s`, url], { encoding: "utf8" });
  const match = /Requests\/sec:\s+([\d.]+)/.exec(out.stdout);
  if (!match) throw new Error(`wrk gave no figure:\n${out.stdout}${out.stderr}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out.stdout);
  if (non2xx) console.log(`  note: ${non2xx[1]} responses to ${url} were not 2xx`);
  return Number(match[1]);
}

async function firstOkAfter(url: string, started: number, timeoutMs: number, init?: RequestInit): Promise<number> {
  let last = "no answer";
  const ok = async (): Promise<true | undefined> => {
    try {
      const response = await fetch(url, init);
      if (response.ok) return true;
      last = `${response.status} ${(await response.text()).slice(0, 300)}`;
    } catch (error) {
      last = String((error as Error).cause ?? error); // not listening yet, most likely
    }
    return undefined;
  };
  await waitFor(ok, timeoutMs, `a 200 from ${url}`, { intervalMs: 20, detail: () => `last answer: ${last}` });
  return performance.now() - started;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  try {
    process.kill(-child.pid!, "SIGINT");
  } catch {
    child.kill("SIGINT");
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone
    }
  }, 15_000);
  await gone;
  clearTimeout(timer);
}
