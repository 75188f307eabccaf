import { afterEach, describe, expect, it } from "vitest";
import { freePorts, startTwelveDev, waitFor } from "../support/dev.ts";
import { alive, descendants, processTable } from "../support/proc.ts";
import { makeProject, removeProject } from "../support/project.ts";

// twelve dev --target cloudflare runs each Worker in a workerd of its own, started by the
// process's host child. However either of them ends, no workerd may stay behind holding the
// port; and what workerd says when a Worker cannot load must reach the user.

const config = `import { defineConfig } from "twelve";
export default defineConfig({
  app: "wd",
  target: "cloudflare",
  processes: { web: { type: "web", entry: "web.ts", concurrency: 2 } },
});
`;
const WEB = `export default { fetch: () => new Response("up") };\n`;

/** The workerd serving the app twelve dev (`devPid`) runs, and its host (its parent). */
function workerdOf(devPid: number): { workerd: number; host: number } | undefined {
  const table = processTable();
  const workerd = descendants(devPid).find((pid) => /workerd serve/.test(table.get(pid)?.args ?? ""));
  return workerd === undefined ? undefined : { workerd, host: table.get(workerd)?.ppid as number };
}

const up = async (port: number) => (await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()).catch(() => "")) === "up";

describe("twelve dev --target cloudflare's workerd", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) removeProject(dir);
    dir = undefined;
  });

  it("goes when its host is killed outright, and the restarted host serves on the same port", { timeout: 60_000 }, async () => {
    dir = makeProject({ "twelve.config.ts": config, "web.ts": WEB });
    const port = await freePorts(1);
    const dev = startTwelveDev(dir, ["--port", String(port)]);
    try {
      await dev.waitForLine(/ready wd on/, 30_000);
      const first = await waitFor(() => workerdOf(dev.child.pid as number), 5_000, "the web's workerd");
      process.kill(first.host, "SIGKILL");
      await waitFor(() => !alive(first.workerd) || undefined, 5_000, "the killed host's workerd to end");
      await waitFor(async () => (await up(port)) || undefined, 20_000, "the web to serve again");
      expect(workerdOf(dev.child.pid as number)?.workerd).not.toBe(first.workerd);
    } finally {
      await dev.stop("SIGKILL");
    }
  });

  it("goes when twelve dev itself is killed outright, and frees the port", { timeout: 60_000 }, async () => {
    dir = makeProject({ "twelve.config.ts": config, "web.ts": WEB });
    const port = await freePorts(1);
    const dev = startTwelveDev(dir, ["--port", String(port)]);
    await dev.waitForLine(/ready wd on/, 30_000);
    const { workerd } = await waitFor(() => workerdOf(dev.child.pid as number), 5_000, "the web's workerd");
    await dev.stop("SIGKILL");
    await waitFor(() => !alive(workerd) || undefined, 5_000, "workerd to end after twelve dev");
    expect(await up(port)).toBe(false);
  });

  it("shows a Worker's stack frames at their place in its source, as the bundle's source map says", { timeout: 60_000 }, async () => {
    const web = `export default {\n  fetch() {\n    console.error(new Error("traced").stack);\n    return new Response("up");\n  },\n};\n`;
    dir = makeProject({ "twelve.config.ts": config, "web.ts": web });
    const port = await freePorts(1);
    const dev = startTwelveDev(dir, ["--port", String(port)]);
    try {
      await dev.waitForLine(/ready wd on/, 30_000);
      expect(await up(port)).toBe(true);
      const frame = await dev.waitForLine(/at .*web\.ts:\d+:\d+/, 5_000);
      expect(frame).toContain(`${dir}/web.ts:3:`);
      expect(dev.lines.join("\n")).not.toMatch(/index\.js:\d+:\d+/);
    } finally {
      await dev.stop("SIGKILL");
    }
  });

  it("hands a Worker its variables byte for byte: quotes, backslashes, newlines and any script", { timeout: 60_000 }, async () => {
    const value = 'héllo "world"\\n\nzweite Zeile ✓ 日本';
    const withEnv = config.replace('concurrency: 2 } },', `concurrency: 2 } },\n  env: { GREETING: ${JSON.stringify(value)} },`);
    dir = makeProject({ "twelve.config.ts": withEnv, "web.ts": `export default { fetch: (_: Request, env: { GREETING: string }) => new Response(env.GREETING) };\n` });
    const port = await freePorts(1);
    const dev = startTwelveDev(dir, ["--port", String(port)]);
    try {
      await dev.waitForLine(/ready wd on/, 30_000);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe(value);
    } finally {
      await dev.stop("SIGKILL");
    }
  });

  it("says why a Worker could not load: the error its module threw", { timeout: 60_000 }, async () => {
    dir = makeProject({ "twelve.config.ts": config, "web.ts": `throw new Error("broken at import");\n${WEB}` });
    const port = await freePorts(1);
    const dev = startTwelveDev(dir, ["--port", String(port)]);
    try {
      await dev.waitForLine(/broken at import/, 30_000);
    } finally {
      await dev.stop("SIGKILL");
    }
  });
});
