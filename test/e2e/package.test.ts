import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../support/cli.ts";
import { startCloudflareApi } from "../support/cloudflare-api.ts";
import { freePorts, startTwelveDev, waitFor } from "../support/dev.ts";
import { awsTestEnv, startMoto } from "../support/moto.ts";
import { runProcess, type ProcessResult } from "../support/process.ts";
import { packCheckout, registryEnv, startRegistry, type LocalRegistry } from "../support/registry.ts";
import { cloudflareTestEnv } from "../support/wrangler.ts";

/**
 * twelve as users get it: `npm pack` of this checkout, served by a local registry, then
 * `npx twelve init` and `npm install` in fresh apps in a temporary folder (nothing links to the
 * checkout), and the README's commands run there with the app's own twelve, on both engines.
 */
const TARGETS = ["aws", "cloudflare"] as const;
type Target = (typeof TARGETS)[number];
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string }).version;
/** Node 22 (this one) first on PATH, and none of the checkout's node_modules/.bin. */
const PATH = [path.dirname(process.execPath), ...(process.env.PATH ?? "").split(":").filter((dir) => !dir.startsWith(REPO))].join(":");
const OLD_NODE = "/usr/bin/node";

describe("twelve installed from its packed tarball", () => {
  let root: string;
  let tarball: string;
  let registry: LocalRegistry;
  let env: NodeJS.ProcessEnv;
  const apps = {} as Record<Target, string>;
  let installedBefore: Map<string, string>;

  const run = (command: string, args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}): Promise<ProcessResult> =>
    runProcess(command, args, { cwd, env: { ...env, ...extra } });
  const twelve = (target: Target, args: string[], extra: NodeJS.ProcessEnv = {}) => run(path.join(apps[target], "node_modules", ".bin", "twelve"), args, apps[target], extra);
  const ok = (result: ProcessResult) => {
    if (result.code !== 0) throw new Error(`exit ${result.code}:\n${result.stdout}\n${result.stderr}`);
    return result;
  };

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-package-"));
    env = { ...process.env, PATH, NO_COLOR: "1", CI: "", npm_config_userconfig: path.join(root, "npmrc") };
    // Packing runs the prepack step (tsc into dist/), as `npm publish` would.
    tarball = await packCheckout(root, env);
    registry = await startRegistry([tarball]);
    env = { ...env, ...registryEnv(registry, path.join(root, "npm-cache")) };
    for (const target of TARGETS) {
      ok(await run("npx", [`twelve@${VERSION}`, "init", `${target}-app`, "--target", target], root));
      apps[target] = path.join(root, `${target}-app`);
      // The clock fires every minute, so the test sees it fire by itself.
      const config = path.join(apps[target], "twelve.config.ts");
      fs.writeFileSync(config, fs.readFileSync(config, "utf8").replace('schedule: "0 3 * * *"', 'schedule: "* * * * *"'));
    }
    await Promise.all(TARGETS.map(async (target) => ok(await run("npm", ["install"], apps[target]))));
    installedBefore = snapshot(path.join(apps.aws, "node_modules", "twelve"));
  }, 240_000);

  afterAll(async () => {
    await registry?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it("is JavaScript with .d.ts types beside it, and every entry of its exports map exists with types first", async () => {
    const files = ok(await run("tar", ["-tzf", tarball], root)).stdout.trim().split("\n").map((f) => f.replace(/^package\//, ""));
    const code = files.filter((f) => !f.startsWith("templates/"));
    expect(code.filter((f) => /\.(ts|tsx|mts|cts)$/.test(f) && !f.endsWith(".d.ts"))).toEqual([]);
    expect(code.filter((f) => f.startsWith("dist/src/") && f.endsWith(".js")).length).toBeGreaterThan(40);
    // The command's chunks (scripts/pack.ts) are its own modules, loaded by main.bundle.js and
    // reachable through no entry of the exports map: they have no types to give.
    const chunks = code.filter((f) => /^dist\/src\/cli\/main\.chunk-[A-Z0-9]+\.js$/.test(f));
    expect(chunks.length).toBeGreaterThan(0);
    for (const js of code.filter((f) => f.endsWith(".js") && !chunks.includes(f))) expect(files).toContain(js.replace(/\.js$/, ".d.ts"));
    const manifest = JSON.parse(fs.readFileSync(path.join(apps.aws, "node_modules", "twelve", "package.json"), "utf8")) as {
      exports: Record<string, string | Record<string, string>>;
      engines: { node: string };
    };
    for (const [entry, target] of Object.entries(manifest.exports)) {
      if (typeof target === "string") {
        expect(files, entry).toContain(target.slice(2));
        continue;
      }
      expect(Object.keys(target)[0], `${entry} lists types first`).toBe("types");
      for (const file of Object.values(target)) expect(files, `${entry}: ${file}`).toContain(file.slice(2));
    }
    expect(manifest.engines.node).toBe(">=22.12.0");
  });

  it("init writes a version range that resolves, and each app gets its own platform's packages only", () => {
    for (const target of TARGETS) {
      const pkg = JSON.parse(fs.readFileSync(path.join(apps[target], "package.json"), "utf8")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
      expect(pkg.dependencies.twelve).toBe(`^${VERSION}`);
      expect(pkg.devDependencies.node, "Node 22 runs init: no node package").toBeUndefined();
      expect(fs.existsSync(path.join(apps[target], "node_modules", "twelve", "dist", "src", "cli", "main.js"))).toBe(true);
      expect(symlinksInto(apps[target], REPO), "links into the checkout").toEqual([]);
    }
    const installed = (target: Target, name: string) => fs.existsSync(path.join(apps[target], "node_modules", name, "package.json"));
    expect(installed("aws", "@aws-sdk/client-lambda")).toBe(true);
    expect(installed("aws", "wrangler") || installed("aws", "miniflare") || installed("aws", "workerd")).toBe(false);
    expect(installed("cloudflare", "wrangler") && installed("cloudflare", "miniflare")).toBe(true);
    expect(installed("cloudflare", "@aws-sdk/client-lambda")).toBe(false);
  });

  it("the app type-checks against the installed types, and its process code runs under plain Node", async () => {
    const app = apps.aws;
    // A script that drives twelve through its programmatic API, type-checked with the app.
    fs.writeFileSync(path.join(app, "src", "release.ts"), [
      'import { build, plan, TwelveError } from "twelve/api";',
      'const built = await build({ target: "cloudflare" });',
      'const refused = await plan({ stage: "Not A Stage" }).then(() => 0, (error: unknown) => (error instanceof TwelveError ? error.exitCode : -1));',
      "console.log(JSON.stringify({ target: built.manifest.target, processes: built.manifest.processes.map((p) => p.name), refused }));",
    ].join("\n"));
    ok(await run("npx", ["tsc", "--noEmit"], app));
    const scripted = JSON.parse(ok(await run(process.execPath, ["src/release.ts"], app)).stdout.trim()) as { target: string; processes: string[]; refused: number };
    expect(scripted).toEqual({ target: "cloudflare", processes: ["web", "jobs", "nightly"], refused: 2 });
    fs.rmSync(path.join(app, "src", "release.ts"));
    // A user's own unit test of a worker: plain Node imports "twelve" from node_modules.
    fs.writeFileSync(path.join(app, "src", "jobs.check.ts"), [
      'import jobs from "./jobs.ts";',
      'import { send } from "twelve";',
      "const decided: string[] = [];",
      'const message = { id: "m1", body: { hello: 1 }, attempts: 1, timestamp: new Date(), ack: () => decided.push("ack"), retry: () => decided.push("retry") };',
      'await jobs.queue({ queue: "jobs", messages: [message], ackAll() {}, retryAll() {} }, {}, { waitUntil() {}, passThroughOnException() {} });',
      'const refused = await send("jobs", {}).then(() => "sent", (error: Error) => error.message);',
      "console.log(JSON.stringify({ decided, refused }));",
    ].join("\n"));
    const result = ok(await run(process.execPath, ["src/jobs.check.ts"], app));
    const printed = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}") as { decided: string[]; refused: string };
    expect(printed.decided).toEqual(["ack"]);
    expect(printed.refused).toContain("works only inside a twelve process");
    fs.rmSync(path.join(app, "src", "jobs.check.ts"));
  });

  it("twelve types makes the installed app's send() typed: a wrong name or body fails tsc, naming the worker", async () => {
    const app = apps.aws;
    ok(await twelve("aws", ["types"]));
    expect(fs.readFileSync(path.join(app, "twelve-env.d.ts"), "utf8")).toContain('"jobs": import("twelve").BodyOf<typeof import("./src/jobs.ts").default>;');
    ok(await run("npx", ["tsc", "--noEmit"], app));
    fs.writeFileSync(path.join(app, "src", "wrong.ts"), [
      'import { send, sendBatch } from "twelve";',
      'export const name = () => send("jbos", {});',
      'export const body = () => sendBatch("jobs", [{}, 42]);',
    ].join("\n"));
    try {
      const result = await run("npx", ["tsc", "--noEmit"], app);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toContain(`Argument of type '"jbos"' is not assignable to parameter of type '"jobs"'`);
      expect(result.stdout).toContain(`Type 'number' is not assignable to type 'BodyFor<"jobs", Record<string, unknown>>'`);
    } finally {
      fs.rmSync(path.join(app, "src", "wrong.ts"));
    }
  });

  it("builds for both targets from either app", async () => {
    for (const target of TARGETS) {
      const result = ok(await twelve("aws", ["build", "--target", target, "--json"]));
      const built = JSON.parse(result.stdout) as { manifest: { target: string; processes: { name: string; sends: string[] }[] } };
      expect(built.manifest.target).toBe(target);
      expect(built.manifest.processes.map((p) => `${p.name}:${p.sends.join(",")}`)).toEqual(["web:jobs", "jobs:", "nightly:jobs"]);
    }
  });

  it("twelve dev on both engines: web answers, the worker consumes, the clock fires by itself and by twelve run, an edit reloads", async () => {
    const ports = await freePorts(2);
    await Promise.all(TARGETS.map(async (target, i) => {
      const app = apps[target];
      const port = ports + i;
      const dev = startTwelveDev(app, ["--port", String(port)], { PATH }, path.join(app, "node_modules", "twelve", "bin", "twelve.mjs"));
      try {
        await dev.waitForLine(/ready .* on /, 60_000);
        expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("Hello from twelve!");
        expect((await fetch(`http://127.0.0.1:${port}/jobs`, { method: "POST", body: JSON.stringify({ order: target }) })).status).toBe(202);
        await dev.waitForLine(new RegExp(`jobs +\\| job .*"order":"${target}"`), 20_000);
        const fired = ok(await twelve(target, ["run", "nightly"]));
        expect(fired.stdout).toMatch(/^fired nightly/);
        await dev.waitForLine(/nightly +\| nightly run for/, 20_000);
        const web = path.join(app, "src", "web.ts");
        fs.writeFileSync(web, fs.readFileSync(web, "utf8").replace("Hello from twelve!", "Hello again!"));
        // While it restarts, the port refuses connections, or cuts one mid-answer.
        const served = () => fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()).catch(() => "");
        await waitFor(async () => ((await served()) === "Hello again!" ? true : undefined), 30_000, `${target}: the edited web process`);
        await dev.waitForLine(/reload web \(src\/web\.ts changed\)/, 10_000);
        await dev.waitForLine(/clock nightly fires for/, 70_000);
      } finally {
        expect(await dev.stop()).toBe(0);
      }
    }));
  }, 150_000);

  it("plan, deploy, ps, run and destroy against AWS (moto)", async () => {
    const moto = await startMoto();
    try {
      const aws = awsTestEnv(moto.endpoint);
      const plan = JSON.parse(ok(await twelve("aws", ["plan", "--stage", "ci", "--json"], aws)).stdout) as { changes: { action: string }[] };
      expect(plan.changes.length).toBe(16);
      expect(plan.changes.every((c) => c.action === "create")).toBe(true);
      const deployed = JSON.parse(ok(await twelve("aws", ["deploy", "--stage", "ci", "--yes", "--json"], aws)).stdout) as { urls: Record<string, string>; calls: { writes: number } };
      expect(Object.keys(deployed.urls)).toEqual(["web"]);
      const again = JSON.parse(ok(await twelve("aws", ["deploy", "--stage", "ci", "--yes", "--json"], aws)).stdout) as { calls: { writes: number } };
      expect(again.calls.writes).toBe(0);
      const ps = JSON.parse(ok(await twelve("aws", ["ps", "--stage", "ci", "--json"], aws)).stdout) as { processes: { process: string; deployed: boolean; cap: number | null }[] };
      expect(ps.processes.map((p) => [p.process, p.deployed, p.cap])).toEqual([["web", true, 10], ["jobs", true, 2], ["nightly", true, 1]]);
      ok(await twelve("aws", ["run", "jobs", '{"hello":"deployed"}', "--stage", "ci"], aws));
      ok(await twelve("aws", ["destroy", "--stage", "ci", "--yes"], aws));
      const after = JSON.parse(ok(await twelve("aws", ["plan", "--stage", "ci", "--json"], aws)).stdout) as { unchanged: number; changes: { action: string }[] };
      expect(after.unchanged).toBe(0);
      expect(after.changes.every((c) => c.action === "create")).toBe(true);
    } finally {
      await moto.stop();
    }
  }, 120_000);

  it("plan, deploy, ps and destroy against Cloudflare (the API stand-in, through the app's own wrangler)", async () => {
    const api = await startCloudflareApi();
    const home = fs.mkdtempSync(path.join(root, "cf-home-"));
    try {
      const cf = { ...cloudflareTestEnv(api, home), CI: "" };
      const plan = JSON.parse(ok(await twelve("cloudflare", ["plan", "--stage", "ci", "--json"], cf)).stdout) as { changes: { action: string; kind: string }[] };
      expect(plan.changes.map((c) => c.kind).sort()).toEqual(["consumer", "pull-consumer", "queue", "queue", "worker", "worker", "worker"]);
      const deployed = JSON.parse(ok(await twelve("cloudflare", ["deploy", "--stage", "ci", "--yes", "--json"], cf)).stdout) as { urls: Record<string, string>; calls: { uploads: number } };
      expect(deployed.calls.uploads).toBe(3);
      expect(deployed.urls.web).toMatch(/^https:\/\/cloudflare-app-ci-web\..*\.workers\.dev$/);
      expect([...api.state.scripts.keys()].sort()).toEqual(["cloudflare-app-ci-jobs", "cloudflare-app-ci-nightly", "cloudflare-app-ci-web"]);
      const ps = JSON.parse(ok(await twelve("cloudflare", ["ps", "--stage", "ci", "--json"], cf)).stdout) as { processes: { process: string; deployed: boolean }[] };
      expect(ps.processes.every((p) => p.deployed)).toBe(true);
      ok(await twelve("cloudflare", ["destroy", "--stage", "ci", "--yes"], cf));
      expect(api.state.scripts.size).toBe(0);
    } finally {
      await api.stop();
    }
  }, 120_000);

  it("a command needing the other platform's packages names them and how to install them, exit 2", async () => {
    const dev = await twelve("aws", ["dev", "--target", "cloudflare"]);
    expect(dev.code).toBe(2);
    expect(dev.stderr).toContain("twelve dev --target cloudflare needs miniflare, which is not installed in this app");
    expect(dev.stderr).toMatch(/npm install --save-dev miniflare@\^5\./);
    const deploy = await twelve("cloudflare", ["deploy", "--stage", "ci", "--target", "aws", "--yes"], { AWS_REGION: "eu-west-1" });
    expect(deploy.code).toBe(2);
    expect(deploy.stderr).toContain("deploying to AWS needs @aws-sdk/client-cloudwatch-logs, @aws-sdk/client-iam");
  });

  it.skipIf(!oldNode())(`on an older Node (${OLD_NODE}) without one of its own, twelve says which Node it needs; init gives a new app Node 22`, async () => {
    const bin = path.join(apps.aws, "node_modules", "twelve", "bin", "twelve.mjs");
    const result = await run(OLD_NODE, [bin, "build"], apps.aws, { PATH: "/usr/bin:/bin" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("twelve needs Node 22.12 or newer; this is Node 20");
    expect(result.stderr).toContain("npm install --save-dev node@22");
    const init = await run(OLD_NODE, [bin, "init", "old-node-app"], root, { PATH: "/usr/bin:/bin" });
    expect(init.code).toBe(0);
    expect(init.stdout).toContain("the app gets Node 22 as its node dev dependency");
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "old-node-app", "package.json"), "utf8")) as { devDependencies: Record<string, string> };
    expect(pkg.devDependencies.node).toBe("^22.12.0");
  });

  it("nothing was written inside the installed package", () => {
    expect(snapshot(path.join(apps.aws, "node_modules", "twelve"))).toEqual(installedBefore);
  });
});

/** Every file under `dir` with its size and modification time. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const file of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const stat = fs.lstatSync(path.join(dir, file));
    files.set(file, stat.isDirectory() ? "dir" : `${stat.size}:${stat.mtimeMs}`);
  }
  return files;
}

/** Symbolic links under `dir` that lead into `target`. */
function symlinksInto(dir: string, target: string): string[] {
  const found: string[] = [];
  for (const file of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const full = path.join(dir, file);
    if (fs.lstatSync(full).isSymbolicLink() && fs.realpathSync(full).startsWith(target + path.sep)) found.push(file);
  }
  return found;
}

/** Whether OLD_NODE is a Node older than twelve needs (Debian's Node 20 on these machines). */
function oldNode(): boolean {
  if (!fs.existsSync(OLD_NODE)) return false;
  const version = execFileSync(OLD_NODE, ["-p", "process.versions.node"], { encoding: "utf8" }).trim();
  const [major = 99, minor = 0] = version.split(".").map(Number);
  return major < 22 || (major === 22 && minor < 12);
}
