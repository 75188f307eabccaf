import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WranglerConfig } from "../../adapters/cloudflare/wrangler.ts";
import type { Manifest } from "../../src/build/manifest.ts";
import { runTwelve } from "../support/cli.ts";
import { makeProject, removeProject, shopProject } from "../support/project.ts";
import { runWrangler } from "../support/wrangler.ts";

/** The repository's root formation (the shop example), copied so builds don't touch the checkout. */
const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, "utf8")) as T;
const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
const unzip = (zip: string, name: string): Buffer =>
  execFileSync("python3", ["-c", "import sys,zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))", zip, name]);

describe("twelve build --target aws", () => {
  let dir: string;
  let manifest: Manifest;
  let stdout: string;
  const out = () => path.join(dir, ".twelve/build/aws");

  beforeAll(async () => {
    dir = shopProject();
    const result = await runTwelve(["build", "--target", "aws"], { cwd: dir });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    stdout = result.stdout;
    manifest = readJson<Manifest>(path.join(out(), "manifest.json"));
  });
  afterAll(() => removeProject(dir));

  it("says what it made and how big", () => {
    expect(stdout).toMatch(/twelve build shop → aws \(stage dev, 3 processes\)/);
    for (const name of ["web", "mailer", "nightly"]) expect(stdout).toMatch(new RegExp(`${name}\\s+\\w+\\s+\\.twelve/build/aws/${name}/function\\.zip\\s+[\\d.]+ kB`));
    expect(stdout).toMatch(/Built 3 processes in \d+ ms → \.twelve\/build\/aws\/manifest\.json/);
  });

  it("lists each process with its type, settings, and artifacts whose sha256 and size are the files'", () => {
    expect(manifest).toMatchObject({ manifestVersion: 1, app: "shop", target: "aws", stage: "dev", secrets: ["MAIL_API_KEY"] });
    expect(manifest.processes.map((p) => [p.name, p.type, p.concurrency])).toEqual([["web", "web", 50], ["mailer", "worker", 5], ["nightly", "clock", 1]]);
    for (const p of manifest.processes) {
      expect(Object.keys(p.artifacts).sort()).toEqual(["bundle", "sourcemap", "zip"]);
      for (const artifact of Object.values(p.artifacts)) {
        const file = path.join(out(), artifact.path);
        expect(sha256(file)).toBe(artifact.sha256);
        expect(fs.statSync(file).size).toBe(artifact.bytes);
      }
      const zip = path.join(out(), p.artifacts.zip!.path);
      expect(p.platform.codeSha256).toBe(createHash("sha256").update(fs.readFileSync(zip)).digest("base64"));
      expect(p.platform).toMatchObject({ runtime: "nodejs22.x", handler: "index.handler", architecture: "arm64", memory: 512 });
    }
    expect(manifest.processes.find((p) => p.name === "mailer")).toMatchObject({ batchSize: 10, maxRetries: 3, sends: [], platform: { timeout: 60 } });
    expect(manifest.processes.find((p) => p.name === "nightly")).toMatchObject({
      schedule: "0 3 * * *",
      timezone: "Europe/Berlin",
      sends: ["mailer"],
      platform: { scheduleExpression: "cron(0 3 * * ? *)", scheduleExpressionTimezone: "Europe/Berlin" },
    });
    expect(manifest.processes.find((p) => p.name === "web")!.sends).toEqual(["mailer"]);
  });

  it("zips the bundle that Lambda runs as index.mjs, with a handler export and no build code", async () => {
    const web = manifest.processes.find((p) => p.name === "web")!;
    const zip = path.join(out(), web.artifacts.zip!.path);
    expect(unzip(zip, "index.mjs").equals(fs.readFileSync(path.join(out(), web.artifacts.bundle!.path)))).toBe(true);
    const mod = (await import(path.join(out(), web.artifacts.bundle!.path))) as { handler: unknown };
    expect(typeof mod.handler).toBe("function");
    const code = fs.readFileSync(path.join(out(), web.artifacts.bundle!.path), "utf8");
    expect(code).not.toMatch(/esbuild|zod|@aws-sdk/);
  });

  it("is deterministic: the same sources in another checkout give the same sha256; a change touches one process", async () => {
    const other = shopProject();
    try {
      expect((await runTwelve(["build", "--target", "aws"], { cwd: other })).code).toBe(0);
      const again = readJson<Manifest>(path.join(other, ".twelve/build/aws/manifest.json"));
      expect(again.processes.map((p) => p.platform.codeSha256)).toEqual(manifest.processes.map((p) => p.platform.codeSha256));

      const mailer = path.join(other, "examples/shop/src/mailer.ts");
      fs.writeFileSync(mailer, fs.readFileSync(mailer, "utf8").replace("digest for", "daily digest for"));
      expect((await runTwelve(["build", "--target", "aws"], { cwd: other })).code).toBe(0);
      const changed = readJson<Manifest>(path.join(other, ".twelve/build/aws/manifest.json"));
      const differs = changed.processes.map((p, i) => p.platform.codeSha256 !== manifest.processes[i]!.platform.codeSha256);
      expect(differs).toEqual([false, true, false]);
    } finally {
      removeProject(other);
    }
  });

  it("--json prints the manifest as one JSON document", async () => {
    const result = await runTwelve(["build", "--target", "aws", "--json"], { cwd: dir });
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout) as { ok: boolean; manifest: Manifest; manifestPath: string };
    expect(parsed.ok).toBe(true);
    expect(parsed.manifestPath).toBe(path.join(out(), "manifest.json"));
    expect(parsed.manifest.processes.map((p) => p.platform.codeSha256)).toEqual(manifest.processes.map((p) => p.platform.codeSha256));
  });
});

