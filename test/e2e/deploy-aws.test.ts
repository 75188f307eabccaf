import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, runTwelve } from "../support/cli.ts";
import { awsTestEnv, startMoto, type MotoServer } from "../support/moto.ts";
import { makeProject, removeProject } from "../support/project.ts";

// twelve plan / deploy / destroy as a user runs them, against moto_server.
describe("twelve plan, deploy and destroy on AWS", () => {
  let moto: MotoServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const twelve = (...args: string[]) => runTwelve(args, { cwd: dir, env });

  beforeAll(async () => {
    moto = await startMoto();
    env = { ...awsTestEnv(moto.endpoint), MAIL_API_KEY: "secret-value", CI: "true" };
    const files: Record<string, string> = { "twelve.config.ts": fs.readFileSync(path.join(REPO, "twelve.config.ts"), "utf8") };
    for (const name of fs.readdirSync(path.join(REPO, "examples/shop/src"))) files[`examples/shop/src/${name}`] = fs.readFileSync(path.join(REPO, "examples/shop/src", name), "utf8");
    dir = makeProject(files);
  });
  afterAll(async () => {
    await moto?.stop();
    removeProject(dir);
  });

  it("plan --json lists what deploy would create, and changes nothing", async () => {
    const result = await twelve("plan", "--stage", "ci", "--json");
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout) as { ok: boolean; changes: { action: string; kind: string; name: string }[]; unchanged: number; account: string };
    expect(plan.ok).toBe(true);
    expect(plan.account).toBe("123456789012");
    expect(plan.changes).toHaveLength(13);
    expect(plan.changes.every((c) => c.action === "create")).toBe(true);
    expect(JSON.parse((await twelve("plan", "--stage", "ci", "--json")).stdout).changes).toHaveLength(13);
  });

  it("deploy applies the plan without asking in CI and ends with the web URL; a second deploy changes nothing", async () => {
    const first = await twelve("deploy", "--stage", "ci");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("+ function shop-ci-web");
    expect(first.stdout).toMatch(/^web https:\/\/\S+\.lambda-url\.eu-west-1\.on\.aws/m);
    expect(first.stdout).not.toContain("secret-value");

    const second = JSON.parse((await twelve("deploy", "--stage", "ci", "--json")).stdout) as { changes: unknown[]; calls: { reads: number; writes: number }; urls: Record<string, string> };
    expect(second.changes).toEqual([]);
    expect(second.calls.writes).toBe(0);
    expect(second.urls.web).toMatch(/^https:\/\//);
  });

  it("a missing secret or credential fails before any change, naming what to set", async () => {
    const secret = await runTwelve(["deploy", "--stage", "other"], { cwd: dir, env: { ...env, MAIL_API_KEY: undefined } });
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain("secret MAIL_API_KEY not set in the deploying environment");
    const credentials = await runTwelve(["plan", "--stage", "other"], { cwd: dir, env: { ...env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AWS_PROFILE: "twelve-none", AWS_CONFIG_FILE: "/nonexistent", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent" } });
    expect(credentials.code).toBe(2);
    expect(credentials.stderr).toContain("no AWS credentials");
  });

  it("destroy removes everything of the app and stage", async () => {
    const result = await twelve("destroy", "--stage", "ci", "--yes");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Destroyed shop (ci).");
    const after = JSON.parse((await twelve("plan", "--stage", "ci", "--json")).stdout) as { changes: { action: string }[] };
    expect(after.changes.filter((c) => c.action !== "create")).toEqual([]);
    expect(after.changes).toHaveLength(13);
  });
});
