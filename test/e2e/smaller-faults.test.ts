import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsProxy } from "../support/aws-proxy.ts";
import { BIN, runTwelve } from "../support/cli.ts";
import { startCloudflareApi } from "../support/cloudflare-api.ts";
import { freePorts, startTwelveDev } from "../support/dev.ts";
import { awsTestEnv, startMoto } from "../support/moto.ts";
import { runProcess } from "../support/process.ts";
import { makeProject, removeProject, shopProject } from "../support/project.ts";
import { startReportServer } from "../support/report-server.ts";
import { cloudflareTestEnv } from "../support/wrangler.ts";

// Issue 14, point 10: the smaller faults, each checked from outside as a user meets it.

describe("one-line errors, not crashes", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeProject));

  it("twelve init FILE says the path is a file (exit 2)", async () => {
    const dir = makeProject({ "taken.txt": "mine\n" });
    dirs.push(dir);
    const result = await runTwelve(["init", "taken.txt"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`error ${path.join(dir, "taken.txt")} is a file; twelve init writes a new app into a new or empty directory\nChoose a directory name that is not taken, e.g. twelve init my-app.\n`);
  });

  it("a .twelve folder twelve may not write names the path and what the system said (exit 1)", async () => {
    const dir = makeProject({ "twelve.config.ts": `export default { app: "readonly", target: "aws", processes: { web: { type: "web", entry: "web.ts" } } };\n`, "web.ts": `export default { fetch: () => new Response("up") };\n` });
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, ".twelve"));
    fs.chmodSync(path.join(dir, ".twelve"), 0o555);
    fs.chmodSync(dir, 0o755);
    // root writes anywhere: run twelve as nobody then, as a user without the permission would.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const result = await runProcess(process.execPath, [BIN, "build"], { cwd: dir, env: { ...process.env, NO_COLOR: "1", HOME: os.tmpdir() }, ...asUser });
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain("crashed");
    expect(result.stderr).toMatch(new RegExp(`^error cannot \\w+ ${path.join(dir, ".twelve").replaceAll("/", "\\/")}\\/\\S+: permission denied \\(EACCES\\)\\n`));
  });
});

