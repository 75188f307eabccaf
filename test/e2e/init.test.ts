import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../src/build/manifest.ts";
import { REPO, runTwelve } from "../support/cli.ts";

describe("twelve init", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-init-"));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it("makes a new app from templates/ that builds for both targets", async () => {
    const result = await runTwelve(["init", "My App", "--target", "cloudflare"], { cwd: root });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Created my-app (cloudflare) in My App: 9 files");
    expect(result.stdout).toContain('cd "My App"');
    expect(result.stdout).toContain("npx twelve dev");
    const app = path.join(root, "My App");
    expect(fs.readdirSync(app).sort()).toEqual([".github", ".gitignore", "README.md", "package.json", "src", "tsconfig.json", "twelve.config.ts"]);
    const config = fs.readFileSync(path.join(app, "twelve.config.ts"), "utf8");
    expect(config).toContain('app: "my-app"');
    expect(config).toContain('target: "cloudflare"');
    const pkg = JSON.parse(fs.readFileSync(path.join(app, "package.json"), "utf8")) as { name: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.name).toBe("my-app");
    // Cloudflare's own packages, at the ranges twelve asks for as peers; no AWS SDK.
    const peers = (JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { peerDependencies: Record<string, string> }).peerDependencies;
    expect(Object.keys(pkg.devDependencies).sort()).toEqual(["miniflare", "typescript", "wrangler"]);
    expect(pkg.devDependencies.wrangler).toBe(peers.wrangler);
    // A checkout of twelve is linked; a released one would be a version range.
    expect(pkg.dependencies.twelve).toBe(`file:${REPO}`);

    // What `npm install` would give it, without the registry.
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(app, "node_modules"), "dir");
    for (const target of ["cloudflare", "aws"]) {
      const build = await runTwelve(["build", "--target", target], { cwd: app });
      expect(build.stderr).toBe("");
      expect(build.code).toBe(0);
      const manifest = JSON.parse(fs.readFileSync(path.join(app, ".twelve/build", target, "manifest.json"), "utf8")) as Manifest;
      expect(manifest.processes.map((p) => `${p.name}:${p.type}:${p.sends.join(",")}`)).toEqual(["web:web:jobs", "jobs:worker:", "nightly:clock:jobs"]);
    }
  });

  it("defaults to aws and the current directory's name", async () => {
    const dir = path.join(root, "shop2");
    fs.mkdirSync(dir);
    const result = await runTwelve(["init"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, "twelve.config.ts"), "utf8")).toMatch(/app: "shop2",\n\s+target: "aws"/);
  });

  it("refuses a directory that is not empty, and leaves it as it was", async () => {
    const dir = path.join(root, "taken");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "notes.txt"), "mine");
    const result = await runTwelve(["init", "taken"], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is not empty; twelve init writes only into a new or empty directory");
    expect(fs.readdirSync(dir)).toEqual(["notes.txt"]);
  });

  it("rejects a bad target and a name that cannot be an app name", async () => {
    const target = await runTwelve(["init", "x-app", "--target", "gcp"], { cwd: root });
    expect(target.code).toBe(2);
    expect(target.stderr).toContain('--target: expected "aws" or "cloudflare", got "gcp"');
    const name = await runTwelve(["init", "123"], { cwd: root });
    expect(name.code).toBe(2);
    expect(name.stderr).toContain('app name "" is not usable');
    expect(name.stderr).toContain("Pass --app NAME.");
    expect(fs.existsSync(path.join(root, "x-app"))).toBe(false);
  });
});
