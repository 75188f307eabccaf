import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { freePorts, startTwelveDev } from "../support/dev.ts";
import { makeProject, removeProject } from "../support/project.ts";
import { startReportServer } from "../support/report-server.ts";

// A worker whose process twelve dev kills (one message ran past its timeout) must not take
// the queue's healthy messages down with it: a batch it never handled, or one cut short by
// another batch's timeout, goes back to the queue with no attempt charged. With maxRetries 0,
// a single wrong charge would put a healthy message in the dead-letter store unrun.
const CONFIG = `import { defineConfig } from "twelve";
export default defineConfig({
  app: "faults",
  target: "aws",
  processes: {
    web: { type: "web", entry: "web.ts", concurrency: 2 },
    jobs: { type: "worker", entry: "jobs.ts", concurrency: 2, batchSize: 1, maxRetries: 0, timeout: 3 },
  },
  secrets: ["REPORT_URL"],
});
`;
const JOBS = `import { defineWorker } from "twelve";
export default defineWorker(async (body: { n: number; hang?: boolean }, message, env) => {
  if (body.hang) await new Promise((resolve) => setTimeout(resolve, 60_000));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await fetch(env.REPORT_URL as string, { method: "POST", body: JSON.stringify({ process: "jobs", n: body.n }) });
});
`;

const WEB = `import { send } from "twelve";
export default { async fetch(request: Request) {
  for (const body of (await request.json()) as unknown[]) await send("jobs", body);
  return new Response("queued", { status: 202 });
} };
`;

describe.each(["aws", "cloudflare"])("twelve dev on the %s engine: a worker killed for a timeout", (target) => {
  let reports: Awaited<ReturnType<typeof startReportServer>>;
  let dir: string;
  let dev: ReturnType<typeof startTwelveDev>;
  let port: number;
  beforeAll(async () => {
    reports = await startReportServer();
    dir = makeProject({ "twelve.config.ts": CONFIG, "web.ts": WEB, "jobs.ts": JOBS });
    port = await freePorts(1);
    dev = startTwelveDev(dir, ["--target", target, "--port", String(port)], { REPORT_URL: reports.url });
    await dev.waitForLine(/ready faults on /, 60_000);
  }, 90_000);
  afterAll(async () => {
    await dev?.stop("SIGKILL");
    await reports?.close();
    removeProject(dir);
  });
  afterEach(() => reports.clear());

  it("charges only the message that hung; every healthy one runs, none is dead-lettered", { timeout: 60_000 }, async () => {
    // All at once, so that healthy messages wait in the queue when the hung one is killed.
    const bodies = [{ n: 0, hang: true }, ...[1, 2, 3, 4, 5, 6].map((n) => ({ n }))];
    expect((await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: JSON.stringify(bodies) })).status).toBe(202);

    const ran = await reports.waitFor((r) => r.process === "jobs", (seen) => new Set(seen.map((r) => r.n)).size === 6, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\ntwelve dev said:\n${dev.lines.join("\n")}`);
    });
    expect(new Set(ran.map((r) => r.n))).toEqual(new Set([1, 2, 3, 4, 5, 6]));
    await dev.waitForLine(/dead-letter jobs message/);
    const deadLetters = fs.readFileSync(path.join(dir, ".twelve", "dev", "broker", "dead-letter", "jobs.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as { body: { n: number }; reason: string });
    expect(deadLetters.map((d) => d.body)).toEqual([{ n: 0, hang: true }]);
    expect(deadLetters[0]?.reason).toContain("timed out after 3 s");
  });
});
