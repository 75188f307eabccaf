import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../src/build/manifest.ts";
import { runTwelve } from "../support/cli.ts";
import { makeProject, removeProject, shopProject } from "../support/project.ts";

// twelve keeps what it read of an app between builds (.twelve/cache/): the compiled config and
// what each source says (its send() calls, its entry's default export). Every build here follows
// a change; what it builds must be what the files say now, never what the cache remembers.

const manifestOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, ".twelve/build/aws/manifest.json"), "utf8")) as Manifest;
const sendsOf = (dir: string) => Object.fromEntries(manifestOf(dir).processes.map((p) => [p.name, p.sends]));

async function build(dir: string, env: NodeJS.ProcessEnv = {}) {
  const result = await runTwelve(["build", "--target", "aws"], { cwd: dir, env });
  return { ...result, output: result.stdout + result.stderr };
}

describe("twelve build, built again after a change", () => {
  let dir: string;
  const nightly = () => path.join(dir, "examples/shop/src/nightly.ts");
  let original: string;

  beforeAll(() => {
    dir = shopProject();
    original = fs.readFileSync(nightly(), "utf8");
  });
  afterAll(() => removeProject(dir));

  it("gives a process the queue it sends to now, and takes away one it no longer sends to", async () => {
    expect((await build(dir)).code).toBe(0);
    expect(sendsOf(dir)).toEqual({ web: ["mailer"], mailer: [], nightly: ["mailer"] });
    expect(fs.existsSync(path.join(dir, ".twelve/cache"))).toBe(true);

    fs.writeFileSync(nightly(), original.replace('await send("mailer", { kind: "daily-digest", date: yesterday });', ""));
    expect((await build(dir)).code).toBe(0);
    expect(sendsOf(dir).nightly).toEqual([]);

    // The text of the first build again: what it says is known, and still right.
    fs.writeFileSync(nightly(), original);
    expect((await build(dir)).code).toBe(0);
    expect(sendsOf(dir).nightly).toEqual(["mailer"]);
  });

  /** With nightly.ts written so, a build and the one after it (from the cache) both fail saying `message`; once it is back, it builds. */
  async function failsAlikeTwice(text: string, message: string) {
    fs.writeFileSync(nightly(), text);
    for (let i = 0; i < 2; i++) {
      const result = await build(dir);
      expect(result.code).toBe(2);
      expect(result.output).toContain(message);
    }
    fs.writeFileSync(nightly(), original);
    expect((await build(dir)).code).toBe(0);
  }

  it("names the same file and line for a send to a worker that does not exist, build after build", async () => {
    await failsAlikeTwice(original.replace('send("mailer"', '\n\nsend("mialer"'), 'send("mialer") at examples/shop/src/nightly.ts:9: no process is named "mialer"');
  });

  it("says an entry lost its handler, build after build, and builds once it is back", async () => {
    await failsAlikeTwice(original.replace("export default defineClock(", "export const nightly = defineClock("), "examples/shop/src/nightly.ts has no default export");
  });

  it("builds as if it had no cache when the cache's files are garbage", async () => {
    const cache = path.join(dir, ".twelve/cache");
    for (const file of fs.readdirSync(cache).filter((f) => f.endsWith(".json"))) fs.writeFileSync(path.join(cache, file), "{not json");
    fs.writeFileSync(nightly(), original.replace('await send("mailer", { kind: "daily-digest", date: yesterday });', ""));
    expect((await build(dir)).code).toBe(0);
    expect(sendsOf(dir)).toEqual({ web: ["mailer"], mailer: [], nightly: [] });
    fs.writeFileSync(nightly(), original);
  });
});

