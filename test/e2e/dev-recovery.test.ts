import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTwelve } from "../support/cli.ts";
import { freePorts, startTwelveDev } from "../support/dev.ts";
import { makeProject, removeProject } from "../support/project.ts";
import { startReportServer } from "../support/report-server.ts";

// twelve dev recovering from broken process code: a process whose module throws at import is
// restarted with backoff, and the edit that fixes it must bring it up, however much was waiting
// for it (a clock's run, a worker's batches holding its whole cap). Supervisor logic: the aws
// engine shows it for both.
const CONFIG = `import { defineConfig } from "twelve";
export default defineConfig({
  app: "recover",
  target: "aws",
  processes: {
    web: { type: "web", entry: "web.ts", concurrency: 2 },
    jobs: { type: "worker", entry: "jobs.ts", concurrency: 2, batchSize: 1, maxRetries: 5 },
    tick: { type: "clock", entry: "tick.ts", schedule: "0 0 1 1 *" },
  },
  secrets: ["REPORT_URL"],
});
`;
const report = (what: string) => `await fetch(process.env.REPORT_URL ?? env.REPORT_URL, { method: "POST", body: JSON.stringify(${what}) });`;
// Every handler is there: what is wrong is only the throw, which twelve finds by loading it.
const BROKEN = `throw new Error("broken at import");\nexport default { fetch() {}, queue() {}, scheduled() {} };\n`;
const TICK = `import { defineClock } from "twelve";\nexport default defineClock(async (controller, env) => { ${report('{ process: "tick", version: 2 }')} });\n`;
const JOBS = `import { defineWorker } from "twelve";\nexport default defineWorker(async (body, message, env) => { ${report('{ process: "jobs", body }')} });\n`;

describe("twelve dev recovers from a process that throws at import", () => {
  let dir: string;
  let reports: Awaited<ReturnType<typeof startReportServer>>;
  let dev: ReturnType<typeof startTwelveDev>;

  beforeAll(async () => {
    reports = await startReportServer();
    dir = makeProject({
      "twelve.config.ts": CONFIG,
      "web.ts": `import { send } from "twelve";\nexport default { async fetch(request: Request) { await send("jobs", await request.json()); return new Response("queued", { status: 202 }); } };\n`,
      "jobs.ts": BROKEN,
      "tick.ts": BROKEN,
    });
    const port = await freePorts(1);
    dev = startTwelveDev(dir, ["--port", String(port)], { REPORT_URL: reports.url });
    await dev.waitForLine(/ready recover on aws/, 60_000);
    for (const n of [1, 2, 3]) expect((await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: JSON.stringify({ n }) })).status).toBe(202);
  }, 90_000);

  afterAll(async () => {
    await dev?.stop("SIGKILL");
    await reports?.close();
    removeProject(dir);
  });

  it("a clock's run waiting for its crashing process is answered once the fix is saved; later edits still reload", async () => {
    await dev.waitForLine(/crash tick failed to start/, 20_000);
    // twelve run waits for the clock's process, which keeps failing to start.
    const fired = runTwelve(["run", "tick"], { cwd: dir });
    await dev.waitForLine(/clock tick fired by twelve run/, 10_000);
    fs.writeFileSync(path.join(dir, "tick.ts"), TICK);
    const result = await fired;
    expect(result.stderr).toBe("");
    await dev.waitForLine(/reload (.*, )?tick(, .*)? \(tick\.ts changed\)/, 30_000);
    expect(result.stdout).toMatch(/^fired tick/);
    await reports.waitFor((r) => r.process === "tick", (m) => m.length === 1, 20_000);
    // The reload finished: the next edit is picked up too.
    const from = dev.lines.length;
    fs.writeFileSync(path.join(dir, "tick.ts"), TICK.replace("version: 2", "version: 3"));
    await dev.waitForLine(/reload (.*, )?tick(, .*)? \(tick\.ts changed\)/, 30_000, from);
  }, 90_000);

  it("a worker's batches waiting for its crashing process, its whole cap of them, all go to the fixed one", async () => {
    await dev.waitForLine(/crash jobs failed to start/, 20_000);
    fs.writeFileSync(path.join(dir, "jobs.ts"), JOBS);
    const handled = await reports.waitFor((r) => r.process === "jobs", (m) => m.length >= 3, 30_000);
    expect(handled.map((r) => (r.body as { n: number }).n).sort()).toEqual([1, 2, 3]);
  }, 60_000);
});