describe("twelve build --target cloudflare", () => {
  let dir: string;
  let manifest: Manifest;
  const out = () => path.join(dir, ".twelve/build/cloudflare");
  const wrangler = (name: string) => readJson<WranglerConfig>(path.join(out(), name, "wrangler.json"));

  beforeAll(async () => {
    dir = shopProject();
    const result = await runTwelve(["build", "--target", "cloudflare", "--stage", "prod"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("note web: Cloudflare has no cap on concurrent requests; concurrency 50 is not enforced there");
    expect(result.stdout).toContain('note nightly: Cloudflare crons are UTC-only; "0 3 * * *" Europe/Berlin fires at 0 1,2 * * * UTC');
    manifest = readJson<Manifest>(path.join(out(), "manifest.json"));
  });
  afterAll(() => removeProject(dir));

  it("writes one wrangler.json per process with its name, bindings, consumer settings and crons", () => {
    expect(manifest.stage).toBe("prod");
    const web = wrangler("web");
    expect(web).toMatchObject({
      name: "shop-prod-web",
      main: "index.js",
      no_bundle: true,
      compatibility_date: "2026-08-01",
      compatibility_flags: ["nodejs_compat"],
      workers_dev: true,
      vars: { LOG_LEVEL: "info" },
      queues: { producers: [{ binding: "TWELVE_QUEUE_MAILER", queue: "shop-prod-mailer" }] },
      triggers: { crons: [] },
    });
    expect(web.queues?.consumers).toBeUndefined();
    expect(wrangler("mailer")).toMatchObject({
      name: "shop-prod-mailer",
      workers_dev: false,
      queues: { consumers: [{ queue: "shop-prod-mailer", max_batch_size: 10, max_retries: 3, max_concurrency: 5, dead_letter_queue: "shop-prod-mailer-dlq" }] },
    });
    expect(wrangler("mailer").queues?.producers).toEqual([{ binding: "TWELVE_DEAD_LETTERS", queue: "shop-prod-mailer-dlq" }]);
    // 03:00 in Berlin is 01:00 UTC in summer and 02:00 UTC in winter; the Worker runs only the right one.
    expect(wrangler("nightly")).toMatchObject({ name: "shop-prod-nightly", workers_dev: true, triggers: { crons: ["0 1,2 * * *"] } });
  });

  it("every generated wrangler.json passes wrangler deploy --dry-run", async () => {
    const results = await Promise.all(manifest.processes.map((p) => runWrangler(["deploy", "--dry-run", "--config", path.join(out(), p.name, "wrangler.json")])));
    for (const [i, result] of results.entries()) {
      expect(result.stderr, manifest.processes[i]!.name).not.toMatch(/ERROR|WARNING/);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain("--dry-run: exiting now.");
    }
    expect(results[0]!.stdout).toMatch(/env\.TWELVE_QUEUE_MAILER \(shop-prod-mailer\)\s+Queue/);
  });

  it("the bundle is an ES module Worker with the handler its type needs", () => {
    for (const [name, handler] of [["web", "fetch"], ["mailer", "queue"], ["nightly", "scheduled"]] as const) {
      const code = fs.readFileSync(path.join(out(), name, "index.js"), "utf8");
      expect(code).toMatch(/export\s*\{[^}]*as default/);
      expect(code).toContain(handler);
      expect(code).not.toMatch(/node:module|createRequire/);
    }
  });
});
