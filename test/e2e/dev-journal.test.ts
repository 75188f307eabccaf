import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts, startTwelveDev } from "../support/dev.ts";
import { makeProject, removeProject } from "../support/project.ts";
import { startReportServer } from "../support/report-server.ts";

// What twelve dev accepted is never dropped without a word: a journal line it cannot read is
// set aside in a file and reported, and the messages it can read still run. And a send() of a
// value JSON cannot carry fails in the sender, saying what and where, before any message exists.
const CONFIG = (target: string) => `import { defineConfig } from "twelve";
export default defineConfig({
  app: "journal",
  target: "${target}",
  processes: {
    web: { type: "web", entry: "web.ts", concurrency: 2 },
    jobs: { type: "worker", entry: "jobs.ts", concurrency: 2, batchSize: 5, maxRetries: 1 },
  },
  secrets: ["REPORT_URL"],
});
`;
const JOBS = `import { defineWorker } from "twelve";
export default defineWorker(async (body, message, env) => {
  await fetch(env.REPORT_URL as string, { method: "POST", body: JSON.stringify({ process: "jobs", body, attempts: message.attempts }) });
});
`;
const WEB = `import { send } from "twelve";
const cycle = () => { const a: Record<string, unknown> = { n: 1 }; a.self = a; return a; };
const values: Record<string, () => unknown> = {
  bigint: () => ({ order: { total: 10n } }),
  symbol: () => Symbol("x"),
  cycle,
  function: () => ({ callback: () => 1 }),
  map: () => ({ seen: new Map([["a", 1]]) }),
  undefined: () => undefined,
  good: () => ({ n: "good" }),
};
export default { async fetch(request: Request) {
  const kind = new URL(request.url).pathname.slice(1);
  try {
    await send("jobs", values[kind]?.());
    return new Response("sent");
  } catch (error) {
    return new Response(String((error as Error).message), { status: 400 });
  }
} };
`;

const put = (id: string, n: number) => JSON.stringify({ op: "put", id, sentAt: 1, availableAt: 1, attempts: 0, body: { n } });
const BROKEN = `{"op":"put","id":"m2","sentAt":1,"availableAt":1,"attempts":0,"body":{"n":`;

describe.each(["aws", "cloudflare"])("twelve dev on the %s engine, with what JSON and its journal cannot hold", (target) => {
  let reports: Awaited<ReturnType<typeof startReportServer>>;
  let dir: string;
  let dev: ReturnType<typeof startTwelveDev>;
  let port: number;
  beforeAll(async () => {
    reports = await startReportServer();
    // A journal left by an earlier twelve dev: three accepted messages, the middle one's line broken.
    dir = makeProject({
      "twelve.config.ts": CONFIG(target),
      "web.ts": WEB,
      "jobs.ts": JOBS,
      ".twelve/dev/broker/queues/jobs.jsonl": `${put("m1", 1)}\n${BROKEN}\n${put("m3", 3)}\n`,
    });
    port = await freePorts(1);
    dev = startTwelveDev(dir, ["--target", target, "--port", String(port)], { REPORT_URL: reports.url });
    await dev.waitForLine(/ready journal on /, 60_000);
  }, 90_000);
  afterAll(async () => {
    await dev?.stop("SIGKILL");
    await reports?.close();
    removeProject(dir);
  });

  it("sets a journal line it cannot read aside, says how many and where, and runs the messages it can read", async () => {
    const line = await dev.waitForLine(/warn jobs: /);
    const shown = /1 unreadable line in \.twelve\/dev\/broker\/queues\/jobs\.jsonl, set aside in (\.twelve\/dev\/broker\/unreadable\/jobs-[^ ;]+\.jsonl);/.exec(line);
    expect(shown, line).not.toBeNull();
    expect(fs.readFileSync(path.join(dir, shown![1]!), "utf8")).toBe(`${BROKEN}\n`);
    const ran = await reports.waitFor((r) => r.process === "jobs", (seen) => seen.length >= 2);
    expect(ran.map((r) => r.body)).toEqual([{ n: 1 }, { n: 3 }]);
  });

  it("a send() of what JSON cannot carry fails in the sender, naming what and where; nothing is queued", async () => {
    const sent = async (kind: string) => {
      const response = await fetch(`http://127.0.0.1:${port}/${kind}`);
      return `${response.status} ${await response.text()}`;
    };
    expect(await sent("bigint")).toBe('400 send("jobs"): body.order.total is a BigInt, which JSON cannot carry; send it as a string (String(n)) or a number');
    expect(await sent("symbol")).toBe('400 send("jobs"): the body is a Symbol, which JSON cannot carry; send a string instead');
    expect(await sent("cycle")).toBe('400 send("jobs"): the body refers to itself (a cycle), which JSON cannot carry; send a copy without the loop');
    expect(await sent("function")).toBe('400 send("jobs"): body.callback is a function, which JSON cannot carry; send data, not code');
    expect(await sent("map")).toBe('400 send("jobs"): body.seen is a Map, which JSON cannot carry; send Object.fromEntries(map) or [...map] (JSON would make it {})');
    expect(await sent("undefined")).toBe('400 send("jobs"): the body is undefined; send null or a value JSON can carry');
    expect(await sent("good")).toBe("200 sent");
    await reports.waitFor((r) => r.process === "jobs" && (r.body as { n: unknown }).n === "good", (seen) => seen.length === 1);
    expect(reports.reports.filter((r) => r.process === "jobs").map((r) => r.body)).toEqual([{ n: 1 }, { n: 3 }, { n: "good" }]);
  });
});
