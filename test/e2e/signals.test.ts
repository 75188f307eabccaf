import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { portIsFree } from "../../src/dev/ports.ts";
import { freePorts, startTwelveDev, waitFor } from "../support/dev.ts";
import { alive, descendants } from "../support/proc.ts";
import { makeProject, removeProject } from "../support/project.ts";

// On a Node older than twelve's, the bin re-runs itself with the Node 22 in node_modules/.bin
// (here, the checkout's). The process a user or a process manager signals is the first one:
// every signal must reach the real twelve dev, and its exit status must come back.
const OLD_NODE = "/usr/bin/node";
const oldNode = () => fs.existsSync(OLD_NODE) && Number(execFileSync(OLD_NODE, ["-p", "process.versions.node.split('.')[0]"]).toString()) < 22;

const CONFIG = `import { defineConfig } from "twelve";
export default defineConfig({
  app: "signals",
  target: "aws",
  processes: {
    web: { type: "web", entry: "web.ts", concurrency: 2 },
    jobs: { type: "worker", entry: "jobs.ts", concurrency: 2 },
  },
});
`;

describe.skipIf(!oldNode())(`twelve dev re-run from an older Node (${OLD_NODE})`, () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) removeProject(dir);
  });

  it.each(["SIGTERM", "SIGINT"] as const)("%s to the first process stops the real twelve dev and its children, frees the port, exits 0", { timeout: 60_000 }, async (signal) => {
    dir = makeProject({
      "twelve.config.ts": CONFIG,
      "web.ts": `export default { fetch: () => new Response("up") };\n`,
      "jobs.ts": `export default { async queue() {} };\n`,
    });
    const port = await freePorts(1);
    const dev = startTwelveDev(dir, ["--port", String(port)], {}, undefined, OLD_NODE);
    await dev.waitForLine(/ready signals on aws/, 45_000);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("up");
    const below = descendants(dev.child.pid ?? 0);
    expect(below.length, "the re-run twelve dev and its process children").toBeGreaterThan(1);

    dev.child.kill(signal); // to the first process only, as `kill` or a process manager sends it
    expect(await dev.exited).toBe(0);
    await waitFor(() => below.every((pid) => !alive(pid)) || undefined, 10_000, "every process of twelve dev gone", { detail: () => below.filter(alive).join(", ") });
    expect(await portIsFree(port)).toBe(true);
  });
});