describe("destroy --json says where, as plan does", () => {
  it("on AWS: region and account", { timeout: 60_000 }, async () => {
    const moto = await startMoto();
    const proxy = await startAwsProxy(moto.endpoint);
    const dir = shopProject();
    try {
      const result = await runTwelve(["destroy", "--stage", "gone", "--yes", "--json"], { cwd: dir, env: { ...awsTestEnv(proxy.endpoint), MAIL_API_KEY: "x" } });
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, app: "shop", stage: "gone", region: "eu-west-1", account: "123456789012" });
    } finally {
      await proxy.stop();
      await moto.stop();
      removeProject(dir);
    }
  });

  it("on Cloudflare: account", { timeout: 60_000 }, async () => {
    const api = await startCloudflareApi();
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-cf-home-"));
    const dir = shopProject((config) => config.replace('target: "aws"', 'target: "cloudflare"'));
    try {
      const result = await runTwelve(["destroy", "--stage", "gone", "--yes", "--json"], { cwd: dir, env: { ...cloudflareTestEnv(api, home), MAIL_API_KEY: "x" } });
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, app: "shop", stage: "gone", account: api.accountId });
    } finally {
      await api.stop();
      removeProject(dir);
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

const CONFIG = (target: string, extra = "") => `import { defineConfig } from "twelve";
export default defineConfig({
  app: "smaller",
  target: "${target}",
  processes: {
    web: { type: "web", entry: "web.ts", concurrency: 2 },
    jobs: { type: "worker", entry: "jobs.ts", concurrency: 2, batchSize: 1, maxRetries: 2 },
    hangs: { type: "worker", entry: "hangs.ts", concurrency: 2, batchSize: 1, maxRetries: 1, timeout: 2 },
${extra}  },
  secrets: ["REPORT_URL"],
});
`;
const JOBS = `import { defineWorker } from "twelve";
export default defineWorker(async (body: { id: string; sleepMs?: number }, message, env) => {
  const report = (event: string) => fetch(env.REPORT_URL as string, { method: "POST", body: JSON.stringify({ process: "jobs", event, id: body.id, attempts: message.attempts }) });
  await report("start");
  await new Promise((resolve) => setTimeout(resolve, body.sleepMs ?? 0));
  await report("end");
});
`;
const HANGS = `export default { async queue() { await new Promise((resolve) => setTimeout(resolve, 60_000)); } };\n`;
const WEB = `import { send } from "twelve";
export default { async fetch() { await send("jobs", { id: "from-web" }); return new Response("sent"); } };
`;
const LIMITS = { aws: { bytes: 1024 * 1024, setting: "an SQS message (1 MiB)" }, cloudflare: { bytes: 128_000, setting: "a Cloudflare Queues message (128 KB)" } };
/** A message whose JSON is exactly `bytes` long. */
const sized = (bytes: number) => JSON.stringify({ id: "big", pad: "x".repeat(bytes - '{"id":"big","pad":""}'.length) });

describe.each(["aws", "cloudflare"] as const)("twelve dev on the %s engine", (target) => {
  let reports: Awaited<ReturnType<typeof startReportServer>>;
  let dir: string;
  let dev: ReturnType<typeof startTwelveDev>;
  let wrapper: string;
  // In a process group of its own, as a terminal runs a command: Ctrl-C signals that whole group.
  const start = async () => startTwelveDev(dir, ["--target", target, "--port", String(await freePorts(1))], { REPORT_URL: reports.url }, wrapper, "/bin/sh");
  const run = (args: string[], input?: string) => runProcess(process.execPath, [BIN, "run", ...args], { cwd: dir, env: { ...process.env, NO_COLOR: "1" }, ...(input === undefined ? {} : { input }) });
  const jobs = (id: string, event?: string) => reports.reports.filter((r) => r.process === "jobs" && r.id === id && (event === undefined || r.event === event));

  beforeAll(async () => {
    reports = await startReportServer();
    dir = makeProject({ "twelve.config.ts": CONFIG(target), "web.ts": WEB, "jobs.ts": JOBS, "hangs.ts": HANGS });
    wrapper = path.join(dir, "twelve-in-own-group.sh");
    // startTwelveDev runs `<node> <bin> dev ...`: here `sh <wrapper> dev ...`.
    fs.writeFileSync(wrapper, `exec setsid ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`);
    dev = await start();
    await dev.waitForLine(/ready smaller on /, 60_000);
  }, 90_000);
  afterAll(async () => {
    if (dev?.child.pid) {
      try {
        process.kill(-dev.child.pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    await reports?.close();
    removeProject(dir);
  });

  it("twelve run PROCESS - reads the message from stdin", async () => {
    const result = await run(["jobs", "-"], '{"id":"from-stdin"}\n');
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    await reports.waitFor((r) => r.id === "from-stdin" && r.event === "end", (seen) => seen.length === 1);
    const bad = await run(["jobs", "-"], "{not json");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error the message from stdin is not valid JSON: /);
  });

  it(`twelve run refuses a message over ${LIMITS[target].setting}, and takes one of that size`, async () => {
    const { bytes, setting } = LIMITS[target];
    const over = await run(["jobs", "-"], sized(bytes + 1));
    expect(over.code).toBe(2);
    expect(over.stderr).toBe(`error twelve run jobs: the message is ${bytes + 1} bytes as JSON; ${setting} holds at most ${bytes}\n`);
    const fits = await run(["jobs", "-"], sized(bytes));
    expect(fits.code).toBe(0);
    await reports.waitFor((r) => r.id === "big" && r.event === "end", (seen) => seen.length === 1);
  });

  it("a timeout kill says it was the timeout, and each retry says why its attempt failed", { timeout: 30_000 }, async () => {
    const from = dev.lines.length;
    expect((await run(["hangs", "{}"])).code).toBe(0);
    expect(await dev.waitForLine(/crash\s+hangs /, 15_000, from)).toMatch(/crash\s+hangs ran past its 2 s timeout and was killed; restarting in \d+ ms$/);
    expect(await dev.waitForLine(/retry\s+hangs /, 5_000, from)).toMatch(/retry\s+hangs message \S+: attempt 1 failed \(hangs timed out after 2 s; restarting it\); again in 0 s$/);
    const dead = await dev.waitForLine(/dead-letter hangs message \S+: hangs timed out after 2 s; restarting it; delivered 2 times \(maxRetries 1\)/, 15_000, from);
    // Up again before the next case reloads: a process that is not up would be restarted by any reload.
    await dev.waitForLine(/ready\s+hangs /, 15_000, dev.lines.indexOf(dead));
  });

  it("adding a worker starts it and restarts no other process (none sends to it)", async () => {
    const from = dev.lines.length;
    fs.writeFileSync(path.join(dir, "twelve.config.ts"), CONFIG(target, `    audit: { type: "worker", entry: "jobs.ts", concurrency: 2 },\n`));
    expect(await dev.waitForLine(/reload /, 30_000, from)).toMatch(/reload audit \(twelve\.config\.ts changed\)$/);
    expect(dev.lines.slice(from).filter((l) => /ready /.test(l))).toEqual([expect.stringMatching(/ready\s+audit /)]);
  });

  it("Ctrl-C lets a message in flight finish, and it does not run again on the next start", { timeout: 60_000 }, async () => {
    expect((await run(["jobs", '{"id":"slow","sleepMs":3000}'])).code).toBe(0);
    await reports.waitFor((r) => r.id === "slow" && r.event === "start", (seen) => seen.length === 1);
    // What the terminal does on Ctrl-C: SIGINT to every process of the foreground group.
    process.kill(-dev.child.pid!, "SIGINT");
    expect(await dev.exited).toBe(0);
    expect(jobs("slow", "end")).toHaveLength(1);

    dev = await start();
    await dev.waitForLine(/ready smaller on /, 60_000);
    expect((await run(["jobs", '{"id":"after"}'])).code).toBe(0);
    await reports.waitFor((r) => r.id === "after" && r.event === "end", (seen) => seen.length === 1);
    expect(jobs("slow").map((r) => `${r.event} ${r.attempts}`)).toEqual(["start 1", "end 1"]);
  });
});