describe("twelve build of a config that imports its settings", () => {
  let dir: string;
  const concurrency = () => manifestOf(dir).processes[0]?.concurrency;

  beforeAll(() => {
    dir = makeProject({
      "twelve.config.ts": [
        'import { defineConfig } from "twelve";',
        'import { settings } from "./settings";',
        'export default defineConfig({ app: "cached", target: "aws", processes: { web: { type: "web", entry: "web.ts", concurrency: settings.concurrency } } });',
      ].join("\n"),
      "settings.js": "export const settings = { concurrency: 5 };\n",
      "web.ts": "export default { fetch: () => new Response('ok') };\n",
    });
  });
  afterAll(() => removeProject(dir));

  it("follows a change to the imported file", async () => {
    expect((await build(dir)).code).toBe(0);
    expect(concurrency()).toBe(5);
    fs.writeFileSync(path.join(dir, "settings.js"), "export const settings = { concurrency: 7 };\n");
    expect((await build(dir)).code).toBe(0);
    expect(concurrency()).toBe(7);
  });

  it("follows an import to the file that now answers it (settings.ts added beside settings.js)", async () => {
    fs.writeFileSync(path.join(dir, "settings.ts"), "export const settings: { concurrency: number } = { concurrency: 9 };\n");
    expect((await build(dir)).code).toBe(0);
    expect(concurrency()).toBe(9);
  });

  it("runs the config each time: what it reads from the environment is read again", async () => {
    fs.writeFileSync(path.join(dir, "settings.ts"), "export const settings = { concurrency: Number(process.env.WEB_CONCURRENCY ?? 9) };\n");
    expect((await build(dir, { WEB_CONCURRENCY: "3" })).code).toBe(0);
    expect(concurrency()).toBe(3);
    expect((await build(dir, { WEB_CONCURRENCY: "4" })).code).toBe(0);
    expect(concurrency()).toBe(4);
  });

  it("says an entry is gone when it went after a build that checked it", async () => {
    expect((await build(dir)).code).toBe(0);
    fs.renameSync(path.join(dir, "web.ts"), path.join(dir, "web.bak"));
    const result = await build(dir);
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/processes\.web\.entry: "web\.ts" (does not exist|is not)/);
    fs.renameSync(path.join(dir, "web.bak"), path.join(dir, "web.ts"));
    expect((await build(dir)).code).toBe(0);
  });

  it("checks a config given another stage for that stage", async () => {
    const result = await runTwelve(["build", "--target", "aws", "--stage", "this-stage-name-is-far-too-long-for-a-lambda-function-name"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).toContain("this-stage-name-is-far-too-long");
  });

  it("keeps a bounded cache for a config whose value is new each run (a build number in its env)", { timeout: 60_000 }, async () => {
    const app = makeProject({
      "twelve.config.ts": 'import { defineConfig } from "twelve";\nexport default defineConfig({ app: "stamped", target: "aws", processes: { web: { type: "web", entry: "web.ts", concurrency: 2 } }, env: { BUILD: process.env.BUILD ?? "" } });\n',
      "web.ts": "export default { fetch: () => new Response('ok') };\n",
    });
    try {
      for (let i = 0; i < 20; i++) expect((await build(app, { BUILD: String(i) })).code).toBe(0);
      expect(manifestOf(app).processes[0]?.env).toEqual({ BUILD: "19" });
      const kept = JSON.parse(fs.readFileSync(path.join(app, ".twelve/cache/formations.json"), "utf8")) as { entries: Record<string, unknown> };
      expect(Object.keys(kept.entries).length).toBeLessThanOrEqual(16);
    } finally {
      removeProject(app);
    }
  });

  it("leaves nothing more behind in Node's compile cache with each build of an unchanged app", async () => {
    const compileCache = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-compile-cache-"));
    try {
      const entries = () => fs.readdirSync(compileCache, { recursive: true }).length;
      for (let i = 0; i < 2; i++) expect((await build(dir, { NODE_COMPILE_CACHE: compileCache })).code).toBe(0);
      const settled = entries();
      for (let i = 0; i < 2; i++) expect((await build(dir, { NODE_COMPILE_CACHE: compileCache })).code).toBe(0);
      expect(entries()).toBe(settled);
    } finally {
      fs.rmSync(compileCache, { recursive: true, force: true });
    }
  });
});
