import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { adapters } from "../../adapters/index.ts";
import { cloudflareApi } from "../../adapters/cloudflare/client.ts";
import type { DeadLetter, DeadLetters } from "../../src/adapter.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { ClockProcess, Formation, WorkerProcess } from "../../src/formation/types.ts";
import { startCloudflareApi } from "../support/cloudflare-api.ts";
import { removeProject, shopProject } from "../support/project.ts";

// `twelve dlq --stage` on Cloudflare, against the API stand-in: peek reads without leasing or
// counting a delivery, redrive pushes to the worker's queue before it purges, and an
// interruption at any call loses nothing.

const STAGE = "dlqc";
const DLQ = `shop-${STAGE}-mailer-dlq`;
const QUEUE = `shop-${STAGE}-mailer`;

describe("Cloudflare dead letters (twelve dlq --stage)", () => {
  let cf: Awaited<ReturnType<typeof startCloudflareApi>>;
  let dir: string;
  let formation: Formation;
  let letters: DeadLetters;
  let api: ReturnType<typeof cloudflareApi>;
  const mailer = () => formation.processes.find((p) => p.name === "mailer") as WorkerProcess;
  const all = async () => {
    const out: DeadLetter[] = [];
    for await (const letter of letters.list(mailer(), () => {})) out.push(letter);
    return out;
  };
  const held = (name: string) => cf.queueByName(name)?.messages.length ?? 0;
  const id = (name: string) => cf.queueByName(name)!.queue_id;
  /** As Queues moves one (the Worker crashed): the body as sent. */
  const deadByQueues = (n: number) => api.send("POST", `/queues/${id(DLQ)}/messages`, { body: { to: `c${n}@example.com` }, content_type: "json" });
  /** As twelve's worker wrapper moves one on its last attempt: in its envelope, with the error. */
  const deadByTwelve = (n: number) =>
    api.send("POST", `/queues/${id(DLQ)}/messages`, { body: { "twelve:dead-letter": 1, id: `original-${n}`, sentAt: 1764670000000 + n, attempts: 4, error: `no such customer c${n}`, body: { to: `w${n}@example.com` } }, content_type: "json" });

  beforeAll(async () => {
    cf = await startCloudflareApi();
    const env = { ...process.env, CLOUDFLARE_API_TOKEN: "test-token", CLOUDFLARE_ACCOUNT_ID: cf.accountId, CLOUDFLARE_API_BASE_URL: cf.url };
    dir = shopProject();
    ({ formation } = await loadConfig({ cwd: dir, target: "cloudflare", stage: STAGE, adapters }));
    api = cloudflareApi(env, undefined);
    for (const name of [QUEUE, DLQ]) await api.send("POST", "/queues", { queue_name: name });
    letters = (await adapters.cloudflare.connect(formation, STAGE, { env, debug: () => {} })).deadLetters;
  });
  afterAll(async () => {
    await cf?.stop();
    removeProject(dir);
  });
  beforeEach(() => {
    cf.cutWrites(undefined);
    for (const name of [QUEUE, DLQ]) cf.queueByName(name)!.messages.length = 0;
  });

  it("lists without consuming: the same dead letters every time, the envelope's error and attempts unwrapped", async () => {
    await deadByQueues(1);
    await deadByTwelve(2);
    const first = await all();
    expect(first).toEqual([
      { id: expect.any(String), sentAt: expect.any(Number), diedAt: null, attempts: null, body: { to: "c1@example.com" }, error: null },
      { id: "original-2", sentAt: 1764670000002, diedAt: expect.any(Number), attempts: 4, body: { to: "w2@example.com" }, error: "no such customer c2" },
    ]);
    expect(await all()).toEqual(first);
    expect(held(DLQ)).toBe(2);
    const summary = await letters.summary();
    expect(summary.find((s) => s.process === "mailer")).toMatchObject({ count: 2, where: `queue ${DLQ}` });
    expect(summary.find((s) => s.process === "nightly")).toMatchObject({ type: "clock", count: null, note: expect.stringContaining("keeps no failed Cron Trigger runs") });
    expect(await (async () => { const out = []; for await (const l of letters.list(formation.processes.find((p) => p.name === "nightly") as ClockProcess, () => {})) out.push(l); return out; })()).toEqual([]);
  });

  it("redrives by id and all, bodies unwrapped and pushed as JSON, then purged from the dead-letter queue", async () => {
    await deadByQueues(1);
    await deadByTwelve(2);
    await deadByTwelve(3);
    expect(await letters.redrive(mailer(), ["original-3", "nope"], () => {})).toEqual({ redriven: 1, missing: ["nope"] });
    expect(cf.queueByName(QUEUE)!.messages.map((m) => [m.body, m.content_type])).toEqual([[{ to: "w3@example.com" }, "json"]]);
    expect((await all()).map((l) => l.id)).not.toContain("original-3");
    expect(await letters.redrive(mailer(), undefined, () => {})).toEqual({ redriven: 2, missing: [] });
    expect(held(DLQ)).toBe(0);
    expect(cf.queueByName(QUEUE)!.messages.map((m) => m.body)).toEqual([{ to: "w3@example.com" }, { to: "c1@example.com" }, { to: "w2@example.com" }]);
  });

  it("an interrupted redrive loses nothing, whichever call it dies at", async () => {
    for (let cut = 1; cut <= 6; cut++) {
      cf.cutWrites(undefined);
      for (const name of [QUEUE, DLQ]) cf.queueByName(name)!.messages.length = 0;
      for (const n of [1, 2, 3]) await deadByTwelve(n);
      cf.cutWrites(cut);
      const outcome = await letters.redrive(mailer(), undefined, () => {}).then(() => "finished", () => "cut short");
      cf.cutWrites(undefined);
      const bodies = new Set([...cf.queueByName(QUEUE)!.messages.map((m) => JSON.stringify(m.body)), ...(await all()).map((l) => JSON.stringify(l.body))]);
      expect(bodies.size, `cut at write ${cut} (${outcome})`).toBe(3);
    }
  });

  it("redrives and purges a queue longer than one peek, 100 at a time, with progress", async () => {
    for (let i = 0; i < 250; i++) await deadByQueues(i);
    expect(await all()).toHaveLength(100);
    const progress: number[] = [];
    expect((await letters.redrive(mailer(), undefined, (done) => progress.push(done))).redriven).toBe(250);
    expect(progress).toEqual([100, 200, 250]);
    expect(held(QUEUE)).toBe(250);
    for (let i = 0; i < 150; i++) await deadByQueues(i);
    expect((await letters.purge(mailer(), undefined, () => {})).purged).toBe(150);
    expect(held(DLQ)).toBe(0);
  });
});
