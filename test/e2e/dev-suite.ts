import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTwelve } from "../support/cli.ts";
import { freePorts, startTwelveDev } from "../support/dev.ts";
import { copyFixture, removeProject } from "../support/project.ts";
import { startReportServer, type Report } from "../support/report-server.ts";
import { waitFor } from "../support/wait.ts";

/**
 * twelve dev as a user runs it: a child process on a fixture app, checked from outside. One
 * file per engine (dev-aws.test.ts, dev-cloudflare.test.ts) so the two run side by side.
 */
export function devSuite(target: "aws" | "cloudflare"): void {
describe(`twelve dev --target ${target}`, () => {
  let dir: string;
  let port: number;
  let reports: Awaited<ReturnType<typeof startReportServer>>;
  let dev: ReturnType<typeof startTwelveDev>;
  const start = () => startTwelveDev(dir, ["--target", target, "--port", String(port)], { REPORT_URL: reports.url });
  const post = (urlPath: string, body: unknown) => fetch(`http://127.0.0.1:${port}${urlPath}`, { method: "POST", body: JSON.stringify(body) });
  const messages = (prefix: string) => reports.reports.filter((r) => r.event === "message" && String(r.id).startsWith(`${prefix}-`));

  beforeAll(async () => {
    dir = copyFixture("dev-app");
    port = await freePorts(2);
    reports = await startReportServer();
    dev = start();
    await dev.waitForLine(/ready devapp on/, 30_000);
  }, 60_000);

  afterAll(async () => {
    await dev?.stop("SIGKILL");
    await reports?.close();
    removeProject(dir);
  });

  it("serves each web process on its own port, counting up from --port", async () => {
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("web version 1");
    expect(await (await fetch(`http://127.0.0.1:${port + 1}/`)).text()).toBe("admin ok");
    expect(dev.lines.join("\n")).toContain(`ready web http://localhost:${port} (cap 2)`);
    expect(dev.lines.join("\n")).toContain(`ready admin http://localhost:${port + 1} (cap 5)`);
  });

  it("gives a request what the platform gives it, and shows a handler's throw with its message", async () => {
    expect(await (await fetch(`http://127.0.0.1:${port}/where`)).json()).toEqual({ country: target === "cloudflare" ? "US" : null });
    expect((await fetch(`http://127.0.0.1:${port}/boom`)).status).toBe(500);
    await dev.waitForLine(/boom from web/, 5_000);
  });

  it("delivers 200 messages to a worker with cap 3: never more than 3 batches at once, every message handled", async () => {
    expect((await post("/enqueue", { prefix: "load", count: 200, sleepMs: 5 })).status).toBe(202);
    await reports.waitFor((r) => r.event === "message" && String(r.id).startsWith("load-"), (m) => new Set(m.map((r) => r.id)).size === 200, 60_000);
    // The most batches ever running at once, from the workers' own start/end reports.
    let running = 0;
    let most = 0;
    const batches = reports.reports.filter((r) => r.process === "jobs" && (r.event === "start" || r.event === "end"));
    for (const r of batches) {
      running += r.event === "start" ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(most).toBe(3);
    expect(Math.max(...batches.filter((r) => r.event === "start").map((r) => r.size as number))).toBeLessThanOrEqual(5);
    expect(messages("load")).toHaveLength(200);
  });

  it("send()s made at once by requests served at the same time all arrive, and each request gets its answer", async () => {
    // Two at once: the web process's cap (on the aws engine a third would get 429, as Lambda throttles).
    const answers = await Promise.all([0, 1].map((r) => post("/enqueue-together", { prefix: `together${r}`, count: 120 })));
    expect(answers.map((a) => a.status)).toEqual([202, 202]);
    await reports.waitFor((m) => m.event === "message" && String(m.id).startsWith("together"), (m) => new Set(m.map((r) => r.id)).size === 240, 30_000);
  });

  it("sendBatch() delivers every body; one body too large for the queue is named, and nothing of that batch is sent", async () => {
    const sent = await post("/enqueue-batch", { prefix: "batched", count: 37 });
    expect([sent.status, await sent.json()]).toEqual([202, { queued: 37 }]);
    await reports.waitFor((r) => r.event === "message" && String(r.id).startsWith("batched-"), (m) => new Set(m.map((r) => r.id)).size === 37, 30_000);
    expect(new Set(messages("batched").map((r) => r.id))).toEqual(new Set(Array.from({ length: 37 }, (_, i) => `batched-${i}`)));

    const refused = await post("/enqueue-batch", { prefix: "refused", count: 12, huge: 4 });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toMatch(/^sendBatch\("jobs"\): bodies\[4\] is 1100\d{3} bytes as JSON; .* at most \d+, nothing was sent$/);
    // Messages sent after it arrive; none of the refused batch does.
    await post("/enqueue-batch", { prefix: "after", count: 3 });
    await reports.waitFor((r) => r.event === "message" && String(r.id).startsWith("after-"), (m) => m.length >= 3, 30_000);
    expect(messages("refused")).toEqual([]);
  });

  it("a message that keeps failing ends in the dead-letter store after maxRetries + 1 attempts", async () => {
    await post("/enqueue", { prefix: "doomed", count: 1, fail: true });
    await dev.waitForLine(/dead-letter jobs message/, 20_000);
    expect(messages("doomed").map((r) => r.attempts)).toEqual([1, 2, 3]);
    const file = path.join(dir, ".twelve/dev/broker/dead-letter/jobs.jsonl");
    // The broker says so as it decides; the line reaches the file with its next write, moments later.
    const text = await waitFor(() => (fs.existsSync(file) && fs.readFileSync(file, "utf8").endsWith("\n") ? fs.readFileSync(file, "utf8") : undefined), 5000, "the dead letter on disk");
    const dead = text.trim().split("\n").map((l) => JSON.parse(l) as { body: { id: string }; attempts: number });
    expect(dead.map((d) => [d.body.id, d.attempts])).toEqual([["doomed-0", 3]]);
  });

  it("twelve dlq lists the dead letters with their error, sends them back, and purges them", async () => {
    const id = `picky-${target}`;
    expect((await runTwelve(["run", "picky", JSON.stringify({ id, customer: "nobody" })], { cwd: dir })).code).toBe(0);
    await dev.waitForLine(/dead-letter picky message/, 20_000);

    const summary = await runTwelve(["dlq", "--json"], { cwd: dir });
    expect(summary.code).toBe(0);
    const rows = (JSON.parse(summary.stdout) as { processes: { process: string; type: string; count: number }[] }).processes;
    expect(rows.find((r) => r.process === "picky")).toMatchObject({ type: "worker", count: 1 });
    expect(rows.find((r) => r.process === "jobs")).toMatchObject({ count: 1 });
    expect((await runTwelve(["dlq"], { cwd: dir })).stdout).toMatch(/picky\s+worker\s+1\s+\d+ s old/);

    // Listing twice changes nothing: not consumed, same attempts.
    const listed = async () => {
      const run = await runTwelve(["dlq", "picky", "--json"], { cwd: dir });
      expect(run.code).toBe(0);
      return (JSON.parse(run.stdout) as { deadLetters: { id: string; attempts: number; error: string; body: { id: string } }[] }).deadLetters;
    };
    const [letter] = await listed();
    expect(letter).toMatchObject({ attempts: 2, body: { id, customer: "nobody" } });
    expect(letter?.error).toContain("no such customer: nobody");
    expect(await listed()).toEqual([letter]);
    const human = await runTwelve(["dlq", "picky"], { cwd: dir });
    expect(human.stdout).toContain("error no such customer: nobody");
    expect(human.stdout).toContain(`"customer": "nobody"`);

    // Back to the queue with a fresh attempt count: it is delivered again as attempt 1.
    const before = reports.reports.filter((r) => r.id === id).length;
    const deadLines = dev.lines.length;
    const redriven = await runTwelve(["dlq", "picky", "--redrive", "--id", letter!.id], { cwd: dir });
    expect(redriven.stdout).toContain("sent 1 dead letter back to picky's queue");
    const again = await reports.waitFor((r) => r.id === id, (m) => m.length >= before + 1);
    expect(again[before]).toMatchObject({ attempts: 1 });
    await dev.waitForLine(/dead-letter picky message/, 20_000, deadLines);

    // Purge asks; with nobody to ask it refuses without --yes, and deletes nothing.
    const refused = await runTwelve(["dlq", "picky", "--purge"], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("needs confirmation");
    expect(await listed()).toHaveLength(1);
    const purged = await runTwelve(["dlq", "picky", "--purge", "--yes"], { cwd: dir });
    expect(purged.stdout).toContain("deleted 1 dead letter of picky");
    expect(await listed()).toEqual([]);

    const unknown = await runTwelve(["dlq", "picky", "--redrive", "--id", "no-such-id"], { cwd: dir });
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain("not found: no-such-id");
  }, 60_000);

  it("a clock runs one at a time: a twelve run while its run is going is skipped at once, and its failed run is listed", async () => {
    let firstDone = false;
    const first = runTwelve(["run", "slow"], { cwd: dir }).finally(() => (firstDone = true));
    await reports.waitFor((r) => r.process === "slow" && r.event === "start", (m) => m.length >= 1);
    const second = await runTwelve(["run", "slow"], { cwd: dir });
    // Answered at once, not after the 6 s run it would otherwise have waited behind.
    expect(firstDone).toBe(false);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/slow did not run: the run for \S+ \(started \d+ s ago\) was still going; one run at a time/);
    const done = await first;
    expect(done.code).toBe(1);
    expect(done.stderr).toContain("slow run failed on purpose");
    expect(dev.lines.join("\n")).toMatch(/clock slow skipped the run for/);
    expect(dev.lines.join("\n")).toMatch(/clock slow ran for .*: failed \(.*slow run failed on purpose\) in \d\.\d s; next 2027-01-01 00:00 UTC/);
    expect(reports.reports.filter((r) => r.process === "slow" && r.event === "start")).toHaveLength(1);

    const failed = JSON.parse((await runTwelve(["dlq", "slow", "--json"], { cwd: dir })).stdout) as { deadLetters: { error: string }[] };
    expect(failed.deadLetters).toHaveLength(1);
    expect(failed.deadLetters[0]?.error).toContain("slow run failed on purpose");
    expect((await runTwelve(["dlq", "slow", "--redrive"], { cwd: dir })).code).toBe(2);
    expect((await runTwelve(["dlq", "slow", "--purge", "--yes"], { cwd: dir })).stdout).toContain("deleted 1 dead letter of slow");
  }, 60_000);

  it("twelve run fires a clock now and sends a message to a worker", async () => {
    const fired = await runTwelve(["run", "tick"], { cwd: dir });
    expect(fired.stdout).toMatch(/^fired tick/);
    expect(fired.code).toBe(0);
    const sent = await runTwelve(["run", "jobs", '{"id":"manual-1"}'], { cwd: dir });
    expect(sent.code).toBe(0);
    await reports.waitFor((r) => r.id === "manual-1", (m) => m.length === 1);
    await reports.waitFor((r) => r.process === "tick", (m) => m.length >= 1);
    const wrong = await runTwelve(["run", "web"], { cwd: dir });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('"web" is a web process: send it HTTP at');
  });

  it("a clock fires by itself within its minute, in its time zone", async () => {
    const tick = (r: Report) => r.process === "tick" && (r.scheduledTime as number) % 60_000 === 0 && (r.at as number) - (r.scheduledTime as number) < 10_000;
    const [run] = await reports.waitFor(tick, (m) => m.length >= 1, 75_000);
    expect(run).toMatchObject({ cron: "* * * * *" });
  }, 90_000);

  it("an edited source file is served after a reload that restarts only that process", async () => {
    const file = path.join(dir, "web.ts");
    const from = dev.lines.length;
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("web version 1", "web version 2"));
    const line = await dev.waitForLine(/reload /, 20_000, from);
    expect(line).toMatch(/reload web \(web\.ts changed\)/);
    await waitFor(async () => ((await (await fetch(`http://127.0.0.1:${port}/`)).text()) === "web version 2" ? true : undefined), 10_000, "the new version");
    expect(await (await fetch(`http://127.0.0.1:${port + 1}/`)).text()).toBe("admin ok");
  });

  it("a change to twelve.config.ts reloads the formation, restarting only the processes whose settings changed", async () => {
    const config = path.join(dir, "twelve.config.ts");
    const from = dev.lines.length;
    fs.writeFileSync(config, fs.readFileSync(config, "utf8").replace('entry: "admin.ts", concurrency: 5', 'entry: "admin.ts", concurrency: 6'));
    const line = await dev.waitForLine(/reload /, 20_000, from);
    expect(line).toMatch(/reload admin \(twelve\.config\.ts changed\)/);
    await dev.waitForLine(/ready admin http:\/\/localhost:\d+ \(cap 6\)/, 20_000, from);
    expect(await (await fetch(`http://127.0.0.1:${port + 1}/`)).text()).toBe("admin ok");
  });

  it.skipIf(target !== "aws")("a worker whose process crashes is restarted and reported; web keeps serving (aws engine only: the worker crashes through Node's process.exit; a Worker runs in workerd, not in a Node process)", async () => {
    const from = dev.lines.length;
    expect((await post("/crash", {})).status).toBe(202);
    await dev.waitForLine(/crash crashy exited with code 3; restarting in \d+ ms/, 20_000, from);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toMatch(/^web version/);
    await dev.waitForLine(/ready crashy/, 20_000, from);
  });

  it.skipIf(target !== "aws")("a web process over its cap answers 429 (aws engine only: Lambda throttles over the cap; Workers have no cap)", async () => {
    const statuses = await Promise.all(Array.from({ length: 5 }, () => fetch(`http://127.0.0.1:${port}/slow`).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
  });

  it("SIGKILL mid-stream, then a restart, loses no accepted message", async () => {
    expect((await post("/enqueue", { prefix: "durable", count: 60, sleepMs: 40 })).status).toBe(202);
    await reports.waitFor((r) => r.event === "message" && String(r.id).startsWith("durable-"), (m) => m.length >= 5, 20_000);
    await dev.stop("SIGKILL");
    dev = start();
    await dev.waitForLine(/ready devapp on/, 30_000);
    const seen = await reports.waitFor((r) => r.event === "message" && String(r.id).startsWith("durable-"), (m) => new Set(m.map((r) => r.id)).size === 60, 60_000);
    expect(new Set(seen.map((r) => r.id)).size).toBe(60);
  }, 120_000);

  it("Ctrl-C stops cleanly with exit status 0", async () => {
    const code = await dev.stop("SIGINT");
    expect(code).toBe(0);
    expect(dev.lines.join("\n")).toContain("stopped; undelivered messages are kept in .twelve/dev/broker");
    expect(fs.existsSync(path.join(dir, ".twelve/dev/server.json"))).toBe(false);
  });
});
}
