import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adapters } from "../../adapters/index.ts";
import { cloudflareApi } from "../../adapters/cloudflare/client.ts";
import { openDeployment } from "../../src/deploy/stage.ts";
import { startCloudflareApi } from "../support/cloudflare-api.ts";
import { ownershipApp } from "../support/ownership-apps.ts";
import { removeProject } from "../support/project.ts";
import { cloudflareTestEnv } from "../support/wrangler.ts";

// The same rule on Cloudflare, against the API stand-in the real wrangler deploys to: a Worker
// is whose its tags say; a queue (no tags) is whose Workers use it. Two apps whose names meet,
// and one whose names start like another's, never take, change or delete each other's.
describe("Cloudflare: a deploy never takes, changes or deletes another app's resources", () => {
  let cf: Awaited<ReturnType<typeof startCloudflareApi>>;
  let home: string;
  const dirs: string[] = [];
  const env = () => ({ ...process.env, ...cloudflareTestEnv(cf, home) });
  const open = async (dir: string, stage: string) => (await openDeployment({ cwd: dir, stage, target: "cloudflare", adapters, env: env() })).deployment;
  const app = (name: string, prefix = "") => {
    const dir = ownershipApp(name, prefix, "cloudflare");
    dirs.push(dir);
    return dir;
  };
  /** Each script's tags and last change, and the queues with their consumers: what another deploy must leave as it is. */
  const snapshot = (prefix: string) => ({
    scripts: [...cf.state.scripts.values()].filter((s) => s.name.startsWith(prefix)).map((s) => [s.name, s.modified_on, [...s.tags]]),
    queues: [...cf.state.queues.values()].filter((q) => q.queue_name.startsWith(prefix)).map((q) => [q.queue_name, q.consumers.map((c) => [c.script_name, c.dead_letter_queue])]),
  });

  beforeAll(async () => {
    cf = await startCloudflareApi();
    home = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-cf-own-"));
  });
  afterAll(async () => {
    await cf?.stop();
    fs.rmSync(home, { recursive: true, force: true });
    for (const dir of dirs) removeProject(dir);
  });

  it("app own-b stage c and app own stage b with processes c-*: the second's deploy is refused before any upload, its destroy leaves the first as it was", async () => {
    const first = app("own-b");
    const second = app("own", "c-");
    await (await open(first, "c")).apply({}, () => {});
    const before = snapshot("own-b-c-");

    expect((await open(second, "b")).plan().changes.filter((c) => c.action !== "create")).toEqual([]);
    const error = (await (await open(second, "b")).apply({}, () => {}).catch((e: unknown) => e)) as Error & { hint?: string };
    expect(error.message).toMatch(/create queue own-b-c-jobs(-dlq)? failed.*: the queue own-b-c-jobs(-dlq)? already exists and is used by the Worker own-b-c-jobs, which is app "own-b" stage "c"'s \(by its tags\), not app "own" stage "b"'s/s);
    expect(error.hint).toMatch(/Rename the process, the app or the stage/);

    await (await open(second, "b")).apply({ destroy: true }, () => {});
    expect(snapshot("own-b-c-")).toEqual(before);
    expect((await open(first, "c")).plan().changes).toEqual([]);
  }, 90_000);

  it("app pre stage x beside app pre-x stage y: the first never reads the second's dead-letter queue or lock as its own", async () => {
    const longer = app("pre-x");
    const shorter = app("pre");
    await (await open(longer, "y")).apply({}, () => {});
    await (await open(shorter, "x")).apply({}, () => {});
    // The longer app's deploy lock, as while it deploys.
    await cloudflareApi(env(), undefined).send("POST", "/queues", { queue_name: "pre-x-y--lock" });
    const before = snapshot("pre-x-y-");
    // pre-x-y-jobs-dlq is used by no Worker but named as a dead-letter queue by pre-x-y-jobs's consumer.
    expect((await open(shorter, "x")).plan().changes).toEqual([]);
    expect((await open(shorter, "x")).plan({ destroy: true }).changes.map((c) => c.name).filter((n) => n.startsWith("pre-x-y-"))).toEqual([]);
    await (await open(shorter, "x")).apply({ destroy: true }, () => {});
    expect(snapshot("pre-x-y-")).toEqual(before);
  }, 90_000);

  it("another app's Worker where this stage's would be, or a working queue where its lock would be: refused, left as they were", async () => {
    const dir = app("lone");
    const theirs = structuredClone([...cf.state.scripts.values()].find((s) => s.name === "pre-x-y-web"));
    if (!theirs) throw new Error("no Worker to copy");
    cf.state.scripts.set("lone-x-web", { ...theirs, name: "lone-x-web", tags: ["twelve-app:someone", "twelve-stage:else"] });
    const before = snapshot("lone-x-web");
    await expect((await open(dir, "x")).apply({}, () => {})).rejects.toThrow(/the Worker lone-x-web already exists and is app "someone" stage "else"'s \(by its tags\), not app "lone" stage "x"'s/);
    expect(snapshot("lone-x-web")).toEqual(before);

    const api = cloudflareApi(env(), undefined);
    const lock = await api.send<{ queue_id: string }>("POST", "/queues", { queue_name: "lone-x--lock" });
    await api.send("POST", `/queues/${lock.queue_id}/consumers`, { type: "worker", script_name: "lone-x-web" });
    await expect((await open(dir, "x")).apply({ destroy: true }, () => {})).rejects.toThrow(/the queue lone-x--lock \(this stage's deploy lock\) already exists and is used by the Worker lone-x-web/);
    expect(cf.queueByName("lone-x--lock")?.consumers).toHaveLength(1);
  }, 90_000);
});
