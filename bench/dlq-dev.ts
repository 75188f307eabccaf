import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { freePort } from "../src/dev/ports.ts";
import { waitFor } from "../test/support/wait.ts";
import { packedTwelve } from "./tools.ts";

const REPO = path.resolve(import.meta.dirname, "..");
const NODE = process.execPath;
const APP = path.join(REPO, "bench/broker-app");

/**
 * Issue 15's dev figures: `twelve dlq` listing and redriving 10,000 dead letters of twelve dev,
 * with twelve dev running (its control API) and without (the store on disk, under its lock),
 * on both engines. The dead letters are written as twelve dev's broker writes them.
 */
export async function benchDlqDev(count = Number(process.env.BENCH_DLQ_COUNT ?? 10_000)): Promise<void> {
  const { bin } = await packedTwelve();
  const twelve = (args: string[]) => {
    const started = performance.now();
    const run = spawnSync(NODE, [bin, ...args], { cwd: APP, encoding: "utf8", maxBuffer: 1 << 30, env: { ...process.env, NO_COLOR: "1", CI: "1" } });
    if (run.status !== 0) throw new Error(`twelve ${args.join(" ")} failed (${run.status}):\n${run.stderr}`);
    return { ms: performance.now() - started, stdout: run.stdout };
  };
  const listed = (stdout: string) => (JSON.parse(stdout) as { deadLetters: unknown[] }).deadLetters.length;

  console.log(`\n## twelve dlq under twelve dev: ${count.toLocaleString("en")} dead letters of one worker`);
  for (const target of ["aws", "cloudflare"]) {
    // Without twelve dev: the CLI opens the store itself.
    writeDeadLetters(count);
    const offline = twelve(["dlq", "sink", "--json", "--target", target]);
    if (listed(offline.stdout) !== count) throw new Error(`listed ${listed(offline.stdout)} of ${count}`);
    const offlineRedrive = twelve(["dlq", "sink", "--redrive", "--target", target]);
    console.log(`  ${target}, twelve dev not running: list ${fmt(offline.ms)}, redrive ${fmt(offlineRedrive.ms)}`);

    // With twelve dev running: through its control API; the redriven messages are then delivered.
    writeDeadLetters(count);
    const delivered = { n: 0 };
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        delivered.n += (JSON.parse(body) as { latencies: number[] }).latencies.length;
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = await freePort();
    const child = spawn(NODE, [bin, "dev", "--target", target, "--port", String(port)], { cwd: APP, env: { ...process.env, NO_COLOR: "1", REPORT_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }, stdio: "ignore", detached: true });
    try {
      await waitFor(() => (fs.existsSync(path.join(APP, ".twelve/dev/server.json")) ? true : undefined), 60_000, "twelve dev's server", { intervalMs: 50 });
      const online = twelve(["dlq", "sink", "--json"]);
      if (listed(online.stdout) !== count) throw new Error(`listed ${listed(online.stdout)} of ${count}`);
      const started = performance.now();
      const redrive = twelve(["dlq", "sink", "--redrive"]);
      await waitFor(() => (delivered.n >= count ? true : undefined), 120_000, `${count} redriven messages delivered`, { intervalMs: 20 });
      console.log(`  ${target}, twelve dev running: list ${fmt(online.ms)}, redrive ${fmt(redrive.ms)} (all ${count.toLocaleString("en")} delivered again after ${fmt(performance.now() - started)})`);
    } finally {
      try {
        process.kill(-child.pid!, "SIGINT");
      } catch {
        // gone already
      }
      await new Promise((resolve) => child.once("exit", resolve));
      server.close();
    }
  }
}

/** `count` dead letters of the worker "sink", in the file and format twelve dev's broker keeps them. */
function writeDeadLetters(count: number): void {
  const dir = path.join(APP, ".twelve/dev/broker");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "dead-letter"), { recursive: true });
  const now = Date.now();
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify({ i, sentAt: now, order: { id: `o-${i}`, items: [{ sku: "tea", quantity: 2 }] } });
    lines.push(`{"id":"dead-${i}","body":${body},"attempts":4,"sentAt":${now - 60_000},"reason":"no such customer; delivered 4 times (maxRetries 3)","error":"no such customer","diedAt":${now}}\n`);
  }
  fs.writeFileSync(path.join(dir, "dead-letter", "sink.jsonl"), lines.join(""));
}

const fmt = (ms: number) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`);
