import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adapters } from "../../adapters/index.ts";
import { cloudflareApi } from "../../adapters/cloudflare/client.ts";
import type { DeadLetter, DeadLetters } from "../../src/adapter.ts";
import { loadConfig } from "../../src/config/load.ts";
import { openDeployment } from "../../src/deploy/stage.ts";
import type { Formation, WorkerProcess } from "../../src/formation/types.ts";
import { startCloudflareApi } from "../support/cloudflare-api.ts";
import { removeProject, shopProject } from "../support/project.ts";
import { cloudflareTestEnv } from "../support/wrangler.ts";

// `twelve dlq --stage` on Cloudflare past peek's first 100: deploy gives each dead-letter queue
// an HTTP pull consumer, and a listing pulls the whole queue through it, releasing every lease
// when it ends. Against the stand-in's pull endpoints (leases, attempts, max_retries), shaped
// as developers.cloudflare.com/queues/configuration/pull-consumers/ documents them.

const STAGE = "pull";
const DLQ = `shop-${STAGE}-mailer-dlq`;

describe("Cloudflare dead letters past the first 100 (HTTP pull)", () => {
  let cf: Awaited<ReturnType<typeof startCloudflareApi>>;
  let dir: string;
  let home: string;
  let formation: Formation;
  let letters: DeadLetters;
  let env: NodeJS.ProcessEnv;
  let api: ReturnType<typeof cloudflareApi>;
  const mailer = () => formation.processes.find((p) => p.name === "mailer") as WorkerProcess;
  const deployment = async () => (await openDeployment({ cwd: dir, stage: STAGE, target: "cloudflare", adapters, env })).deployment;
  const dlq = () => cf.queueByName(DLQ)!;
  const fill = async (n: number) => {
    dlq().messages.length = 0;
    for (let i = 0; i < n; i++) {
      await api.send("POST", `/queues/${dlq().queue_id}/messages`, { body: { "twelve:dead-letter": 1, id: `m${i}`, sentAt: 1764670000000 + i, attempts: 4, error: `failed ${i}`, body: { n: i } }, content_type: "json" });
    }
  };
  const listAll = async (progress: [number, number | null][] = []) => {
    const out: DeadLetter[] = [];
    for await (const letter of letters.list(mailer(), (done, total) => progress.push([done, total]))) out.push(letter);
    return out;
  };
  const pulls = () => cf.calls.filter((c) => c.path.endsWith("/messages/pull")).length;

  beforeAll(async () => {
    cf = await startCloudflareApi();
    home = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-cf-pull-"));
    dir = shopProject();
    env = { ...process.env, ...cloudflareTestEnv(cf, home), MAIL_API_KEY: "k" };
    ({ formation } = await loadConfig({ cwd: dir, target: "cloudflare", stage: STAGE, adapters }));
    api = cloudflareApi(env, undefined);
    letters = (await adapters.cloudflare.connect(formation, STAGE, { env, debug: () => {} })).deadLetters;
  });
  afterAll(async () => {
    await cf?.stop();
    removeProject(dir);
    fs.rmSync(home, { recursive: true, force: true });
  });

  it("deploy gives the dead-letter queue an HTTP pull consumer (Cloudflare's most retries), beside wrangler's Worker consumer of the queue", async () => {
    const first = await deployment();
    const plan = first.plan();
    expect(plan.changes.filter((c) => c.kind === "pull-consumer").map((c) => [c.action, c.name])).toEqual([["create", DLQ]]);
    await first.apply({}, () => {});
    expect(dlq().consumers).toEqual([expect.objectContaining({ type: "http_pull", settings: { batch_size: 100, max_retries: 100, visibility_timeout_ms: 900_000 } })]);
    // wrangler's deploy still set the worker's queue consumer, naming the dead-letter queue.
    expect(cf.queueByName(`shop-${STAGE}-mailer`)!.consumers).toEqual([expect.objectContaining({ type: "worker", script_name: `shop-${STAGE}-mailer`, dead_letter_queue: DLQ })]);
    expect((await deployment()).plan().changes).toEqual([]);
  }, 120_000);

  it("lists 250 dead letters, all of them, with progress, and leaves every one in the queue, in order, none leased", async () => {
    await fill(250);
    const before = pulls();
    const progress: [number, number | null][] = [];
    const listed = await listAll(progress);
    expect(listed.map((l) => l.id)).toEqual(Array.from({ length: 250 }, (_, i) => `m${i}`));
    expect(listed.every((l, i) => l.attempts === 4 && l.error === `failed ${i}`)).toBe(true);
    expect(progress).toEqual([[100, 250], [200, 250], [250, 250]]);
    expect(pulls() - before).toBe(4);
    expect(dlq().messages.map((m) => (m.body as { id: string }).id)).toEqual(listed.map((l) => l.id));
    expect(dlq().messages.filter((m) => m.lease)).toEqual([]);
    // A second listing shows the same: twelve's attempts come from its envelope, not Cloudflare's counter.
    expect(await listAll()).toEqual(listed);
    expect(dlq().messages.every((m) => m.attempts === 2)).toBe(true);
  });

  it("a listing broken off after its first page releases its leases at once", async () => {
    await fill(250);
    let seen = 0;
    for await (const _ of letters.list(mailer(), () => {})) if (++seen === 100) break;
    expect(dlq().messages).toHaveLength(250);
    expect(dlq().messages.filter((m) => m.lease)).toEqual([]);
    expect((await listAll()).length).toBe(250);
  });

  it("a listing that fails half-way releases the leases it took", async () => {
    await fill(250);
    cf.failNext({ method: "POST", pathIncludes: "/messages/pull" }, 400);
    let seen = 0;
    await expect((async () => {
      for await (const _ of letters.list(mailer(), () => {})) seen++;
    })()).rejects.toThrow();
    expect(seen).toBe(0);
    // The second pull fails: the first's 100 leases are released.
    const it = letters.list(mailer(), () => {})[Symbol.asyncIterator]();
    await it.next();
    expect(dlq().messages.filter((m) => m.lease)).toHaveLength(100);
    cf.failNext({ method: "POST", pathIncludes: "/messages/pull" }, 400);
    for (let i = 1; i < 100; i++) await it.next();
    await expect(it.next()).rejects.toThrow();
    expect(dlq().messages.filter((m) => m.lease)).toEqual([]);
    expect(dlq().messages).toHaveLength(250);
  });

  it("a dead letter at its last pull is sent again, not lost: its body, error, attempts and death time kept", async () => {
    await fill(150);
    const diedAt = Date.parse(dlq().messages[5]!.sent_on);
    dlq().messages[5]!.attempts = 99;
    const listed = await listAll();
    expect(listed).toHaveLength(150);
    expect(dlq().messages).toHaveLength(150);
    const again = dlq().messages.find((m) => (m.body as { id: string }).id === "m5")!;
    expect(again.attempts ?? 0).toBe(0);
    expect(again.body).toMatchObject({ id: "m5", attempts: 4, error: "failed 5", body: { n: 5 }, diedAt });
    expect(again.visibleAt).toBeGreaterThan(Date.now());
    // Once visible, listings show it with its first death time.
    again.visibleAt = 0;
    expect((await listAll()).find((l) => l.id === "m5")).toMatchObject({ diedAt, attempts: 4 });
  });

  it("plan shows the pull consumer when it is gone, deploy puts it back, destroy removes it", async () => {
    const consumer = dlq().consumers[0]!;
    await api.send("DELETE", `/queues/${dlq().queue_id}/consumers/${consumer.consumer_id}`);
    const plan = (await deployment()).plan();
    expect(plan.changes.map((c) => [c.action, c.kind, c.name])).toEqual([["create", "pull-consumer", DLQ]]);
    await api.send("POST", `/queues/${dlq().queue_id}/consumers`, { type: "http_pull", settings: { batch_size: 100, max_retries: 5, visibility_timeout_ms: 900_000 } });
    const drift = (await deployment()).plan();
    expect(drift.changes).toEqual([expect.objectContaining({ action: "update", kind: "pull-consumer", name: DLQ, fields: [{ field: "maxRetries", from: 5, to: 100 }] })]);
    await (await deployment()).apply({}, () => {});
    expect(dlq().consumers).toEqual([expect.objectContaining({ type: "http_pull", settings: expect.objectContaining({ max_retries: 100 }) })]);
    dlq().messages.length = 0;
    const destroy = await deployment();
    expect(destroy.plan({ destroy: true }).changes.filter((c) => c.kind === "pull-consumer").map((c) => [c.action, c.name])).toEqual([["delete", DLQ]]);
    await destroy.apply({ destroy: true }, () => {});
    expect(cf.calls.some((c) => c.method === "DELETE" && /\/consumers\//.test(c.path) && c.status === 200)).toBe(true);
    expect(cf.queueByName(DLQ)).toBeUndefined();
  }, 120_000);

  it("the stand-in refuses pull and ack on a queue without an HTTP pull consumer, in Cloudflare's envelope", async () => {
    const q = await api.send<{ queue_id: string }>("POST", "/queues", { queue_name: "no-pull-here" });
    await expect(api.send("POST", `/queues/${q.queue_id}/messages/pull`, { batch_size: 10 })).rejects.toThrow(/no HTTP pull consumer/);
    await expect(api.send("POST", `/queues/${q.queue_id}/messages/ack`, { acks: [] })).rejects.toThrow(/no HTTP pull consumer/);
  });
});
