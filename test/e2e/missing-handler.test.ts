import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runTwelve } from "../support/cli.ts";
import { freePorts, startTwelveDev, waitFor } from "../support/dev.ts";
import { makeProject, removeProject } from "../support/project.ts";

// A process must export the handler of its type: fetch (web), queue (worker), scheduled
// (clock). Where the entry's text shows it is missing, the build says so; where only running
// it shows (a default export made by a call), twelve dev says so once, does not call the
// process ready, and does not restart it until an edit fixes it.
const config = (processes: string) => `import { defineConfig } from "twelve";
export default defineConfig({
  app: "handlers",
  target: "aws",
  processes: {
${processes}
  },
});
`;

describe("a process without the handler of its type", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeProject));

  it.concurrent.each(["aws", "cloudflare"])("twelve build --target %s refuses it, naming the process, its entry and the export", async (target) => {
    const dir = makeProject({
      "twelve.config.ts": config(
        [
          '    web: { type: "web", entry: "src/web.ts", concurrency: 2 },',
          '    jobs: { type: "worker", entry: "src/jobs.ts", concurrency: 2 },',
          '    tick: { type: "clock", entry: "src/tick.ts", schedule: "0 3 * * *" },',
        ].join("\n"),
      ),
      "src/web.ts": 'import { defineWorker } from "twelve";\nexport default defineWorker(async () => {});\n',
      "src/jobs.ts": 'const app = { fetch: () => new Response("a web process") };\nexport default app;\n',
      "src/tick.ts": "export function scheduled() {}\n",
    });
    dirs.push(dir);
    const result = await runTwelve(["build", "--target", target], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Invalid formation in twelve.config.ts (3 problems):");
    expect(result.stderr).toContain("processes.web.entry: src/web.ts has no fetch handler (its default export has queue, a worker process's handler: is the process's type right?): export default a Hono app or { fetch(request, env, ctx) {} }");
    expect(result.stderr).toContain("processes.jobs.entry: src/jobs.ts has no queue handler (its default export has fetch, a web process's handler: is the process's type right?): export default defineWorker(");
    expect(result.stderr).toContain("processes.tick.entry: src/tick.ts has no default export; export default defineClock(");
    expect(fs.existsSync(path.join(dir, ".twelve", "build"))).toBe(false);
  });

  it.concurrent.each(["aws", "cloudflare"])(
    "twelve dev --target %s: a handler missing at run time is one error, never ready, never restarted; a message waits; saving a fix starts it",
    { timeout: 90_000 },
    async (target) => {
      const dir = makeProject({
        "twelve.config.ts": config(['    web: { type: "web", entry: "web.ts", concurrency: 2 },', '    jobs: { type: "worker", entry: "jobs.ts", concurrency: 2 },'].join("\n")),
        // Made by a call: only loading the module shows what it lacks.
        "web.ts": "const make = () => ({ hello() {} });\nexport default make();\n",
        "jobs.ts": "const make = () => ({ fetch: () => new Response(\"not a worker\") });\nexport default make();\n",
      });
      dirs.push(dir);
      const port = await freePorts(2);
      const dev = startTwelveDev(dir, ["--target", target, "--port", String(port)]);
      try {
        await dev.waitForLine(/warn handlers on \w+: 0 of 2 processes \(web, jobs cannot run: see above\)/, 45_000);
        const sent = await runTwelve(["run", "jobs", '{"n":1}'], { cwd: dir });
        expect(sent.code).toBe(0);
        // Long enough for the restarts a crash gets (250 ms, 500 ms, 1 s) to have happened.
        await new Promise((resolve) => setTimeout(resolve, 2500));
        const errors = dev.lines.filter((l) => l.startsWith("twelve | error")).sort();
        expect(errors).toEqual([
          "twelve | error process jobs: jobs.ts has no queue handler: export default defineWorker(async (body) => {}) or { async queue(batch, env, ctx) {} }; not restarted until a change fixes it (twelve dev rebuilds on save)",
          "twelve | error process web: web.ts has no fetch handler: export default a Hono app or { fetch(request, env, ctx) {} }; not restarted until a change fixes it (twelve dev rebuilds on save)",
        ]);
        // Not ready, not restarted, and the message neither tried nor dead-lettered.
        expect(dev.lines.filter((l) => /ready (web|jobs)|crash|retry|dead-letter/.test(l))).toEqual([]);

        const from = dev.lines.length;
        fs.writeFileSync(path.join(dir, "jobs.ts"), 'import { defineWorker } from "twelve";\nexport default defineWorker(async (body) => console.log("got", JSON.stringify(body)));\n');
        await dev.waitForLine(/jobs +\| got \{"n":1\}/, 30_000, from);
        fs.writeFileSync(path.join(dir, "web.ts"), 'export default { fetch: () => new Response("fixed") };\n');
        await dev.waitForLine(/ready web http:\/\/localhost:\d+/, 30_000, from);
        const answer = await waitFor(async () => {
          const response = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
          return response?.ok ? response.text() : undefined;
        }, 10_000, "web to answer");
        expect(answer).toBe("fixed");
        expect(dev.lines.filter((l) => /jobs +\| got/.test(l))).toHaveLength(1);
      } finally {
        expect(await dev.stop()).toBe(0);
      }
    },
  );
});
