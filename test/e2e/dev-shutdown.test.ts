import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runTwelve } from "../support/cli.ts";
import { freePorts, startTwelveDev } from "../support/dev.ts";
import { makeProject, removeProject } from "../support/project.ts";

// Ctrl-C gives in-flight work 10 s, then twelve dev ends, whatever its processes are doing:
// a clock run that takes minutes, or every process crash-looping. Under npx one Ctrl-C arrives
// twice (the terminal's and npm's), which must still count as one.
const BOUND_MS = 10_000;
const SLACK_MS = 2_500;

const config = (tick: string) => `import { defineConfig } from "twelve";
export default defineConfig({
  app: "shutdown",
  target: "aws",
  processes: {
    web: { type: "web", entry: "web.ts", concurrency: 2 },
    jobs: { type: "worker", entry: "jobs.ts", concurrency: 2 },
    tick: { type: "clock", entry: "tick.ts", schedule: "${tick}", timeout: 300 },
  },
});
`;
const SLOW_TICK = `import { defineClock } from "twelve";\nexport default defineClock(async () => { await new Promise((resolve) => setTimeout(resolve, 120_000)); });\n`;
// Every handler is there: what is wrong is only the throw, which twelve finds by loading it.
const BROKEN = `throw new Error("broken at import");\nexport default { fetch() {}, queue() {}, scheduled() {} };\n`;

describe("twelve dev's Ctrl-C is bounded", () => {
  let dir: string | undefined;
  let scheduledDir: string | undefined;
  let scheduled: Promise<ReturnType<typeof startTwelveDev>>;
  beforeAll(() => {
    scheduledDir = makeProject({ "twelve.config.ts": config("* * * * *"), "web.ts": `export default { fetch: () => new Response("up") };\n`, "jobs.ts": `export default { async queue() {} };\n`, "tick.ts": SLOW_TICK });
    scheduled = freePorts(1).then((port) => startTwelveDev(scheduledDir as string, ["--port", String(port)]));
  });
  afterEach(() => {
    if (dir) removeProject(dir);
    dir = undefined;
  });
  afterAll(async () => {
    (await scheduled).child.kill("SIGKILL");
    if (scheduledDir) removeProject(scheduledDir);
  });

  const timedStop = async (dev: ReturnType<typeof startTwelveDev>, signals: number) => {
    const started = Date.now();
    for (let i = 0; i < signals; i++) dev.child.kill("SIGINT");
    const code = await dev.exited;
    return { code, ms: Date.now() - started };
  };

  it("with a clock run in flight that would take two minutes", { timeout: 60_000 }, async () => {
    dir = makeProject({ "twelve.config.ts": config("0 0 1 1 *"), "web.ts": `export default { fetch: () => new Response("up") };\n`, "jobs.ts": `export default { async queue() {} };\n`, "tick.ts": SLOW_TICK });
    const dev = startTwelveDev(dir, ["--port", String(await freePorts(1))]);
    await dev.waitForLine(/ready shutdown on aws/, 45_000);
    const run = runTwelve(["run", "tick"], { cwd: dir });
    await dev.waitForLine(/tick fired by twelve run/);
    const { code, ms } = await timedStop(dev, 1);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);
    expect((await run).code).not.toBe(0);
  });

  it("when every process crash-loops, and one Ctrl-C arrives twice", { timeout: 60_000 }, async () => {
    dir = makeProject({ "twelve.config.ts": config("* * * * *"), "web.ts": BROKEN, "jobs.ts": BROKEN, "tick.ts": BROKEN });
    const port = await freePorts(1);
    const dev = startTwelveDev(dir, ["--port", String(port)]);
    await dev.waitForLine(/crash\s+jobs .*restarting in/, 45_000);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const { code, ms } = await timedStop(dev, 2);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);
  });

  // Its twelve dev started in beforeAll, so the wait for its minute overlaps the cases above.
  it("with a scheduled run in flight", { timeout: 120_000 }, async () => {
    const dev = await scheduled;
    await dev.waitForLine(/clock\s+tick/, 65_000);
    const { code, ms } = await timedStop(dev, 1);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);
  });
});
